import { describe, expect, it } from 'vitest';
import { leastConnectionsAlgorithm } from '../../../../src/services/balancer/algorithms/least-connections.js';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';

const CONTEXT: SelectionContext = { random: () => 0.5, localNode: 'a' };

function list(...inFlight: number[]): Candidate[] {
  return inFlight.map((n, i) => ({ node: String.fromCharCode(97 + i), weight: 1, inFlight: n, meta: {} }));
}

describe('least-connections algorithm', () => {
  it('least-connections — picks the candidate with the fewest calls in flight', () => {
    const algorithm = leastConnectionsAlgorithm();
    expect(algorithm.select(list(3, 1, 2), CONTEXT)!.node).toBe('b');
    expect(algorithm.select(list(5, 4, 0), CONTEXT)!.node).toBe('c');
    expect(algorithm.select(list(0, 4, 5), CONTEXT)!.node).toBe('a');
  });

  it('least-connections — ties go to the first in list order', () => {
    const algorithm = leastConnectionsAlgorithm();
    expect(algorithm.select(list(2, 0, 0, 1), CONTEXT)!.node).toBe('b');
    expect(algorithm.select(list(1, 1, 1), CONTEXT)!.node).toBe('a');
    // Stateless: the same list gives the same answer again.
    expect(algorithm.select(list(1, 1, 1), CONTEXT)!.node).toBe('a');
  });

  it('least-connections — returns the candidate object, and nothing for an empty list', () => {
    const candidates = list(4, 2);
    expect(leastConnectionsAlgorithm().select(candidates, CONTEXT)).toBe(candidates[1]);
    expect(leastConnectionsAlgorithm().select([], CONTEXT)).toBeUndefined();
  });
});
