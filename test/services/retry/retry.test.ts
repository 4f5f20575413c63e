import { describe, expect, it, vi } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../../src/core/clock.js';
import { CohortError } from '../../../src/core/errors.js';
import {
  RETRY_DEFAULTS,
  RETRY_PRESETS,
  isRetryable,
  resolveRetryPolicy,
  retry,
  type RetryPolicy,
} from '../../../src/services/retry/index.js';
import { rejection, thrown } from '../../helpers/errors.js';
import { drive, retryableError, runRetry } from './drive.js';

const exact = { jitter: 'none', baseMs: 100, factor: 2, maxMs: 300 } as const;

describe('retry outcomes', () => {
  it('retry — returns the first success, calling fn with attempts 1, 2, 3 and the signal', async () => {
    const controller = new AbortController();
    const run = await runRetry({ ...exact, maxAttempts: 5, signal: controller.signal }, ({ attempt }) => {
      if (attempt < 3) throw retryableError(attempt);
      return `ok on ${attempt}`;
    });
    expect(run.outcome).toEqual({ ok: true, value: 'ok on 3' });
    expect(run.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    for (const a of run.attempts) expect(a.signal).toBe(controller.signal);
    expect(run.gaps).toEqual([100, 200]);
  });

  it("retry — jitter 'none' waits exactly 100, 200, 400 ms, capped at maxMs", async () => {
    const run = await runRetry({ jitter: 'none', baseMs: 100, factor: 2, maxMs: 500, maxAttempts: 6 });
    expect(run.attempts).toHaveLength(6);
    expect(run.gaps).toEqual([100, 200, 400, 500, 500]);
    expect(run.retries.map((r) => r.delayMs)).toEqual([100, 200, 400, 500, 500]);
    expect(run.startedAt).toEqual([0, 100, 300, 700, 1200, 1700]);
  });

  it('retry — after the last attempt rethrows its error unchanged and waits no more', async () => {
    const errors: CohortError[] = [];
    const clock = new ManualClock();
    const outcome = await drive(
      clock,
      retry(
        ({ attempt }) => {
          const e = retryableError(attempt);
          errors.push(e);
          throw e;
        },
        { ...exact, maxAttempts: 3, clock },
      ),
    );
    expect(outcome.ok).toBe(false);
    expect(errors).toHaveLength(3);
    expect(!outcome.ok && outcome.error).toBe(errors[2]);
    expect(clock.now()).toBe(300); // 100 + 200, nothing after the third attempt
    expect(clock.pending()).toBe(0);
  });

  it('retry — onRetry sees each failed attempt but the last, with its delay and error', async () => {
    const run = await runRetry({ ...exact, maxAttempts: 3 });
    expect(run.retries.map((r) => [r.attempt, r.delayMs, (r.error as CohortError).message])).toEqual([
      [1, 100, 'attempt 1 timed out'],
      [2, 200, 'attempt 2 timed out'],
    ]);
  });

  it('retry — a non-retryable error is rethrown at once, unchanged, with no wait', async () => {
    const clock = new ManualClock();
    const bad = new CohortError('BAD_REQUEST', 'no');
    const fn = vi.fn(() => Promise.reject(bad));
    const onRetry = vi.fn();
    const outcome = await drive(clock, retry(fn, { ...exact, maxAttempts: 5, clock, onRetry }));
    expect(outcome).toEqual({ ok: false, error: bad });
    expect(!outcome.ok && outcome.error).toBe(bad);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(clock.now()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('retry — a synchronous return or throw of fn counts like a promise', async () => {
    const clock = new ManualClock();
    expect(await drive(clock, retry(() => 7, { clock }))).toEqual({ ok: true, value: 7 });
    let calls = 0;
    const outcome = await drive(
      clock,
      retry(
        () => {
          calls++;
          if (calls === 1) throw retryableError(1);
          return 'second';
        },
        { ...exact, clock },
      ),
    );
    expect(outcome).toEqual({ ok: true, value: 'second' });
  });

  it('retry — maxAttempts Infinity keeps going until a success', async () => {
    const run = await runRetry({ ...exact, maxAttempts: Infinity }, ({ attempt }) => {
      if (attempt < 20) throw retryableError(attempt);
      return attempt;
    });
    expect(run.outcome).toEqual({ ok: true, value: 20 });
    expect(run.gaps.slice(-3)).toEqual([300, 300, 300]);
  });
});

describe('retryIf', () => {
  it('isRetryable — true only for errors marked retryable: true', () => {
    expect(isRetryable(new CohortError('TIMEOUT', 't'))).toBe(true);
    expect(isRetryable(new CohortError('NOCONNECTION', 'n'))).toBe(true);
    expect(isRetryable(new CohortError('BAD_REQUEST', 'b'))).toBe(false);
    expect(isRetryable(new CohortError('BAD_REQUEST', 'b', { retryable: true }))).toBe(true);
    expect(isRetryable(new CohortError('TIMEOUT', 't', { retryable: false }))).toBe(false);
    expect(isRetryable(Object.assign(new Error('busy'), { retryable: true }))).toBe(true);
    expect(isRetryable({ retryable: true })).toBe(true);
    expect(isRetryable({ retryable: 'yes' })).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
    for (const v of [null, undefined, 'TIMEOUT', 42]) expect(isRetryable(v)).toBe(false);
  });

  it('retry — by default retries retryable errors only', async () => {
    const marked = Object.assign(new Error('busy'), { retryable: true });
    const plain = new Error('plain');
    const a = await runRetry({ ...exact, maxAttempts: 3 }, () => {
      throw marked;
    });
    expect(a.attempts).toHaveLength(3);
    const b = await runRetry({ ...exact, maxAttempts: 3 }, () => {
      throw plain;
    });
    expect(b.attempts).toHaveLength(1);
    expect(b.outcome).toEqual({ ok: false, error: plain });
  });

  it('retry — retryIf gets the error and attempt number and decides', async () => {
    const seen: [string, number][] = [];
    const run = await runRetry(
      {
        ...exact,
        maxAttempts: 10,
        retryIf: (error, attempt) => {
          seen.push([(error as Error).message, attempt]);
          return attempt < 3;
        },
      },
      ({ attempt }) => {
        throw new Error(`plain ${attempt}`); // not retryable by default, but retryIf says yes
      },
    );
    expect(seen).toEqual([
      ['plain 1', 1],
      ['plain 2', 2],
      ['plain 3', 3],
    ]);
    expect(run.attempts).toHaveLength(3);
    expect(!run.outcome.ok && (run.outcome.error as Error).message).toBe('plain 3');
  });

  it('retry — retryIf is not consulted after the last attempt', async () => {
    const retryIf = vi.fn(() => true);
    await runRetry({ ...exact, maxAttempts: 2, retryIf });
    expect(retryIf).toHaveBeenCalledTimes(1);
  });

  it('retry — an error thrown by retryIf or onRetry rejects retry with it, with no further attempt', async () => {
    const boom = new Error('retryIf broke');
    const a = await runRetry({ ...exact, retryIf: () => { throw boom; } });
    expect(a.outcome).toEqual({ ok: false, error: boom });
    expect(a.attempts).toHaveLength(1);

    const clock = new ManualClock();
    const fn = vi.fn(() => Promise.reject(retryableError(1)));
    const oops = new Error('onRetry broke');
    const outcome = await drive(clock, retry(fn, { ...exact, clock, onRetry: () => { throw oops; } }));
    expect(outcome).toEqual({ ok: false, error: oops });
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('abort', () => {
  it('retry abort — an already aborted signal rejects with ABORTED before any attempt', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const why = new Error('shutting down');
    controller.abort(why);
    const fn = vi.fn(() => 1);
    const e = await rejection(retry(fn, { clock, signal: controller.signal }));
    expect(e.code).toBe('ABORTED');
    expect(e.cause).toBe(why);
    expect(e.details).toEqual({ attempts: 0 });
    expect(e.message).toMatch(/before the first attempt/);
    expect(fn).not.toHaveBeenCalled();
  });

  it('retry abort — during a wait rejects at once, cancels the wait and calls fn no more', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const fn = vi.fn(({ attempt }: { attempt: number }) => Promise.reject(retryableError(attempt)));
    let settled: unknown;
    const pending = retry(fn, { ...exact, maxAttempts: 5, clock, signal: controller.signal }).catch((e: unknown) => (settled = e));
    await clock.advance(50); // attempt 1 failed; halfway through its 100 ms wait
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pending()).toBe(1);
    controller.abort();
    await flushMicrotasks(); // no clock movement needed
    expect(settled).toBeInstanceOf(CohortError);
    const e = settled as CohortError;
    expect(e.code).toBe('ABORTED');
    expect(e.cause).toBe(controller.signal.reason);
    expect(e.details).toMatchObject({ attempts: 1, lastError: { code: 'TIMEOUT', message: 'attempt 1 timed out' } });
    expect(clock.pending()).toBe(0);
    await clock.advance(10_000);
    expect(fn).toHaveBeenCalledTimes(1);
    await pending;
  });

  it('retry abort — between attempts (after a failure, before its wait) makes no further attempt', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const fn = vi.fn(() => Promise.reject(retryableError(1)));
    const promise = retry(fn, { ...exact, clock, signal: controller.signal, onRetry: () => controller.abort('enough') });
    const e = await rejection(promise);
    expect(e.code).toBe('ABORTED');
    expect(e.cause).toBe('enough');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pending()).toBe(0);
  });

  it('retry abort — during an attempt: fn gets the signal, and its failure becomes ABORTED', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let calls = 0;
    const promise = retry(
      ({ signal }) => {
        calls++;
        // The attempt's own work stops when the signal aborts, as fn is expected to arrange.
        return new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(retryableError(calls))));
      },
      { ...exact, maxAttempts: 5, clock, signal: controller.signal },
    );
    await flushMicrotasks();
    controller.abort();
    const e = await rejection(promise);
    expect(e.code).toBe('ABORTED');
    expect(e.details).toMatchObject({ attempts: 1, lastError: { code: 'TIMEOUT' } });
    expect(calls).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('retry abort — an attempt that fails after the abort gives ABORTED, also with a non-retryable error', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const fn = vi.fn(({ signal }: { signal: AbortSignal | undefined }) => {
      controller.abort();
      // What fetch and most Node APIs reject with when their signal aborts: not retryable.
      return Promise.reject(signal?.reason);
    });
    const e = await rejection(retry(fn, { ...exact, maxAttempts: 5, clock, signal: controller.signal }));
    expect(e.code).toBe('ABORTED');
    expect(e.cause).toBe(controller.signal.reason);
    expect(e.details).toMatchObject({ attempts: 1, lastError: { name: 'AbortError' } });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('retry abort — an attempt that succeeds although the signal aborted meanwhile returns its value', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const outcome = await drive(
      clock,
      retry(
        async () => {
          controller.abort();
          return 'done anyway';
        },
        { clock, signal: controller.signal },
      ),
    );
    expect(outcome).toEqual({ ok: true, value: 'done anyway' });
  });
});

describe('policy validation', () => {
  const bad: [string, unknown, RegExp][] = [
    ['maxAttempts 0', { maxAttempts: 0 }, /maxAttempts 0: expected an integer >= 1/],
    ['maxAttempts 2.5', { maxAttempts: 2.5 }, /maxAttempts 2.5/],
    ['maxAttempts NaN', { maxAttempts: Number.NaN }, /maxAttempts NaN/],
    ['maxAttempts "3"', { maxAttempts: '3' }, /maxAttempts "3"/],
    ['negative baseMs', { baseMs: -1 }, /baseMs -1: expected a finite number of milliseconds >= 0/],
    ['maxMs below baseMs', { baseMs: 500, maxMs: 100 }, /maxMs 100: expected .* >= baseMs \(500\)/],
    ['factor below 1', { factor: 0.5 }, /factor 0.5: expected a finite number >= 1/],
    ['unknown jitter', { jitter: 'fulll' }, /jitter "fulll": expected one of 'none', 'full', 'equal', 'decorrelated'/],
    ['random not a function', { random: 0.5 }, /random 0.5/],
    ['retryIf not a function', { retryIf: true }, /retryIf true: expected a function/],
    ['onRetry not a function', { onRetry: 'log' }, /onRetry "log": expected a function/],
    ['signal not a signal', { signal: { aborted: false } }, /signal an object: expected an AbortSignal/],
    ['clock not a clock', { clock: Date }, /clock function Date: expected a Clock/],
    ['a misspelt option', { maxAttempt: 3 }, /unknown retry option 'maxAttempt'; known options: maxAttempts, baseMs/],
    ['an unknown preset', 'fast', /unknown retry preset "fast": expected one of 'default', 'withJitter', 'none', 'aggressive', 'conservative'/],
    ['an inherited name', 'toString', /unknown retry preset "toString"/],
    ['a number', 3, /retry policy must be a preset name or an object, got 3/],
    ['null', null, /got null/],
    ['an array', [], /got array\(0\)/],
  ];

  it.each(bad)('retry — refuses %s with INVALID_OPTION before calling fn', async (_label, policy, message) => {
    const fn = vi.fn(() => 1);
    const e = await rejection(retry(fn, policy as RetryPolicy));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(message);
    expect(fn).not.toHaveBeenCalled();
    expect(thrown(() => resolveRetryPolicy(policy as RetryPolicy)).code).toBe('INVALID_OPTION');
  });

  it('retry — an unknown preset error lists the preset names in its details', () => {
    const e = thrown(() => resolveRetryPolicy('fast' as 'default'));
    expect(e.details).toEqual({ preset: 'fast', presets: ['default', 'withJitter', 'none', 'aggressive', 'conservative'] });
  });

  it('retry — refuses an fn that is not a function with INVALID_ARGUMENT', async () => {
    const e = await rejection(retry(42 as unknown as () => number));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/fn must be a function, got 42/);
  });

  it('retry — accepts the edges: one attempt, baseMs 0, maxMs equal to baseMs, factor 1', async () => {
    const one = await runRetry({ maxAttempts: 1 });
    expect(one.attempts).toHaveLength(1);
    const zero = await runRetry({ jitter: 'none', baseMs: 0, maxMs: 0, maxAttempts: 3 });
    expect(zero.gaps).toEqual([0, 0]);
    const flat = await runRetry({ jitter: 'none', baseMs: 250, maxMs: 250, factor: 1, maxAttempts: 3 });
    expect(flat.gaps).toEqual([250, 250]);
  });

  it('RETRY_DEFAULTS — 3 attempts, 100 ms doubling to 5 s, full jitter, isRetryable; frozen; applied to {}', () => {
    expect(RETRY_DEFAULTS).toMatchObject({ maxAttempts: 3, baseMs: 100, maxMs: 5_000, factor: 2, jitter: 'full' });
    expect(RETRY_DEFAULTS.retryIf).toBe(isRetryable);
    expect(RETRY_DEFAULTS.random).toBe(Math.random);
    expect(Object.isFrozen(RETRY_DEFAULTS)).toBe(true);
    const resolved = resolveRetryPolicy();
    expect(resolved).toEqual(resolveRetryPolicy({}));
    expect(resolved).toMatchObject({ ...RETRY_PRESETS.withJitter, retryIf: isRetryable, signal: undefined, onRetry: undefined });
    expect(Object.isFrozen(resolved)).toBe(true);
  });
});
