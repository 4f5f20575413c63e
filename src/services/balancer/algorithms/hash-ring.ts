/**
 * `hash-ring`: key affinity. Calls with the same key go to the same provider as long as it is a
 * candidate, and a change of providers moves few keys.
 *
 * The owner of `context.key` on a consistent hash ring of the candidates' node ids (see
 * `services/ring/hash-ring.ts`: 128 points per node, MurmurHash3 x86_32, first point at or after
 * the key's hash, wrapping) gets the call. Without a key the pick is uniformly random.
 *
 * Guarantees: the choice depends only on the key and the set of candidate node ids, not on their
 * order, on load or on earlier calls, so every node with the same view of the providers sends a
 * key to the same one. When a provider drops out (failed, breaker open, excluded after a failed
 * attempt) only its keys move, each to the next point's node; the others stay put. The ring is
 * rebuilt only when the candidate set changes; while it does not, a pick is an O(n) check that the
 * list is unchanged plus an O(log points) lookup. Does not: look at load or weights, or keep a key
 * on a provider that is not a candidate.
 */
import type { NodeId } from '../../../core/ids.js';
import { HashRing, type HashRingOptions } from '../../ring/hash-ring.js';
import { randomIndex } from './random.js';
import { sameNodes, type Candidate, type SelectionAlgorithm, type SelectionContext } from './types.js';

class HashRingSelection implements SelectionAlgorithm {
  readonly name = 'hash-ring';
  readonly #ring: HashRing;
  /** The node ids of the latest candidate list, in its order. */
  #order: NodeId[] = [];
  /** node → its index in {@link #order}. */
  #index = new Map<NodeId, number>();

  constructor(options: HashRingOptions) {
    this.#ring = new HashRing([], options);
  }

  select(candidates: readonly Candidate[], context: SelectionContext): Candidate | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    if (context.key === undefined) return candidates[randomIndex(context.random, n)];
    if (!sameNodes(this.#order, candidates)) this.#adopt(candidates);
    const owner = this.#ring.owner(context.key);
    return owner === undefined ? undefined : candidates[this.#index.get(owner)!];
  }

  /** Takes a new list: re-indexes it, and rebuilds the ring only if the set of nodes changed. */
  #adopt(candidates: readonly Candidate[]): void {
    this.#order = candidates.map((candidate) => candidate.node);
    this.#index = new Map(this.#order.map((node, i) => [node, i]));
    this.#ring.setNodes(this.#order);
  }
}

/**
 * Makes a `hash-ring` algorithm with its own ring.
 *
 * @param options the ring's options; `vnodes` defaults to 128. Every node of a cluster must use
 *   the same `vnodes` to agree on owners.
 * @throws CohortError `INVALID_OPTION` for a bad `vnodes`.
 * @example
 * const ring = hashRingAlgorithm();
 * ring.select(candidates, { key: 'user:42', random: Math.random, localNode }); // same key, same provider
 */
export function hashRingAlgorithm(options: HashRingOptions = {}): SelectionAlgorithm {
  return new HashRingSelection(options);
}
