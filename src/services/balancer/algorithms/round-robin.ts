/**
 * `round-robin`: the candidates in turn, in node-id order.
 *
 * The algorithm remembers the node it chose last and picks the first candidate whose node id
 * sorts after it, wrapping to the first candidate. So when the candidate set changes the rotation
 * carries on where it was instead of jumping: a node that disappears is skipped, a new one takes
 * its turn when the rotation reaches its place in id order, and no node is picked twice in a row
 * while others are waiting. The first pick of a fresh instance is the first candidate.
 *
 * Guarantees: over an unchanged list of n candidates every n consecutive picks choose each
 * candidate once. O(1) per pick while the list is unchanged, O(log n) after it changed. The state
 * belongs to the instance: two balancers never share a position. Relies on the candidates being
 * sorted by node id, as the balancer delivers them. Does not: look at load or weights.
 */
import type { NodeId } from '../../../core/ids.js';
import type { Candidate, SelectionAlgorithm } from './types.js';

class RoundRobin implements SelectionAlgorithm {
  readonly name = 'round-robin';
  #lastNode: NodeId | undefined;
  #lastIndex = -1;

  select(candidates: readonly Candidate[]): Candidate | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    let next: number;
    if (this.#lastNode === undefined) next = 0;
    else if (candidates[this.#lastIndex]?.node === this.#lastNode) next = this.#lastIndex + 1;
    else next = firstAfter(candidates, this.#lastNode);
    if (next >= n) next = 0;
    const chosen = candidates[next]!;
    this.#lastNode = chosen.node;
    this.#lastIndex = next;
    return chosen;
  }
}

/** The index of the first candidate whose node id sorts after `node` (n when there is none). */
function firstAfter(candidates: readonly Candidate[], node: NodeId): number {
  let low = 0;
  let high = candidates.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (candidates[mid]!.node <= node) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Makes a `round-robin` algorithm with its own position.
 *
 * @example
 * const rr = roundRobinAlgorithm();
 * rr.select([a, b, c], context); // a, then b, c, a, ...
 */
export function roundRobinAlgorithm(): SelectionAlgorithm {
  return new RoundRobin();
}
