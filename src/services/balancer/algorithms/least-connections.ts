/**
 * `least-connections`: the candidate with the fewest calls in flight from this node.
 *
 * Guarantees: deterministic for a given list; ties go to the first of the tied candidates in list
 * order (the lowest node id). Stateless: the in-flight counts come with the candidates. O(n).
 * Does not: know the load other nodes put on a provider (only this node's calls are counted), or
 * break ties randomly, so under equal load the first candidate gets the call.
 */
import type { Candidate, SelectionAlgorithm } from './types.js';

/**
 * Makes a `least-connections` algorithm.
 *
 * @example
 * leastConnectionsAlgorithm().select([{ ...a, inFlight: 2 }, { ...b, inFlight: 0 }], context); // b
 */
export function leastConnectionsAlgorithm(): SelectionAlgorithm {
  return {
    name: 'least-connections',
    select(candidates: readonly Candidate[]): Candidate | undefined {
      let best = candidates[0];
      for (let i = 1; i < candidates.length; i++) {
        const candidate = candidates[i]!;
        if (candidate.inFlight < best!.inFlight) best = candidate;
      }
      return best;
    },
  };
}
