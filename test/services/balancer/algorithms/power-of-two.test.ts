import { describe, expect, it } from 'vitest';
import { powerOfTwoAlgorithm } from '../../../../src/services/balancer/algorithms/power-of-two.js';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';
import { mulberry32 } from '../../../helpers/prng.js';

function list(...inFlight: number[]): Candidate[] {
  return inFlight.map((n, i) => ({ node: `n${String(i).padStart(2, '0')}`, weight: 1, inFlight: n, meta: {} }));
}

function context(random: () => number): SelectionContext {
  return { random, localNode: 'n00' };
}

/** The candidates with a record of which indices `select` read: the two it drew. */
function watched(candidates: Candidate[]): { list: Candidate[]; reads: Set<number> } {
  const reads = new Set<number>();
  const list = new Proxy(candidates, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads.add(Number(property));
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { list, reads };
}

describe('power-of-two algorithm', () => {
  it('power-of-two — draws two distinct candidates and never picks the busier of them', () => {
    const random = mulberry32(5);
    const algorithm = powerOfTwoAlgorithm();
    for (let pick = 0; pick < 2_000; pick++) {
      const n = 2 + Math.floor(random() * 9);
      const candidates = list(...Array.from({ length: n }, () => Math.floor(random() * 4)));
      const { list: proxied, reads } = watched(candidates);
      const chosen = algorithm.select(proxied, context(random))!;
      expect(reads.size).toBe(2);
      const [first, second] = [...reads].map((i) => candidates[i]!);
      expect([first, second]).toContain(chosen);
      const other = chosen === first ? second! : first!;
      expect(chosen.inFlight).toBeLessThanOrEqual(other.inFlight);
    }
  });

  it('power-of-two — every pair is drawn about equally often (seeded)', () => {
    const candidates = list(0, 0, 0, 0);
    const ctx = context(mulberry32(9));
    const algorithm = powerOfTwoAlgorithm();
    const pairs = new Map<string, number>();
    const picks = 30_000;
    for (let pick = 0; pick < picks; pick++) {
      const { list: proxied, reads } = watched(candidates);
      algorithm.select(proxied, ctx);
      const key = [...reads].sort().join('-');
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    expect([...pairs.keys()].sort()).toEqual(['0-1', '0-2', '0-3', '1-2', '1-3', '2-3']);
    const expected = picks / 6;
    let chiSquare = 0;
    for (const count of pairs.values()) chiSquare += (count - expected) ** 2 / expected;
    // 5 degrees of freedom: 20.52 is the 0.1% critical value.
    expect(chiSquare).toBeLessThan(20.52);
  });

  it('power-of-two — with two candidates the busier one is never chosen', () => {
    const algorithm = powerOfTwoAlgorithm();
    const ctx = context(mulberry32(2));
    for (const loads of [
      [3, 1],
      [0, 7],
      [2, 3],
    ]) {
      const candidates = list(...loads);
      const idle = loads[0]! < loads[1]! ? candidates[0] : candidates[1];
      for (let pick = 0; pick < 1_000; pick++) expect(algorithm.select(candidates, ctx)).toBe(idle);
    }
  });

  it('power-of-two — equal load still spreads over both', () => {
    const candidates = list(2, 2);
    const algorithm = powerOfTwoAlgorithm();
    const ctx = context(mulberry32(3));
    let firstChosen = 0;
    for (let pick = 0; pick < 2_000; pick++) if (algorithm.select(candidates, ctx) === candidates[0]) firstChosen++;
    expect(firstChosen).toBeGreaterThan(850);
    expect(firstChosen).toBeLessThan(1_150);
  });

  it('power-of-two — the idlest candidate wins most, the busiest never (distinct loads)', () => {
    // Loads 0..4: a candidate wins exactly the pairs it is the idler of, (4 - load) of the 10.
    const candidates = list(0, 1, 2, 3, 4);
    const algorithm = powerOfTwoAlgorithm();
    const ctx = context(mulberry32(4));
    const wins = [0, 0, 0, 0, 0];
    const picks = 20_000;
    for (let pick = 0; pick < picks; pick++) wins[algorithm.select(candidates, ctx)!.inFlight]!++;
    expect(wins[4]).toBe(0);
    for (let load = 0; load < 4; load++) expect(wins[load]! / picks).toBeCloseTo((4 - load) / 10, 1);
  });

  it('power-of-two — one candidate is taken without a draw; none gives no choice', () => {
    let draws = 0;
    const ctx = context(() => {
      draws++;
      return 0.5;
    });
    const candidates = list(9);
    expect(powerOfTwoAlgorithm().select(candidates, ctx)).toBe(candidates[0]);
    expect(powerOfTwoAlgorithm().select([], ctx)).toBeUndefined();
    expect(draws).toBe(0);
  });

  it('power-of-two — a source stuck at one value still draws two distinct candidates', () => {
    for (const value of [0, 0.5, 0.999, 1, Number.NaN]) {
      const candidates = list(1, 1, 1);
      const { list: proxied, reads } = watched(candidates);
      powerOfTwoAlgorithm().select(proxied, context(() => value));
      expect(reads.size).toBe(2);
    }
  });
});
