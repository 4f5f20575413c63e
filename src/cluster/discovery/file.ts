/**
 * File discovery: candidates listed in a file that an operator, a config-management tool or a
 * sidecar keeps up to date.
 *
 * The file holds either one address per line or a JSON array; both forms take `#` comments (from
 * `#` to the end of the line) and blank lines are ignored. An address is any form
 * `parsePeerAddress` reads (`name@host:port`, `host:port`, `[v6]:port`); a JSON array may also
 * hold objects `{ "host": ..., "port": ..., "name"?: ... }`. The file is JSON when its first
 * character (after comments and blanks) is `[` followed by `"`, `{` or `]`; `[::1]:4369` on the
 * first line is an address.
 *
 * ```text
 * # cohort peers
 * app2@10.0.0.2:4369
 * 10.0.0.3:4369      # no name known
 * [fd00::4]:4369
 * ```
 *
 * Guarantees. `resolve` reads the file afresh each time. **A bad line (or array entry) is skipped
 * and logged (warn, with its line number or index); the other entries are still used.** A missing
 * file (or directory) is an empty list, not an error, so a file that is being replaced or not yet
 * written does no harm. Another read failure (permissions, a directory at the path) or a file that
 * looks like JSON but does not parse rejects with `UNAVAILABLE`, so the caller keeps the
 * candidates it had and retries. `watch` calls `onChange` once per observed change of the file's
 * identity, size or timestamps (content replaced, file renamed over, deleted, created): it uses
 * `fs.watch` on the file's directory, where it works, so a change is seen at once, and polls the
 * file's `stat` every `pollMs` on the injected clock in every case, which catches what `fs.watch`
 * misses (network file systems, a symlink swapped elsewhere as Kubernetes does with ConfigMaps,
 * platforms without `fs.watch`). Both feed one serialised check, so one change gives one call
 * even when both see it. A listener that throws is logged, and watching goes on.
 *
 * Deliberately not done. No locking: write the file atomically (write a temporary file in the
 * same directory, then rename it over the old one), or a reader may see half of it (a cut-off
 * last line may even parse as a different port). The content is not cached, and polling has no
 * jitter (it stats a local file; there is no shared server to spare).
 */
import { readFile, stat } from 'node:fs/promises';
import { statSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import { systemClock, TimerSet, type Clock } from '../../core/clock.js';
import { CohortError, describe } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import {
  abortedError,
  checkKeys,
  collectPeerAddresses,
  reason,
  throwIfAborted,
  type Discovery,
  type PeerAddress,
  type SkippedEntry,
} from './discovery.js';

/** Options of {@link fileDiscovery}. */
export interface FileDiscoveryOptions {
  /** The file to read; a relative path is taken from the working directory at construction. */
  path: string;
  /**
   * How often `watch` polls the file's `stat`, in milliseconds on `clock`.
   * @default 1000
   */
  pollMs?: number;
  /**
   * Whether `watch` also uses `fs.watch` on the file's directory, to see changes at once. When
   * `fs.watch` is unavailable or fails, polling carries on alone.
   * @default true
   */
  fsWatch?: boolean;
  /**
   * The clock polling runs on.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Where skipped lines and watch problems are reported.
   * @default silentLogger
   */
  logger?: Logger;
}

/** The defaults of {@link FileDiscoveryOptions}. */
export const FILE_DEFAULTS = Object.freeze({
  pollMs: 1000,
  fsWatch: true,
} as const satisfies Required<Pick<FileDiscoveryOptions, 'pollMs' | 'fsWatch'>>);

const OPTION_KEYS = Object.freeze(['path', 'pollMs', 'fsWatch', 'clock', 'logger']);

/** Error codes of a path that is not there (yet). */
const MISSING_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR']);

/**
 * A discovery backend that reads candidates from a file and can watch it for changes.
 *
 * Outcomes of `resolve`: the deduped candidates (`[]` when the file is missing), or a rejection
 * with `UNAVAILABLE` (unreadable file or malformed JSON) or `ABORTED`.
 *
 * @throws CohortError `INVALID_OPTION` for a missing path, a bad `pollMs` or an unknown option.
 * @example
 * const discovery = fileDiscovery({ path: '/etc/cohort/peers', logger });
 * const stop = discovery.watch?.(() => void reconnect());
 * const peers = await discovery.resolve();
 */
export function fileDiscovery(options: FileDiscoveryOptions): Discovery {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CohortError('INVALID_OPTION', `file discovery needs an options object like { path: '/etc/cohort/peers' }; got ${describe(options)}`);
  }
  checkKeys(options, OPTION_KEYS, 'file discovery');
  if (typeof options.path !== 'string' || options.path.length === 0) {
    throw new CohortError('INVALID_OPTION', `file discovery: path must be a non-empty string; got ${describe(options.path)}`);
  }
  const pollMs = options.pollMs ?? FILE_DEFAULTS.pollMs;
  if (typeof pollMs !== 'number' || !Number.isFinite(pollMs) || pollMs < 1) {
    throw new CohortError('INVALID_OPTION', `file discovery: pollMs must be a finite number of milliseconds >= 1; got ${describe(pollMs)}`);
  }
  const useFsWatch = options.fsWatch ?? FILE_DEFAULTS.fsWatch;
  if (typeof useFsWatch !== 'boolean') {
    throw new CohortError('INVALID_OPTION', `file discovery: fsWatch must be a boolean; got ${describe(useFsWatch)}`);
  }
  const path = resolvePath(options.path);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const what = `file discovery of ${path}`;

  async function resolve(signal?: AbortSignal): Promise<PeerAddress[]> {
    throwIfAborted(signal, what);
    let text: string;
    try {
      text = await readFile(path, { encoding: 'utf8', signal });
    } catch (error) {
      if (signal?.aborted === true) throw abortedError(signal, what);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && MISSING_CODES.has(code)) {
        logger.debug('file discovery: the file is missing; no candidates', { path });
        return [];
      }
      throw new CohortError('UNAVAILABLE', `file discovery could not read ${path}: ${reason(error)}`, {
        cause: error,
        details: { discovery: 'file', reason: 'DISCOVERY_FAILED', path, errno: typeof code === 'string' ? code : null },
      });
    }
    return parsePeerFile(text, path, (skipped) =>
      logger.warn('file discovery: skipped a bad entry', {
        path,
        [skipped.line ? 'line' : 'index']: skipped.at,
        entry: describe(skipped.entry),
        error: skipped.error.message,
      }),
    );
  }

  function watch(onChange: () => void): () => void {
    if (typeof onChange !== 'function') {
      throw new CohortError('INVALID_ARGUMENT', `file discovery: watch needs an onChange function; got ${describe(onChange)}`);
    }
    const timers = new TimerSet(clock);
    let stopped = false;
    let watcher: FSWatcher | undefined;
    // Taken synchronously, so a change made once watch() has returned is never mistaken for the baseline.
    let last = signatureSync(path);
    let running = false;
    let again = false;

    const notify = (): void => {
      try {
        onChange();
      } catch (error) {
        logger.warn('file discovery: an onChange listener threw', { path, error: reason(error) });
      }
    };
    // One check at a time; a request during a check runs one more check after it.
    const check = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const now = await signature(path);
          if (stopped) return;
          if (now !== last) {
            last = now;
            notify();
          }
        } while (again && !stopped);
      } finally {
        running = false;
      }
    };
    const request = (): void => {
      if (!stopped) check().catch((error: unknown) => logger.warn('file discovery: a check failed', { path, error: reason(error) }));
    };

    timers.setInterval(request, pollMs);
    if (useFsWatch) {
      const file = basename(path);
      try {
        // The directory, not the file: a file renamed over or deleted and recreated is a new
        // inode that a watch on the old one would never report.
        watcher = fsWatch(dirname(path), { persistent: false }, (_event, filename) => {
          if (filename === null || filename === file) request();
        });
        watcher.on('error', (error: unknown) => {
          logger.debug('file discovery: fs.watch failed; polling only', { path, error: reason(error) });
          watcher?.close();
          watcher = undefined;
        });
      } catch (error) {
        logger.debug('file discovery: fs.watch is unavailable here; polling only', { path, error: reason(error) });
        watcher = undefined;
      }
    }
    return () => {
      if (stopped) return;
      stopped = true;
      timers.clear();
      watcher?.close();
      watcher = undefined;
    };
  }

  return Object.freeze({ name: 'file', resolve, watch });
}

/** A skipped entry of a peer file; `line` says whether `at` is a 1-based line or a 0-based index. */
export interface SkippedFileEntry extends SkippedEntry {
  readonly line: boolean;
}

/**
 * Parses the text of a peer file (see the module header for the format). Bad entries are passed
 * to `onSkip` and left out; the result is deduped.
 *
 * @throws CohortError `UNAVAILABLE` when the text looks like a JSON array but does not parse.
 * @example parsePeerFile('# peers\na@10.0.0.1:4369\n', 'peers', console.warn) // [{ name: 'a', ... }]
 */
export function parsePeerFile(text: string, source: string, onSkip: (skipped: SkippedFileEntry) => void): PeerAddress[] {
  // Addresses never hold '#', so everything from one to the end of its line is a comment.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((line) => {
    const hash = line.indexOf('#');
    return (hash < 0 ? line : line.slice(0, hash)).trim();
  });
  const body = lines.join('\n').trim();
  if (/^\[\s*["{\]]/.test(body)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw new CohortError('UNAVAILABLE', `file discovery: ${source} looks like a JSON array but does not parse: ${reason(error)}`, {
        cause: error,
        details: { discovery: 'file', reason: 'DISCOVERY_FAILED', path: source },
      });
    }
    if (Array.isArray(parsed)) return collectPeerAddresses(parsed, (s) => onSkip({ ...s, line: false }));
  }
  const entries: string[] = [];
  const positions: number[] = [];
  lines.forEach((line, i) => {
    if (line.length === 0) return;
    entries.push(line);
    positions.push(i + 1);
  });
  return collectPeerAddresses(entries, (s) => onSkip({ ...s, line: true }), positions);
}

/** What `watch` compares: identity, size and timestamps of the file, or why there is none. */
async function signature(path: string): Promise<string> {
  try {
    return format(await stat(path, { bigint: true }));
  } catch (error) {
    return missing(error);
  }
}

function signatureSync(path: string): string {
  try {
    return format(statSync(path, { bigint: true }));
  } catch (error) {
    return missing(error);
  }
}

function format(s: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

function missing(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return `none:${typeof code === 'string' ? code : 'error'}`;
}
