/**
 * The logger interface cohort writes through. Silent by default: a library never prints unless
 * asked. Pass any object with these four methods (pino and winston loggers fit with a thin
 * adapter), or `consoleLogger()` while developing.
 */

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** What cohort needs from a logger. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Log levels in increasing severity. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const noop = () => {};

/** A logger that drops everything (the default). */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/**
 * A logger that writes one line per entry to stderr, from `level` up.
 *
 * @example
 * const node = await Node.start({ logger: consoleLogger('debug') });
 */
export function consoleLogger(level: LogLevel = 'info', bindings: LogFields = {}): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const write = (lvl: Exclude<LogLevel, 'silent'>) =>
    LOG_LEVELS.indexOf(lvl) < min
      ? noop
      : (message: string, fields?: LogFields) => {
          const extra = { ...bindings, ...fields };
          const tail = Object.keys(extra).length > 0 ? ` ${safeJson(extra)}` : '';
          process.stderr.write(`[cohort] ${lvl} ${message}${tail}\n`);
        };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A logger that adds `bindings` to every entry of `logger`. */
export function childLogger(logger: Logger, bindings: LogFields): Logger {
  if (logger === silentLogger) return logger;
  return {
    debug: (m, f) => logger.debug(m, { ...bindings, ...f }),
    info: (m, f) => logger.info(m, { ...bindings, ...f }),
    warn: (m, f) => logger.warn(m, { ...bindings, ...f }),
    error: (m, f) => logger.error(m, { ...bindings, ...f }),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Error ? { name: v.name, message: v.message } : v,
    );
  } catch {
    return '[unserialisable fields]';
  }
}
