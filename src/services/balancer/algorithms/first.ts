/**
 * `first`: always the first candidate, i.e. the one with the lowest node id.
 *
 * Guarantees: deterministic and stateless; every node with the same view of providers picks the
 * same one, which suits active/standby setups (the others serve only after failover). Does not:
 * spread load at all.
 */
import type { Candidate, SelectionAlgorithm } from './types.js';

/**
 * Makes a `first` algorithm: the first candidate of the (node-id-sorted) list.
 *
 * @example
 * firstAlgorithm().select([a, b], context); // a
 */
export function firstAlgorithm(): SelectionAlgorithm {
  return {
    name: 'first',
    select(candidates: readonly Candidate[]): Candidate | undefined {
      return candidates[0];
    },
  };
}
