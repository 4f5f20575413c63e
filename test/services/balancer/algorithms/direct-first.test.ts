import { describe, expect, it } from 'vitest';
import { directAlgorithm } from '../../../../src/services/balancer/algorithms/direct.js';
import { firstAlgorithm } from '../../../../src/services/balancer/algorithms/first.js';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';

function list(...nodes: string[]): Candidate[] {
  return nodes.map((node, i) => ({ node, weight: 1, inFlight: i, meta: {} }));
}

function context(localNode: string): SelectionContext {
  return { random: () => 0.5, localNode, key: 'user:1' };
}

describe('direct and first algorithms', () => {
  it('direct — picks the local provider wherever it is in the list', () => {
    const candidates = list('a@h:1', 'b@h:2', 'c@h:3');
    expect(directAlgorithm().select(candidates, context('b@h:2'))).toBe(candidates[1]);
    expect(directAlgorithm().select(candidates, context('c@h:3'))).toBe(candidates[2]);
  });

  it('direct — no local provider, no choice', () => {
    expect(directAlgorithm().select(list('a@h:1', 'b@h:2'), context('z@h:9'))).toBeUndefined();
    expect(directAlgorithm().select([], context('a@h:1'))).toBeUndefined();
  });

  it('first — always the first candidate, whatever the load', () => {
    const candidates = list('a@h:1', 'b@h:2');
    const algorithm = firstAlgorithm();
    for (let i = 0; i < 3; i++) expect(algorithm.select(candidates, context('b@h:2'))).toBe(candidates[0]);
    expect(algorithm.select(list('b@h:2'), context('a@h:1'))!.node).toBe('b@h:2');
    expect(algorithm.select([], context('a@h:1'))).toBeUndefined();
  });
});
