/**
 * `power-of-two` (power of two random choices): draw two distinct candidates at random and take
 * the one with fewer calls in flight from this node.
 *
 * Guarantees: the chosen candidate never has more in flight than the other one drawn; with two
 * candidates the busier one is never chosen unless both are equally busy. On a tie the first one
 * drawn wins, so equal load still spreads at random. One candidate is returned as it is. Uses two
 * draws of `context.random` per call (none for one candidate); stateless; O(1).
 * Does not: look at weights, or at load other nodes put on a provider.
 */
import { randomIndex } from './random.js';
import type { Candidate, SelectionAlgorithm, SelectionContext } from './types.js';

/**
 * Makes a `power-of-two` algorithm.
 *
 * @example
 * powerOfTwoAlgorithm().select(candidates, { random: Math.random, localNode }); // the less busy of two
 */
export function powerOfTwoAlgorithm(): SelectionAlgorithm {
  return {
    name: 'power-of-two',
    select(candidates: readonly Candidate[], context: SelectionContext): Candidate | undefined {
      const n = candidates.length;
      if (n <= 1) return candidates[0];
      const i = randomIndex(context.random, n);
      // A uniform index among the n - 1 others: draw from [0, n - 1) and skip over i.
      let j = randomIndex(context.random, n - 1);
      if (j >= i) j++;
      const a = candidates[i]!;
      const b = candidates[j]!;
      return b.inFlight < a.inFlight ? b : a;
    },
  };
}
