/** A logger that records every line, for tests that assert what was logged. */
import type { LogFields, Logger } from '../../src/core/logger.js';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields?: LogFields;
}

/** A logger whose `lines` hold everything logged, in order. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
