import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import { CohortError } from '../../../src/core/errors.js';
import { fileDiscovery, parsePeerFile, type FileDiscoveryOptions } from '../../../src/cluster/discovery/file.js';
import { thrown } from '../../helpers/errors.js';
import { recordingLogger } from '../../helpers/logger.js';

/**
 * Retries `fn` until it stops throwing, for at most `timeoutMs` of real time, then throws its last
 * error. The one kind of waiting these tests do: for fs.watch events and file I/O to land.
 */
async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (performance.now() >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let dir: string;
let file: string;
const stops: (() => void)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cohort-discovery-'));
  file = join(dir, 'peers');
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await rm(dir, { recursive: true, force: true });
});

/** Replaces the peers file atomically (temp file + rename), so a reader sees old or new content, never half. */
async function replace(content: string): Promise<void> {
  const temp = join(dir, `.peers.${Math.random().toString(36).slice(2)}`);
  await writeFile(temp, content);
  await rename(temp, file);
}

/** Starts watching and records, at each call, what the file held then (or null when missing). */
function watchFile(options: Omit<FileDiscoveryOptions, 'path'>) {
  const discovery = fileDiscovery({ path: file, ...options });
  const seen: (string | null)[] = [];
  const stop = discovery.watch!(() => {
    let content: string | null = null;
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      content = null;
    }
    seen.push(content);
  });
  stops.push(stop);
  return { discovery, seen, stop };
}

describe('fileDiscovery — reading', () => {
  it('file — one address per line, with comments, blank lines, CRLF and a BOM', async () => {
    await writeFile(
      file,
      '\uFEFF# cohort peers\r\napp2@10.0.0.2:4369\r\n\r\n   10.0.0.3:4369   # no name known\n[fd00::4]:4369\n#10.0.0.9:1\n',
    );
    const discovery = fileDiscovery({ path: file });
    expect(discovery.name).toBe('file');
    expect(await discovery.resolve()).toEqual([
      { name: 'app2', host: '10.0.0.2', port: 4369 },
      { host: '10.0.0.3', port: 4369 },
      { host: 'fd00::4', port: 4369 },
    ]);
  });

  it('file — a JSON array of strings and { host, port, name? } objects, comments allowed', async () => {
    await writeFile(file, '# generated\n[\n  "app2@10.0.0.2:4369",\n  { "host": "::1", "port": 7, "name": "local" },\n  "[fd00::4]:1" # v6\n]\n');
    expect(await fileDiscovery({ path: file }).resolve()).toEqual([
      { name: 'app2', host: '10.0.0.2', port: 4369 },
      { host: '::1', port: 7, name: 'local' },
      { host: 'fd00::4', port: 1 },
    ]);
  });

  it('file — a first line like [::1]:4369 is an address, not JSON', async () => {
    await writeFile(file, '[::1]:4369\n[::2]:4369\n');
    expect(await fileDiscovery({ path: file }).resolve()).toEqual([
      { host: '::1', port: 4369 },
      { host: '::2', port: 4369 },
    ]);
  });

  it('file — a bad line is skipped and logged with its line number; the rest is used', async () => {
    const logger = recordingLogger();
    await writeFile(file, '10.0.0.1:1\n10.0.0.2\n::1:4369\n10.0.0.3:3\n');
    expect(await fileDiscovery({ path: file, logger }).resolve()).toEqual([
      { host: '10.0.0.1', port: 1 },
      { host: '10.0.0.3', port: 3 },
    ]);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings.map((w) => w.fields?.line)).toEqual([2, 3]);
    expect(warnings[0]!.fields).toMatchObject({ path: file, entry: '"10.0.0.2"', error: expect.stringMatching(/missing ':port'/) });
  });

  it('file — a bad JSON entry is skipped and logged with its index', async () => {
    const logger = recordingLogger();
    await writeFile(file, JSON.stringify(['10.0.0.1:1', 42, { host: 'h', port: 0 }, 'h:2']));
    expect(await fileDiscovery({ path: file, logger }).resolve()).toEqual([
      { host: '10.0.0.1', port: 1 },
      { host: 'h', port: 2 },
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn').map((w) => w.fields?.index)).toEqual([1, 2]);
  });

  it('file — duplicates are removed', async () => {
    await writeFile(file, '10.0.0.1:1\nA@10.0.0.1:1\n10.0.0.1:1\n');
    expect(await fileDiscovery({ path: file }).resolve()).toEqual([{ host: '10.0.0.1', port: 1, name: 'A' }]);
  });

  it('file — an empty file, or one with only comments, is an empty list', async () => {
    await writeFile(file, '');
    expect(await fileDiscovery({ path: file }).resolve()).toEqual([]);
    await writeFile(file, '# nobody yet\n\n');
    expect(await fileDiscovery({ path: file }).resolve()).toEqual([]);
  });

  it('file — a missing file or directory is an empty list, not an error', async () => {
    expect(await fileDiscovery({ path: file }).resolve()).toEqual([]);
    expect(await fileDiscovery({ path: join(dir, 'no', 'such', 'file') }).resolve()).toEqual([]);
  });

  it('file — JSON that does not parse rejects with UNAVAILABLE (the caller keeps what it had)', async () => {
    await writeFile(file, '["10.0.0.1:1", ');
    const discovery = fileDiscovery({ path: file });
    await expect(discovery.resolve()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/looks like a JSON array but does not parse/),
      details: { reason: 'DISCOVERY_FAILED' },
    });
  });

  it('file — an unreadable path (a directory) rejects with UNAVAILABLE and the cause', async () => {
    await mkdir(file);
    const error = await fileDiscovery({ path: file }).resolve().then(
      () => undefined,
      (e: unknown) => e as CohortError,
    );
    expect(error).toBeInstanceOf(CohortError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', details: { errno: 'EISDIR' } });
    expect((error!.cause as { code?: string }).code).toBe('EISDIR');
  });

  it('file — an aborted signal rejects with ABORTED', async () => {
    await writeFile(file, '10.0.0.1:1\n');
    const controller = new AbortController();
    controller.abort();
    await expect(fileDiscovery({ path: file }).resolve(controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('file — parsePeerFile reports where each skipped entry was', () => {
    const skipped: { at: number; line: boolean }[] = [];
    const out = parsePeerFile('# x\n\nbad\n10.0.0.1:1\n', 'peers', (s) => skipped.push({ at: s.at, line: s.line }));
    expect(out).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(skipped).toEqual([{ at: 3, line: true }]);
  });

  it.each<[string, unknown, RegExp]>([
    ['no path', {}, /path must be a non-empty string/],
    ['an empty path', { path: '' }, /path must be a non-empty string/],
    ['pollMs 0', { path: 'x', pollMs: 0 }, /pollMs must be/],
    ['pollMs Infinity', { path: 'x', pollMs: Infinity }, /pollMs must be/],
    ['fsWatch as a string', { path: 'x', fsWatch: 'yes' }, /fsWatch must be a boolean/],
    ['an unknown option', { path: 'x', poll: 5 }, /unknown option 'poll'/],
    ['a string instead of options', '/etc/peers', /needs an options object/],
  ])('file — refuses %s with INVALID_OPTION', (_label, options, why) => {
    const error = thrown(() => fileDiscovery(options as FileDiscoveryOptions));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(why);
  });
});

describe('fileDiscovery — watching with fs.watch', () => {
  // The manual clock never advances here, so polling never runs: only fs.watch can report.

  it('file — writing new content fires onChange, and resolve returns the new list', async () => {
    await writeFile(file, '10.0.0.1:1\n');
    const { discovery, seen } = watchFile({ clock: new ManualClock() });
    await writeFile(file, '10.0.0.1:1\n10.0.0.2:2\n');
    await eventually(() => expect(seen).toContain('10.0.0.1:1\n10.0.0.2:2\n'));
    expect(await discovery.resolve()).toEqual([
      { host: '10.0.0.1', port: 1 },
      { host: '10.0.0.2', port: 2 },
    ]);
  });

  it('file — an atomic replace (write a temp file, rename it over) fires onChange', async () => {
    await writeFile(file, '10.0.0.1:1\n');
    const { discovery, seen } = watchFile({ clock: new ManualClock() });
    const temp = join(dir, '.peers.tmp');
    await writeFile(temp, 'app3@10.0.0.3:3\n');
    await rename(temp, file);
    await eventually(() => expect(seen).toContain('app3@10.0.0.3:3\n'));
    expect(await discovery.resolve()).toEqual([{ name: 'app3', host: '10.0.0.3', port: 3 }]);
  });

  it('file — deleting the file fires onChange and resolve gives []; recreating it fires again', async () => {
    await writeFile(file, '10.0.0.1:1\n');
    const { discovery, seen } = watchFile({ clock: new ManualClock() });
    await unlink(file);
    await eventually(() => expect(seen).toContain(null));
    expect(await discovery.resolve()).toEqual([]);
    await writeFile(file, '10.0.0.4:4\n');
    await eventually(() => expect(seen).toContain('10.0.0.4:4\n'));
    expect(await discovery.resolve()).toEqual([{ host: '10.0.0.4', port: 4 }]);
  });

  it('file — changes to other files in the directory do not fire onChange', async () => {
    await writeFile(file, '10.0.0.1:1\n');
    const { seen } = watchFile({ clock: new ManualClock() });
    await writeFile(join(dir, 'unrelated'), 'x');
    await writeFile(join(dir, 'peers.next'), '10.0.0.5:5\n');
    await rename(join(dir, 'peers.next'), file);
    // Events are handled in order, so once the peers change is seen, the unrelated one was handled too.
    await eventually(() => expect(seen).toContain('10.0.0.5:5\n'));
    expect(seen.every((content) => content === '10.0.0.5:5\n')).toBe(true);
  });
});

describe('fileDiscovery — watching by polling on the injected clock', () => {
  it('file — polling sees a change after pollMs, once, and resolve returns the new list', async () => {
    // Replaced atomically: an in-place write (truncate, then write) may rightly be seen as two changes.
    const clock = new ManualClock();
    await writeFile(file, '10.0.0.1:1\n');
    const { discovery, seen } = watchFile({ clock, pollMs: 500, fsWatch: false });
    await clock.advance(500);
    await clock.advance(500);
    await replace('10.0.0.9:9\n');
    await clock.advance(500);
    // A spurious call from the unchanged polls before the write would have recorded the old content first.
    await eventually(() => expect(seen).toEqual(['10.0.0.9:9\n']));
    expect(await discovery.resolve()).toEqual([{ host: '10.0.0.9', port: 9 }]);
  });

  it('file — polling sees an atomic replace via rename even with the same size', async () => {
    const clock = new ManualClock();
    await writeFile(file, '10.0.0.1:1\n');
    const { discovery, seen } = watchFile({ clock, pollMs: 100, fsWatch: false });
    const temp = join(dir, 'peers.next');
    await writeFile(temp, '10.0.0.2:2\n');
    await rename(temp, file);
    await clock.advance(100);
    await eventually(() => expect(seen).toEqual(['10.0.0.2:2\n']));
    expect(await discovery.resolve()).toEqual([{ host: '10.0.0.2', port: 2 }]);
  });

  it('file — polling a file that is missing at first, then created, then removed', async () => {
    const clock = new ManualClock();
    const { discovery, seen } = watchFile({ clock, pollMs: 100, fsWatch: false });
    expect(await discovery.resolve()).toEqual([]);
    await replace('10.0.0.3:3\n');
    await clock.advance(100);
    await eventually(() => expect(seen).toEqual(['10.0.0.3:3\n']));
    await unlink(file);
    await clock.advance(100);
    await eventually(() => expect(seen).toEqual(['10.0.0.3:3\n', null]));
    expect(await discovery.resolve()).toEqual([]);
  });

  it('file — stop cancels the poll timer and no further onChange comes', async () => {
    const clock = new ManualClock();
    await writeFile(file, '10.0.0.1:1\n');
    const { seen, stop } = watchFile({ clock, pollMs: 100 });
    expect(clock.pending()).toBe(1);
    stop();
    stop();
    expect(clock.pending()).toBe(0);
    await writeFile(file, '10.0.0.2:2\n');
    await clock.advance(1000);
    expect(seen).toEqual([]);
  });

  it('file — an onChange that throws is logged, and watching goes on', async () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    await writeFile(file, 'a@10.0.0.1:1\n');
    let calls = 0;
    stops.push(
      fileDiscovery({ path: file, clock, pollMs: 100, fsWatch: false, logger }).watch!(() => {
        calls++;
        throw new Error('listener bug');
      }),
    );
    await replace('a@10.0.0.1:12\n');
    await clock.advance(100);
    await eventually(() => expect(calls).toBe(1));
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/onChange listener threw/) }));
    await replace('a@10.0.0.1:123\n');
    await clock.advance(100);
    await eventually(() => expect(calls).toBe(2));
  });

  it('file — two watchers of one backend are independent', async () => {
    const clock = new ManualClock();
    await writeFile(file, '10.0.0.1:1\n');
    const discovery = fileDiscovery({ path: file, clock, pollMs: 100, fsWatch: false });
    let a = 0;
    let b = 0;
    const stopA = discovery.watch!(() => a++);
    stops.push(stopA, discovery.watch!(() => b++));
    stopA();
    await replace('10.0.0.2:22\n');
    await clock.advance(100);
    await eventually(() => expect(b).toBe(1));
    expect(a).toBe(0);
  });
});
