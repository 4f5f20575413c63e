import { describe, expect, it } from 'vitest';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';
import { weightedRoundRobinAlgorithm } from '../../../../src/services/balancer/algorithms/weighted-round-robin.js';

const CONTEXT: SelectionContext = { random: () => 0.5, localNode: 'a' };

type Weights = Record<string, number>;

/** Fresh candidates (sorted by node id, as the balancer delivers them) with these weights. */
function list(weights: Weights): Candidate[] {
  return Object.keys(weights)
    .sort()
    .map((node) => ({ node, weight: weights[node]!, inFlight: 0, meta: {} }));
}

function picks(algorithm: ReturnType<typeof weightedRoundRobinAlgorithm>, weights: Weights, count: number): string {
  return Array.from({ length: count }, () => algorithm.select(list(weights), CONTEXT)!.node).join(' ');
}

describe('weighted-round-robin algorithm', () => {
  it('weighted-round-robin — weights 5:1:1 give a a b a c a a, smoothly, again and again', () => {
    const algorithm = weightedRoundRobinAlgorithm();
    expect(picks(algorithm, { a: 5, b: 1, c: 1 }, 7)).toBe('a a b a c a a');
    expect(picks(algorithm, { a: 5, b: 1, c: 1 }, 14)).toBe('a a b a c a a a a b a c a a');
  });

  it('weighted-round-robin — every sum(weights) picks give each node exactly its weight', () => {
    const weights = { a: 3, b: 2, c: 1, d: 4, e: 0 };
    const algorithm = weightedRoundRobinAlgorithm();
    for (let window = 0; window < 50; window++) {
      const counts: Record<string, number> = {};
      for (const node of picks(algorithm, weights, 10).split(' ')) counts[node] = (counts[node] ?? 0) + 1;
      expect(counts).toEqual({ a: 3, b: 2, c: 1, d: 4 });
    }
  });

  it('weighted-round-robin — proportions hold over many picks, and no node bursts', () => {
    const weights = { a: 7, b: 2, c: 1 };
    const algorithm = weightedRoundRobinAlgorithm();
    const sequence = picks(algorithm, weights, 10_000).split(' ');
    expect(sequence.filter((n) => n === 'a').length).toBe(7_000);
    expect(sequence.filter((n) => n === 'b').length).toBe(2_000);
    expect(sequence.filter((n) => n === 'c').length).toBe(1_000);
    // Smooth: b and c are never picked twice in a row.
    for (let i = 1; i < sequence.length; i++) if (sequence[i] !== 'a') expect(sequence[i - 1]).not.toBe(sequence[i]);
  });

  it('weighted-round-robin — fractional weights work like their integer ratios', () => {
    expect(picks(weightedRoundRobinAlgorithm(), { a: 0.5, b: 0.25, c: 0.25 }, 8)).toBe(
      picks(weightedRoundRobinAlgorithm(), { a: 2, b: 1, c: 1 }, 8),
    );
  });

  it('weighted-round-robin — zero, negative, NaN and infinite weights are never chosen while others have weight', () => {
    const algorithm = weightedRoundRobinAlgorithm();
    const sequence = picks(algorithm, { a: 0, b: -3, c: Number.NaN, d: Infinity, e: 2, f: 1 }, 30).split(' ');
    expect(new Set(sequence)).toEqual(new Set(['e', 'f']));
    expect(sequence.filter((n) => n === 'e').length).toBe(20);
  });

  it('weighted-round-robin — when no weight is positive, all count as 1 (plain round-robin)', () => {
    expect(picks(weightedRoundRobinAlgorithm(), { a: 0, b: 0, c: -1 }, 6)).toBe('a b c a b c');
  });

  it('weighted-round-robin — a node that leaves is forgotten and comes back at 0', () => {
    const algorithm = weightedRoundRobinAlgorithm();
    expect(picks(algorithm, { a: 5, b: 1, c: 1 }, 3)).toBe('a a b');
    // c leaves with a current weight of 3 ...
    expect(picks(algorithm, { a: 5, b: 1 }, 1)).toBe('a');
    // ... and returns at 0: remembered, it would have been picked second (a c ...), not third.
    expect(picks(algorithm, { a: 5, b: 1, c: 1 }, 3)).toBe('a a c');
  });

  it('weighted-round-robin — a node that drops to weight 0 loses its turn and comes back at 0', () => {
    const algorithm = weightedRoundRobinAlgorithm();
    expect(picks(algorithm, { a: 1, b: 1, c: 1 }, 1)).toBe('a');
    // b (current weight 1) would be next; at weight 0 it is skipped.
    expect(picks(algorithm, { a: 1, b: 0, c: 1 }, 2)).toBe('c c');
    // Back at weight 1 from 0 it comes after a; had it kept its 1 it would have come first (b a ...).
    expect(picks(algorithm, { a: 1, b: 1, c: 1 }, 3)).toBe('a b c');
  });

  it('weighted-round-robin — two instances keep separate weights; no candidates, no choice', () => {
    const one = weightedRoundRobinAlgorithm();
    const two = weightedRoundRobinAlgorithm();
    expect(picks(one, { a: 5, b: 1, c: 1 }, 3)).toBe('a a b');
    expect(picks(two, { a: 5, b: 1, c: 1 }, 3)).toBe('a a b');
    expect(one.select([], CONTEXT)).toBeUndefined();
    expect(picks(one, { a: 5, b: 1, c: 1 }, 4)).toBe('a c a a');
  });
});
