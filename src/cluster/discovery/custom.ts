/**
 * Custom discovery: any function that lists peers (a Consul or etcd query, a cloud API, a
 * database row) becomes a discovery backend.
 *
 * Guarantees. What the function returns is checked entry by entry: strings in any form
 * `parsePeerAddress` reads and objects `{ host, port, name? }` are kept; **a bad entry is skipped
 * and reported (to `logger.warn` and `onInvalid`), never thrown**, so one bad row does not hide
 * the good ones. The result is deduped. A function that throws or rejects makes `resolve` reject:
 * a `CohortError` passes through unchanged, anything else becomes `UNAVAILABLE` with the thrown
 * value as `cause`. A function that returns something other than an array rejects with
 * `INVALID_OPTION`. An aborted signal rejects with `ABORTED` at once, even if the function ignores
 * the signal (which it is given, to stop its own work).
 *
 * Deliberately not done. No retries, caching or timeout of its own: wrap the function, or pass a
 * signal, if it can hang. Results are candidates; the node's handshake decides who is a peer.
 */
import { CohortError, describe, isCohortError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import {
  checkKeys,
  collectPeerAddresses,
  raceAbort,
  reason,
  throwIfAborted,
  type Discovery,
  type PeerAddress,
  type SkippedEntry,
} from './discovery.js';

/** What a custom discovery function may return entries as. */
export type CustomDiscoveryEntry = string | PeerAddress;

/** A function that lists candidate peers; it may be sync or async. */
export type CustomDiscoveryFn = (
  signal?: AbortSignal,
) => Promise<ReadonlyArray<CustomDiscoveryEntry>> | ReadonlyArray<CustomDiscoveryEntry>;

/** Options of {@link customDiscovery}. */
export interface CustomDiscoveryOptions {
  /**
   * Where skipped entries are reported (warn).
   * @default silentLogger
   */
  logger?: Logger;
  /**
   * Also called with each skipped entry (its index in the returned array, the entry and why).
   * @default undefined
   */
  onInvalid?: (skipped: SkippedEntry) => void;
  /**
   * A push source, if the function's backend has one: becomes the backend's `watch`.
   * @default undefined (no watch)
   */
  watch?: (onChange: () => void) => () => void;
}

/** The defaults of {@link CustomDiscoveryOptions}. */
export const CUSTOM_DEFAULTS = Object.freeze({
  logger: silentLogger,
} as const satisfies Pick<Required<CustomDiscoveryOptions>, 'logger'>);

const OPTION_KEYS = Object.freeze(['logger', 'onInvalid', 'watch']);

/**
 * A discovery backend named `name` whose `resolve` calls `fn` and checks what it returns.
 *
 * Outcomes of `resolve`: the valid, deduped entries; or a rejection with the function's
 * `CohortError`, `UNAVAILABLE` (it threw something else), `INVALID_OPTION` (it returned no array)
 * or `ABORTED`.
 *
 * @throws CohortError `INVALID_OPTION` for an empty name, a non-function `fn` or a bad option.
 * @example
 * const consul = customDiscovery('consul', async (signal) => {
 *   const res = await fetch('http://127.0.0.1:8500/v1/catalog/service/cohort', { signal });
 *   const rows = (await res.json()) as { Address: string; ServicePort: number }[];
 *   return rows.map((r) => ({ host: r.Address, port: r.ServicePort }));
 * });
 */
export function customDiscovery(name: string, fn: CustomDiscoveryFn, options: CustomDiscoveryOptions = {}): Discovery {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new CohortError('INVALID_OPTION', `custom discovery needs a non-empty name for logs, like 'consul'; got ${describe(name)}`);
  }
  if (typeof fn !== 'function') {
    throw new CohortError('INVALID_OPTION', `custom discovery '${name}' needs a function that returns addresses; got ${describe(fn)}`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CohortError('INVALID_OPTION', `custom discovery '${name}': options must be an object; got ${describe(options)}`);
  }
  checkKeys(options, OPTION_KEYS, `custom discovery '${name}'`);
  for (const key of ['onInvalid', 'watch'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new CohortError('INVALID_OPTION', `custom discovery '${name}': ${key} must be a function; got ${describe(options[key])}`);
    }
  }
  const logger = options.logger ?? CUSTOM_DEFAULTS.logger;
  const { onInvalid } = options;
  const what = `custom discovery '${name}'`;

  const report = (skipped: SkippedEntry): void => {
    logger.warn(`${what}: skipped a bad entry`, { discovery: name, index: skipped.at, entry: describe(skipped.entry), error: skipped.error.message });
    try {
      onInvalid?.(skipped);
    } catch (error) {
      logger.warn(`${what}: onInvalid threw`, { discovery: name, error: reason(error) });
    }
  };

  async function call(signal: AbortSignal | undefined): Promise<unknown> {
    try {
      return await fn(signal);
    } catch (error) {
      if (isCohortError(error)) throw error;
      throw new CohortError('UNAVAILABLE', `${what} failed: ${reason(error)}`, {
        cause: error,
        details: { discovery: name, reason: 'DISCOVERY_FAILED' },
      });
    }
  }

  async function resolve(signal?: AbortSignal): Promise<PeerAddress[]> {
    throwIfAborted(signal, what);
    const entries = await raceAbort(call(signal), signal, what);
    if (!Array.isArray(entries)) {
      throw new CohortError('INVALID_OPTION', `${what} returned ${describe(entries)}; expected an array of addresses (strings or { host, port, name? })`, {
        details: { discovery: name },
      });
    }
    return collectPeerAddresses(entries, report);
  }

  const watch = options.watch;
  return Object.freeze(watch === undefined ? { name, resolve } : { name, resolve, watch: (onChange: () => void) => watch(onChange) });
}
