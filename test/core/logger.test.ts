import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { LOG_LEVELS, childLogger, consoleLogger, silentLogger, type Logger } from '../../src/core/logger.js';

let stderr: MockInstance<typeof process.stderr.write>;
let stdout: MockInstance<typeof process.stdout.write>;

beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

const lines = () => stderr.mock.calls.map((c) => String(c[0]));

describe('silentLogger', () => {
  it('silentLogger — writes nothing at any level', () => {
    const log = vi.spyOn(console, 'log');
    const error = vi.spyOn(console, 'error');
    silentLogger.debug('d', { a: 1 });
    silentLogger.info('i');
    silentLogger.warn('w');
    silentLogger.error('e', { err: new Error('x') });
    expect(stderr).not.toHaveBeenCalled();
    expect(stdout).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
    expect(Object.isFrozen(silentLogger)).toBe(true);
  });
});

describe('consoleLogger', () => {
  it('consoleLogger — defaults to info: drops debug, writes info, warn and error', () => {
    const log = consoleLogger();
    log.debug('dbg');
    log.info('hello');
    log.warn('careful');
    log.error('bad');
    expect(lines()).toEqual(['[cohort] info hello\n', '[cohort] warn careful\n', '[cohort] error bad\n']);
    expect(stdout).not.toHaveBeenCalled();
  });

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ] as const)('consoleLogger — level %s writes %j', (level, expected) => {
    const log = consoleLogger(level);
    log.debug('m');
    log.info('m');
    log.warn('m');
    log.error('m');
    expect(lines().map((l) => l.split(' ')[1])).toEqual(expected);
  });

  it('consoleLogger — appends bindings and fields as JSON, fields winning', () => {
    const log = consoleLogger('debug', { node: 'a@h:1', x: 1 });
    log.info('started', { x: 2, port: 4369 });
    expect(lines()).toEqual(['[cohort] info started {"node":"a@h:1","x":2,"port":4369}\n']);
  });

  it('consoleLogger — serialises bigint and Error fields, and survives circular ones', () => {
    const log = consoleLogger('debug');
    log.warn('odd', { big: 10n, err: new TypeError('nope') });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.error('loop', { circular });
    expect(lines()).toEqual([
      '[cohort] warn odd {"big":"10n","err":{"name":"TypeError","message":"nope"}}\n',
      '[cohort] error loop [unserialisable fields]\n',
    ]);
  });

  it('LOG_LEVELS — are ordered by severity', () => {
    expect(LOG_LEVELS).toEqual(['debug', 'info', 'warn', 'error', 'silent']);
  });
});

describe('childLogger', () => {
  const recorder = () => {
    const entries: { level: string; message: string; fields: unknown }[] = [];
    const make =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        entries.push({ level, message, fields });
      };
    const logger: Logger = { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
    return { logger, entries };
  };

  it('childLogger — adds its bindings to every entry at every level', () => {
    const { logger, entries } = recorder();
    const child = childLogger(logger, { component: 'gossip' });
    child.debug('d');
    child.info('i', { a: 1 });
    child.warn('w');
    child.error('e');
    expect(entries).toEqual([
      { level: 'debug', message: 'd', fields: { component: 'gossip' } },
      { level: 'info', message: 'i', fields: { component: 'gossip', a: 1 } },
      { level: 'warn', message: 'w', fields: { component: 'gossip' } },
      { level: 'error', message: 'e', fields: { component: 'gossip' } },
    ]);
  });

  it('childLogger — per-call fields override bindings; nested children merge outer to inner', () => {
    const { logger, entries } = recorder();
    const child = childLogger(childLogger(logger, { node: 'a', component: 'x' }), { component: 'y' });
    child.info('m', { extra: true });
    child.info('n', { component: 'z' });
    expect(entries[0]?.fields).toEqual({ node: 'a', component: 'y', extra: true });
    expect(entries[1]?.fields).toEqual({ node: 'a', component: 'z' });
  });

  it('childLogger — of the silent logger is the silent logger itself', () => {
    expect(childLogger(silentLogger, { a: 1 })).toBe(silentLogger);
  });

  it('childLogger — of a console logger writes its bindings', () => {
    const child = childLogger(consoleLogger('info'), { component: 'pool' });
    child.info('ready');
    child.debug('hidden');
    expect(lines()).toEqual(['[cohort] info ready {"component":"pool"}\n']);
  });
});
