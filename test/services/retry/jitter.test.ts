import { describe, expect, it } from 'vitest';
import type { Jitter } from '../../../src/core/backoff.js';
import { mulberry32 } from '../../helpers/prng.js';
import { runRetry } from './drive.js';
import { stats } from '../../helpers/stats.js';

/** Seeded runs per jitter kind; each run makes 6 attempts, so 5 waits. */
const RUNS = 500;
const BASE = 100;
const CAP = 1_000;
/** The capped exponential wait before attempt n + 2, i.e. of retry n (0-based): 100, 200, 400, 800, 1000. */
const EXP = [100, 200, 400, 800, 1_000];


/** The waits of `runs` seeded runs: `waits[run][retry]`, checked against what the clock measured. */
async function waits(jitter: Jitter, seed: number, runs = RUNS): Promise<number[][]> {
  const all: number[][] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runRetry({ jitter, baseMs: BASE, maxMs: CAP, factor: 2, maxAttempts: 6, random: mulberry32(seed + i) });
    expect(run.attempts).toHaveLength(6);
    const delays = run.retries.map((r) => r.delayMs);
    expect(delays).toHaveLength(5);
    delays.forEach((d, n) => expect(run.gaps[n]).toBeCloseTo(d, 6)); // retry waited what it said
    all.push(delays);
  }
  return all;
}

const column = (rows: number[][], n: number): number[] => rows.map((r) => r[n]!);

describe('retry jitter', () => {
  it("retry jitter — 'full': wait n uniform in [0, exp_n], mean near exp_n/2, reaching both ends", async () => {
    const rows = await waits('full', 1);
    EXP.forEach((exp, n) => {
      const s = stats(column(rows, n));
      expect(s.min).toBeGreaterThanOrEqual(0);
      expect(s.max).toBeLessThanOrEqual(exp);
      expect(s.min).toBeLessThan(exp * 0.02);
      expect(s.max).toBeGreaterThan(exp * 0.98);
      expect(Math.abs(s.mean - exp / 2)).toBeLessThan(exp * 0.04);
    });
  });

  it("retry jitter — 'equal': wait n uniform in [exp_n/2, exp_n], mean near 3/4 exp_n, reaching both ends", async () => {
    const rows = await waits('equal', 10_000);
    EXP.forEach((exp, n) => {
      const s = stats(column(rows, n));
      expect(s.min).toBeGreaterThanOrEqual(exp / 2);
      expect(s.max).toBeLessThanOrEqual(exp);
      expect(s.min).toBeLessThan(exp * 0.51);
      expect(s.max).toBeGreaterThan(exp * 0.99);
      expect(Math.abs(s.mean - exp * 0.75)).toBeLessThan(exp * 0.02);
    });
  });

  it("retry jitter — 'decorrelated': each wait in [base, min(cap, previous * 3)], from previous = base", async () => {
    const rows = await waits('decorrelated', 20_000);
    for (const delays of rows) {
      let previous = BASE;
      for (const d of delays) {
        expect(d).toBeGreaterThanOrEqual(BASE);
        expect(d).toBeLessThanOrEqual(Math.min(CAP, previous * 3));
        previous = d;
      }
    }
    // The first wait is uniform in [base, 3 * base].
    const first = stats(column(rows, 0));
    expect(first.min).toBeLessThan(BASE * 1.02);
    expect(first.max).toBeGreaterThan(BASE * 2.96);
    expect(Math.abs(first.mean - 2 * BASE)).toBeLessThan(BASE * 0.05);
    // Later waits spread over the whole range: back down near base, and up to the cap.
    const later = stats(rows.flatMap((r) => r.slice(1)));
    expect(later.min).toBeLessThan(BASE * 1.05);
    expect(later.max).toBe(CAP);
    const last = stats(column(rows, 4));
    expect(last.mean).toBeGreaterThan(first.mean * 1.5); // it grows on average
  });

  it("retry jitter — 'none': every run waits the same exact exponential delays", async () => {
    const rows = await waits('none', 30_000, 20);
    for (const delays of rows) expect(delays).toEqual(EXP);
  });

  it('retry jitter — the same seed gives the same waits, another seed other ones', async () => {
    const run = async (seed: number) =>
      (await runRetry({ jitter: 'decorrelated', maxAttempts: 8, random: mulberry32(seed) })).retries.map((r) => r.delayMs);
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });
});
