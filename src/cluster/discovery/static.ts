/**
 * Static discovery: a fixed list of seed addresses given in code or configuration.
 *
 * Guarantees. Every seed is checked when the backend is built, so a typo fails at start-up with
 * an error naming the seed, not later at the first dial. `resolve` always answers at once with
 * the same deduped list, in the order given (a fresh array each time).
 *
 * Deliberately not done. No name resolution (a DNS name stays a name; the dialer resolves it at
 * connect time), no health checks. Seeds are candidates: a seed that is down is simply not
 * reached, and the caller keeps retrying it with backoff. An empty list is allowed (a node that
 * waits for others to dial it).
 */
import { CohortError, describe, isCohortError } from '../../core/errors.js';
import { dedupe, throwIfAborted, toPeerAddress, type Discovery, type PeerAddress } from './discovery.js';

/**
 * A discovery backend that always returns `seeds`.
 *
 * Each seed is a string (`'name@host:port'`, `'host:port'`, `'[v6]:port'`) or an object
 * `{ host, port, name? }`; both may be mixed.
 *
 * @throws CohortError `INVALID_OPTION` when `seeds` is not an array or a seed is not a string or
 *   an object; `INVALID_NODE_ID` when a seed does not parse. The message names the seed's index.
 * @example
 * const discovery = staticDiscovery(['app2@10.0.0.2:4369', '10.0.0.3:4369']);
 * await discovery.resolve(); // [{ name: 'app2', host: '10.0.0.2', port: 4369 }, { host: '10.0.0.3', port: 4369 }]
 */
export function staticDiscovery(seeds: ReadonlyArray<string | PeerAddress>): Discovery {
  if (!Array.isArray(seeds)) {
    throw new CohortError(
      'INVALID_OPTION',
      `static discovery needs an array of seed addresses like ['app2@10.0.0.2:4369', '10.0.0.3:4369']; got ${describe(seeds)}`,
    );
  }
  const parsed = seeds.map((seed: unknown, index) => {
    try {
      return toPeerAddress(seed);
    } catch (error) {
      if (!isCohortError(error)) throw error;
      throw new CohortError(error.code, `static discovery: seed ${index}: ${error.message}`, {
        cause: error,
        details: { index, ...error.details },
      });
    }
  });
  const addresses = Object.freeze(dedupe(parsed));
  return Object.freeze({
    name: 'static',
    resolve(signal?: AbortSignal): Promise<PeerAddress[]> {
      try {
        throwIfAborted(signal, 'static discovery');
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve([...addresses]);
    },
  });
}
