import { describe, expect, it, vi } from 'vitest';
import { CohortError } from '../../../src/core/errors.js';
import {
  RETRY_PRESETS,
  RETRY_PRESET_NAMES,
  isRetryPresetName,
  resolveRetryPolicy,
  retry,
  type RetryPresetName,
} from '../../../src/services/retry/index.js';
import { mulberry32 } from '../../helpers/prng.js';
import { runRetry } from './drive.js';

describe('RETRY_PRESETS', () => {
  it('RETRY_PRESETS — names every preset, each frozen, in a frozen table', () => {
    expect(RETRY_PRESET_NAMES).toEqual(['default', 'withJitter', 'none', 'aggressive', 'conservative']);
    expect(Object.keys(RETRY_PRESETS)).toEqual(RETRY_PRESET_NAMES);
    expect(Object.isFrozen(RETRY_PRESETS)).toBe(true);
    expect(Object.isFrozen(RETRY_PRESET_NAMES)).toBe(true);
    for (const name of RETRY_PRESET_NAMES) {
      expect(Object.isFrozen(RETRY_PRESETS[name])).toBe(true);
      expect(isRetryPresetName(name)).toBe(true);
    }
    for (const other of ['fast', 'toString', '__proto__', 7]) expect(isRetryPresetName(other)).toBe(false);
  });

  it('RETRY_PRESETS — each has its documented shape', () => {
    expect(RETRY_PRESETS).toEqual({
      default: { maxAttempts: 3, baseMs: 100, maxMs: 5_000, factor: 2, jitter: 'none' },
      withJitter: { maxAttempts: 3, baseMs: 100, maxMs: 5_000, factor: 2, jitter: 'full' },
      none: { maxAttempts: 1, baseMs: 0, maxMs: 0, factor: 1, jitter: 'none' },
      aggressive: { maxAttempts: 5, baseMs: 50, maxMs: 2_000, factor: 2, jitter: 'full' },
      conservative: { maxAttempts: 2, baseMs: 1_000, maxMs: 10_000, factor: 2, jitter: 'equal' },
    });
  });

  it('RETRY_PRESETS — aggressive tries more and waits less than default; conservative the reverse', () => {
    const { default: d, aggressive: a, conservative: c } = RETRY_PRESETS;
    expect(a.maxAttempts).toBeGreaterThan(d.maxAttempts);
    expect(a.baseMs).toBeLessThan(d.baseMs);
    expect(c.maxAttempts).toBeLessThan(d.maxAttempts);
    expect(c.baseMs).toBeGreaterThan(d.baseMs);
  });

  it.each(RETRY_PRESET_NAMES.map((n) => [n]))('RETRY_PRESETS — %s resolves by name to its own shape', (name: RetryPresetName) => {
    expect(resolveRetryPolicy(name)).toMatchObject(RETRY_PRESETS[name]);
  });
});

describe('presets in use', () => {
  it('retry preset — default waits exactly 100 then 200 ms over 3 attempts', async () => {
    const run = await runRetry({ ...RETRY_PRESETS.default });
    expect(run.attempts).toHaveLength(3);
    expect(run.gaps).toEqual([100, 200]);
  });

  it('retry preset — withJitter makes 3 attempts with waits in [0, 100] then [0, 200]', async () => {
    const run = await runRetry({ ...RETRY_PRESETS.withJitter, random: mulberry32(3) });
    expect(run.attempts).toHaveLength(3);
    expect(run.gaps[0]).toBeLessThanOrEqual(100);
    expect(run.gaps[1]).toBeLessThanOrEqual(200);
    expect(run.gaps).not.toEqual([100, 200]);
  });

  it("retry preset — 'none' makes a single attempt, even for a retryable error", async () => {
    const fn = vi.fn(() => Promise.reject(new CohortError('TIMEOUT', 't')));
    const e = await retry(fn, 'none').catch((error: unknown) => error);
    expect((e as CohortError).code).toBe('TIMEOUT');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('retry preset — aggressive makes 5 attempts, waits at most 50, 100, 200, 400 ms', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const run = await runRetry({ ...RETRY_PRESETS.aggressive, random: mulberry32(seed) });
      expect(run.attempts).toHaveLength(5);
      run.gaps.forEach((g, i) => expect(g).toBeLessThanOrEqual([50, 100, 200, 400][i]!));
    }
  });

  it('retry preset — conservative makes 2 attempts with one wait of 0.5 to 1 s', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const run = await runRetry({ ...RETRY_PRESETS.conservative, random: mulberry32(seed) });
      expect(run.attempts).toHaveLength(2);
      expect(run.gaps[0]).toBeGreaterThanOrEqual(500);
      expect(run.gaps[0]).toBeLessThanOrEqual(1_000);
    }
  });

  it('retry preset — spreading a preset and overriding fields combines them', async () => {
    const run = await runRetry({ ...RETRY_PRESETS.default, maxAttempts: 5, maxMs: 300 });
    expect(run.attempts).toHaveLength(5);
    expect(run.gaps).toEqual([100, 200, 300, 300]);
    expect(RETRY_PRESETS.default.maxAttempts).toBe(3); // the preset itself is untouched
  });

  it('retry preset — a preset by name is used as given', async () => {
    const fn = vi.fn(({ attempt }: { attempt: number }) => (attempt === 1 ? 'first' : 'later'));
    await expect(retry(fn, 'conservative')).resolves.toBe('first');
    expect(fn).toHaveBeenCalledWith({ attempt: 1, signal: undefined });
  });
});
