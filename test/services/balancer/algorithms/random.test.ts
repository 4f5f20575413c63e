import { describe, expect, it } from 'vitest';
import { randomAlgorithm, randomIndex } from '../../../../src/services/balancer/algorithms/random.js';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';
import { mulberry32 } from '../../../helpers/prng.js';

function candidates(n: number): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({ node: `n${i}@127.0.0.1:${4000 + i}`, weight: 1, inFlight: 0, meta: {} }));
}

function context(random: () => number): SelectionContext {
  return { random, localNode: 'n0@127.0.0.1:4000' };
}

describe('random algorithm', () => {
  it('random — covers all candidates about uniformly (chi-square, seeded)', () => {
    const list = candidates(5);
    const algorithm = randomAlgorithm();
    const ctx = context(mulberry32(1));
    const picks = 50_000;
    const counts = new Map<Candidate, number>();
    for (let i = 0; i < picks; i++) {
      const chosen = algorithm.select(list, ctx)!;
      counts.set(chosen, (counts.get(chosen) ?? 0) + 1);
    }
    expect(counts.size).toBe(5);
    const expected = picks / 5;
    let chiSquare = 0;
    for (const count of counts.values()) chiSquare += (count - expected) ** 2 / expected;
    // 4 degrees of freedom: 18.47 is the 0.1% critical value.
    expect(chiSquare).toBeLessThan(18.47);
  });

  it('random — draws once per pick and follows the source', () => {
    const list = candidates(4);
    let draws = 0;
    const values = [0, 0.26, 0.5, 0.99];
    const ctx = context(() => values[draws++ % values.length]!);
    const chosen = values.map(() => randomAlgorithm().select(list, ctx));
    expect(draws).toBe(4);
    expect(chosen).toEqual([list[0], list[1], list[2], list[3]]);
  });

  it('random — a source outside [0, 1) still yields a candidate of the list', () => {
    const list = candidates(3);
    for (const value of [1, 1.5, -0.2, Number.NaN, Infinity, -Infinity]) {
      expect(list).toContain(randomAlgorithm().select(list, context(() => value)));
    }
    expect(randomIndex(() => 1, 3)).toBe(2);
    expect(randomIndex(() => -1, 3)).toBe(0);
  });

  it('random — no candidates, no choice', () => {
    expect(randomAlgorithm().select([], context(Math.random))).toBeUndefined();
  });
});
