/**
 * `weighted-round-robin`: smooth weighted round-robin, as nginx does it, so that heavier
 * providers get proportionally more calls, interleaved rather than in bursts.
 *
 * Each node has a current weight, 0 when it first appears. On every pick each candidate's current
 * weight grows by its effective weight, the candidate with the highest current weight is chosen
 * (ties to the first in list order, i.e. the lowest node id) and its current weight drops by the
 * total of the effective weights. Weights 5, 1, 1 for a, b, c give `a a b a c a a`, repeating.
 *
 * Weights: a candidate's effective weight is its `weight` when that is a finite number > 0
 * (fractions allowed), and 0 otherwise (0, negative, NaN or infinite): such a candidate is never
 * chosen while another has a positive weight, and its current weight is reset to 0. When no
 * candidate has a positive weight all count as 1 (plain round-robin).
 *
 * Guarantees: over an unchanged list with integer weights, every `sum(weights)` consecutive picks
 * choose each candidate exactly `weight` times. A node that leaves the list is forgotten (it comes
 * back at 0); weights may change between picks and take effect at once. The state belongs to the
 * instance. O(n) per pick: a check that the node ids are those of the previous list, then
 * arithmetic on an array (a changed list costs a map lookup per node once). Does not: look at load.
 */
import type { NodeId } from '../../../core/ids.js';
import { sameNodes, type Candidate, type SelectionAlgorithm } from './types.js';

/** The weight a candidate counts with: its weight when finite and > 0, else 0. */
function effectiveWeight(weight: number): number {
  return Number.isFinite(weight) && weight > 0 ? weight : 0;
}

class WeightedRoundRobin implements SelectionAlgorithm {
  readonly name = 'weighted-round-robin';
  /** The node ids of the latest candidate list, in its order. */
  #order: NodeId[] = [];
  /** The current weight of each node of {@link #order}, index for index. */
  #current = new Float64Array(0);

  select(candidates: readonly Candidate[]): Candidate | undefined {
    const n = candidates.length;
    if (n === 0) return undefined;
    if (!sameNodes(this.#order, candidates)) this.#adopt(candidates);
    const current = this.#current;
    let total = 0;
    for (let i = 0; i < n; i++) total += effectiveWeight(candidates[i]!.weight);
    const uniform = total === 0;
    if (uniform) total = n;
    let best = -1;
    let bestWeight = -Infinity;
    for (let i = 0; i < n; i++) {
      const weight = uniform ? 1 : effectiveWeight(candidates[i]!.weight);
      if (weight === 0) {
        current[i] = 0;
        continue;
      }
      const value = current[i]! + weight;
      current[i] = value;
      if (value > bestWeight) {
        best = i;
        bestWeight = value;
      }
    }
    current[best] = bestWeight - total;
    return candidates[best];
  }

  /** Takes a new list: nodes still present keep their current weight, new ones start at 0, the rest are forgotten. */
  #adopt(candidates: readonly Candidate[]): void {
    const previous = new Map<NodeId, number>();
    for (let i = 0; i < this.#order.length; i++) previous.set(this.#order[i]!, this.#current[i]!);
    this.#order = candidates.map((candidate) => candidate.node);
    this.#current = Float64Array.from(this.#order, (node) => previous.get(node) ?? 0);
  }
}

/**
 * Makes a smooth `weighted-round-robin` algorithm with its own current weights.
 *
 * @example
 * const wrr = weightedRoundRobinAlgorithm();
 * // a weight 5, b and c weight 1: a a b a c a a, a a b a c a a, ...
 * wrr.select([a, b, c], context);
 */
export function weightedRoundRobinAlgorithm(): SelectionAlgorithm {
  return new WeightedRoundRobin();
}
