/**
 * `direct`: the provider on the selecting node itself, so that calls stay local (for tests and
 * for services every node runs).
 *
 * Guarantees: returns the candidate whose node is `context.localNode`, or `undefined` when this
 * node is not among the candidates (the balancer then reports that no provider could be chosen).
 * Stateless. Does not: fall back to a remote provider.
 */
import type { Candidate, SelectionAlgorithm, SelectionContext } from './types.js';

/**
 * Makes a `direct` algorithm: the local provider or none.
 *
 * @example
 * directAlgorithm().select(candidates, { random: Math.random, localNode: node.id }); // local one, or undefined
 */
export function directAlgorithm(): SelectionAlgorithm {
  return {
    name: 'direct',
    select(candidates: readonly Candidate[], context: SelectionContext): Candidate | undefined {
      for (const candidate of candidates) if (candidate.node === context.localNode) return candidate;
      return undefined;
    },
  };
}
