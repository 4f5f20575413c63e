import { describe, expect, it } from 'vitest';
import { BACKOFF_DEFAULTS, Backoff, JITTER, backoffDelay, type BackoffOptions, type Jitter } from '../../src/core/backoff.js';
import { mulberry32 } from '../helpers/prng.js';
import { thrown } from '../helpers/errors.js';
import { stats } from '../helpers/stats.js';

const SAMPLES = 10_000;


function samples(attempt: number, options: BackoffOptions): number[] {
  return Array.from({ length: SAMPLES }, () => backoffDelay(attempt, options));
}

describe('Backoff', () => {
  it("Backoff — 'none' doubles from 100 ms up to the 30 s cap", () => {
    const b = new Backoff({ jitter: 'none' });
    const seen = Array.from({ length: 12 }, () => b.next());
    expect(seen).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000]);
    expect(b.attempt).toBe(12);
  });

  it("Backoff — 'none' follows baseMs, factor and maxMs", () => {
    const b = new Backoff({ jitter: 'none', baseMs: 10, factor: 3, maxMs: 500 });
    expect(Array.from({ length: 6 }, () => b.next())).toEqual([10, 30, 90, 270, 500, 500]);
    const flat = new Backoff({ jitter: 'none', baseMs: 250, factor: 1 });
    expect(Array.from({ length: 4 }, () => flat.next())).toEqual([250, 250, 250, 250]);
  });

  it('Backoff — attempt counts the delays handed out', () => {
    const b = new Backoff();
    expect(b.attempt).toBe(0);
    b.next();
    b.next();
    expect(b.attempt).toBe(2);
  });

  it('Backoff — defaults are base 100, factor 2, cap 30 s, full jitter', () => {
    expect(BACKOFF_DEFAULTS).toMatchObject({ baseMs: 100, maxMs: 30_000, factor: 2, jitter: 'full' });
    expect(BACKOFF_DEFAULTS.random).toBe(Math.random);
    expect(Object.isFrozen(BACKOFF_DEFAULTS)).toBe(true);
    const b = new Backoff({ random: () => 0.5 });
    expect(Array.from({ length: 4 }, () => b.next())).toEqual([50, 100, 200, 400]);
    for (let i = 0; i < 20; i++) b.next();
    expect(b.next()).toBe(15_000);
  });

  it('Backoff — the same seed gives the same delays', () => {
    for (const jitter of Object.values(JITTER)) {
      const a = new Backoff({ jitter, random: mulberry32(7) });
      const b = new Backoff({ jitter, random: mulberry32(7) });
      const c = new Backoff({ jitter, random: mulberry32(8) });
      const sa = Array.from({ length: 20 }, () => a.next());
      expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
      if (jitter !== 'none') expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
    }
  });

  it('Backoff — reset starts the sequence over', () => {
    const b = new Backoff({ jitter: 'none' });
    for (let i = 0; i < 5; i++) b.next();
    b.reset();
    expect(b.attempt).toBe(0);
    expect([b.next(), b.next()]).toEqual([100, 200]);
  });

  it('Backoff — reset also resets the previous delay of decorrelated jitter', () => {
    const b = new Backoff({ jitter: 'decorrelated', random: () => 0.999_999 });
    for (let i = 0; i < 10; i++) b.next();
    expect(b.next()).toBe(30_000);
    b.reset();
    const first = b.next();
    expect(first).toBeGreaterThan(299);
    expect(first).toBeLessThanOrEqual(300);
    expect(b.attempt).toBe(1);
  });
});

describe('jitter', () => {
  it('full jitter — uniform over [0, exp], mean near exp/2', () => {
    for (const attempt of [0, 3, 8, 20]) {
      const exp = Math.min(30_000, 100 * 2 ** attempt);
      const s = stats(samples(attempt, { jitter: 'full', random: mulberry32(attempt + 1) }));
      expect(s.min).toBeGreaterThanOrEqual(0);
      expect(s.max).toBeLessThanOrEqual(exp);
      expect(s.min).toBeLessThan(exp * 0.01);
      expect(s.max).toBeGreaterThan(exp * 0.99);
      expect(Math.abs(s.mean - exp / 2)).toBeLessThan(exp * 0.02);
    }
  });

  it('equal jitter — never below exp/2, never above exp, mean near 3/4 exp', () => {
    for (const attempt of [0, 4, 9, 50]) {
      const exp = Math.min(30_000, 100 * 2 ** attempt);
      const s = stats(samples(attempt, { jitter: 'equal', random: mulberry32(100 + attempt) }));
      expect(s.min).toBeGreaterThanOrEqual(exp / 2);
      expect(s.max).toBeLessThanOrEqual(exp);
      expect(s.min).toBeLessThan(exp * 0.51);
      expect(s.max).toBeGreaterThan(exp * 0.99);
      expect(Math.abs(s.mean - exp * 0.75)).toBeLessThan(exp * 0.02);
    }
  });

  it("decorrelated jitter — each delay lies in [base, min(cap, prev*3)], starting from prev = base", () => {
    const base = 50;
    const cap = 5_000;
    const b = new Backoff({ jitter: 'decorrelated', baseMs: base, maxMs: cap, random: mulberry32(42) });
    let prev = base;
    const all: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(base);
      expect(d).toBeLessThanOrEqual(Math.min(cap, prev * 3));
      all.push(d);
      prev = d;
    }
    const s = stats(all);
    expect(s.min).toBeLessThan(base * 1.1); // it does fall back towards base
    expect(s.max).toBe(cap); // and does reach the cap
    expect(new Set(all).size).toBeGreaterThan(SAMPLES * 0.5);
  });

  it('decorrelated jitter — follows min(cap, random(base, prev*3)) exactly', () => {
    const b = new Backoff({ jitter: 'decorrelated', random: () => 0.5 });
    // 100 + 0.5 * (300 - 100) = 200; 100 + 0.5 * (600 - 100) = 350; 100 + 0.5 * (1050 - 100) = 575
    expect([b.next(), b.next(), b.next()]).toEqual([200, 350, 575]);
    const low = new Backoff({ jitter: 'decorrelated', random: () => 0 });
    expect([low.next(), low.next(), low.next()]).toEqual([100, 100, 100]);
  });

  it('jitter — delays stay in range even when random() misbehaves', () => {
    for (const value of [Number.NaN, -1, 2, Infinity, -Infinity]) {
      for (const jitter of Object.values(JITTER)) {
        const b = new Backoff({ jitter, random: () => value });
        for (let i = 0; i < 30; i++) {
          const d = b.next();
          expect(Number.isFinite(d), `${jitter} with random=${value}`).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(30_000);
        }
      }
    }
  });
});

describe('overflow', () => {
  const configs: BackoffOptions[] = [
    {},
    { factor: 10 },
    { factor: 1e6, baseMs: 1e3, maxMs: 1e9 },
    { baseMs: 0 },
    { baseMs: 0, maxMs: 0 },
    { baseMs: 30_000 },
    { factor: 1 },
  ];

  it('Backoff — no NaN, Infinity or negative delay after 10,000 attempts, for every jitter', () => {
    for (const jitter of Object.values(JITTER)) {
      for (const options of configs) {
        const b = new Backoff({ ...options, jitter, random: mulberry32(3) });
        const max = options.maxMs ?? 30_000;
        let last = 0;
        for (let i = 0; i < 10_000; i++) {
          last = b.next();
          if (!(Number.isFinite(last) && last >= 0 && last <= max)) {
            throw new Error(`${jitter} ${JSON.stringify(options)} gave ${last} at attempt ${i}`);
          }
        }
        if (jitter === 'none') {
          const settled = options.baseMs === 0 ? 0 : options.factor === 1 ? (options.baseMs ?? 100) : max;
          expect(last).toBe(settled);
        }
      }
    }
  });

  it('backoffDelay — huge attempt numbers give the cap, base 0 gives 0', () => {
    expect(backoffDelay(10_000, { jitter: 'none' })).toBe(30_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, { jitter: 'none' })).toBe(30_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, { jitter: 'none', factor: 1 })).toBe(100);
    expect(backoffDelay(10_000, { jitter: 'none', baseMs: 0 })).toBe(0);
    expect(backoffDelay(10_000, { jitter: 'equal', random: () => 0 })).toBe(15_000);
  });
});

describe('backoffDelay', () => {
  it("backoffDelay — matches Backoff for 'none', attempt by attempt", () => {
    const b = new Backoff({ jitter: 'none', baseMs: 7, factor: 1.5, maxMs: 1000 });
    for (let attempt = 0; attempt < 20; attempt++) {
      expect(backoffDelay(attempt, { jitter: 'none', baseMs: 7, factor: 1.5, maxMs: 1000 })).toBe(b.next());
    }
  });

  it('backoffDelay — uses full jitter by default', () => {
    expect(backoffDelay(3, { random: () => 0.25 })).toBe(200);
  });

  it("backoffDelay — refuses 'decorrelated', which needs the previous delay", () => {
    const e = thrown(() => backoffDelay(1, { jitter: 'decorrelated' }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/Backoff/);
  });

  it.each([[-1], [1.5], [Number.NaN], [Infinity], ['2' as unknown as number]])(
    'backoffDelay — refuses attempt %j with INVALID_ARGUMENT',
    (attempt) => {
      const e = thrown(() => backoffDelay(attempt));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/attempt must be an integer >= 0/);
    },
  );
});

describe('option validation', () => {
  it.each<[string, BackoffOptions, RegExp]>([
    ['negative baseMs', { baseMs: -1 }, /baseMs -1: expected a finite number of milliseconds >= 0/],
    ['NaN baseMs', { baseMs: Number.NaN }, /baseMs NaN/],
    ['infinite baseMs', { baseMs: Infinity }, /baseMs Infinity/],
    ['string baseMs', { baseMs: '100' as unknown as number }, /baseMs "100"/],
    ['maxMs below baseMs', { baseMs: 500, maxMs: 100 }, /maxMs 100: expected .* >= baseMs \(500\)/],
    ['maxMs below the default baseMs', { maxMs: 50 }, /maxMs 50/],
    ['infinite maxMs', { maxMs: Infinity }, /maxMs Infinity/],
    ['factor below 1', { factor: 0.5 }, /factor 0.5: expected a finite number >= 1/],
    ['negative factor', { factor: -2 }, /factor -2/],
    ['NaN factor', { factor: Number.NaN }, /factor NaN/],
    ['infinite factor', { factor: Infinity }, /factor Infinity/],
    ['unknown jitter', { jitter: 'fulll' as Jitter }, /jitter "fulll": expected one of 'none', 'full', 'equal', 'decorrelated'/],
    ['random not a function', { random: 0.5 as unknown as () => number }, /random 0.5/],
  ])('Backoff — refuses %s with INVALID_OPTION', (_label, options, message) => {
    const e = thrown(() => new Backoff(options));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(message);
    expect(thrown(() => backoffDelay(0, options)).code).toBe('INVALID_OPTION');
  });

  it('Backoff — refuses options that are not an object', () => {
    expect(thrown(() => new Backoff(null as unknown as BackoffOptions)).code).toBe('INVALID_OPTION');
  });

  it('Backoff — accepts the edges: baseMs 0, maxMs equal to baseMs, factor 1', () => {
    expect(new Backoff({ baseMs: 0, jitter: 'none' }).next()).toBe(0);
    const same = new Backoff({ baseMs: 200, maxMs: 200, jitter: 'none' });
    expect([same.next(), same.next()]).toEqual([200, 200]);
    expect(new Backoff({ factor: 1, jitter: 'none' }).next()).toBe(100);
  });

  it('JITTER — names every kind and is frozen', () => {
    expect(Object.values(JITTER)).toEqual(['none', 'full', 'equal', 'decorrelated']);
    expect(Object.isFrozen(JITTER)).toBe(true);
  });
});
