import { describe, expect, it } from 'vitest';
import { roundRobinAlgorithm } from '../../../../src/services/balancer/algorithms/round-robin.js';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';

const CONTEXT: SelectionContext = { random: () => 0, localNode: 'a' };

/** Fresh candidate objects for these node ids (the balancer builds new ones for every call). */
function list(...nodes: string[]): Candidate[] {
  return nodes.map((node) => ({ node, weight: 1, inFlight: 0, meta: {} }));
}

function picks(algorithm: ReturnType<typeof roundRobinAlgorithm>, nodes: string[], count: number): string[] {
  return Array.from({ length: count }, () => algorithm.select(list(...nodes), CONTEXT)!.node);
}

describe('round-robin algorithm', () => {
  it('round-robin — takes the candidates in order and wraps around', () => {
    expect(picks(roundRobinAlgorithm(), ['a', 'b', 'c'], 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('round-robin — returns the candidate objects it was given', () => {
    const algorithm = roundRobinAlgorithm();
    const candidates = list('a', 'b');
    expect(algorithm.select(candidates, CONTEXT)).toBe(candidates[0]);
    expect(algorithm.select(candidates, CONTEXT)).toBe(candidates[1]);
  });

  it('round-robin — a candidate that disappears is skipped and the rotation carries on', () => {
    const algorithm = roundRobinAlgorithm();
    expect(picks(algorithm, ['a', 'b', 'c', 'd'], 1)).toEqual(['a']);
    expect(picks(algorithm, ['a', 'c', 'd'], 3)).toEqual(['c', 'd', 'a']);
  });

  it('round-robin — when the last chosen candidate disappears, the next one in id order follows', () => {
    const algorithm = roundRobinAlgorithm();
    expect(picks(algorithm, ['a', 'b', 'c'], 2)).toEqual(['a', 'b']);
    expect(picks(algorithm, ['a', 'c'], 2)).toEqual(['c', 'a']);
    expect(picks(algorithm, ['a', 'b', 'c'], 1)).toEqual(['b']);
    expect(picks(algorithm, ['a', 'b'], 2)).toEqual(['a', 'b']);
    expect(picks(algorithm, ['a'], 2)).toEqual(['a', 'a']);
  });

  it('round-robin — a new candidate takes its turn at its place in id order', () => {
    const algorithm = roundRobinAlgorithm();
    expect(picks(algorithm, ['a', 'c'], 1)).toEqual(['a']);
    expect(picks(algorithm, ['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a', 'b']);
    // After the last one, a newcomer that sorts after it comes next; then the rotation wraps.
    expect(picks(algorithm, ['a', 'b', 'c'], 1)).toEqual(['c']);
    expect(picks(algorithm, ['a', 'b', 'c', 'd'], 2)).toEqual(['d', 'a']);
  });

  it('round-robin — every n picks over an unchanged list choose each candidate once', () => {
    const algorithm = roundRobinAlgorithm();
    const nodes = Array.from({ length: 17 }, (_, i) => `node${String(i).padStart(2, '0')}`);
    picks(algorithm, nodes, 5);
    for (let round = 0; round < 3; round++) expect(new Set(picks(algorithm, nodes, 17)).size).toBe(17);
  });

  it('round-robin — two instances keep separate positions', () => {
    const one = roundRobinAlgorithm();
    const two = roundRobinAlgorithm();
    expect(picks(one, ['a', 'b', 'c'], 2)).toEqual(['a', 'b']);
    expect(picks(two, ['a', 'b', 'c'], 1)).toEqual(['a']);
    expect(picks(one, ['a', 'b', 'c'], 1)).toEqual(['c']);
  });

  it('round-robin — no candidates, no choice, and the position survives it', () => {
    const algorithm = roundRobinAlgorithm();
    expect(picks(algorithm, ['a', 'b', 'c'], 1)).toEqual(['a']);
    expect(algorithm.select([], CONTEXT)).toBeUndefined();
    expect(picks(algorithm, ['a', 'b', 'c'], 1)).toEqual(['b']);
  });
});
