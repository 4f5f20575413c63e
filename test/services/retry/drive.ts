/**
 * Driving `retry` on a `ManualClock`: run its waits one by one until it settles, recording when
 * each attempt started, so a test sees the waits a user would, without sleeping.
 */
import { ManualClock, flushMicrotasks } from '../../../src/core/clock.js';
import { CohortError } from '../../../src/core/errors.js';
import { retry, type RetryAttempt, type RetryInfo, type RetryPolicy } from '../../../src/services/retry/index.js';

/** How a promise settled. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Advances `clock` timer by timer until `promise` settles; fails if it waits with no timer left. */
export async function drive<T>(clock: ManualClock, promise: Promise<T>): Promise<Outcome<T>> {
  let outcome: Outcome<T> | undefined;
  promise.then(
    (value) => (outcome = { ok: true, value }),
    (error: unknown) => (outcome = { ok: false, error }),
  );
  await flushMicrotasks();
  while (outcome === undefined && (await clock.runNext())) {
    // one more wait has run
  }
  if (outcome === undefined) throw new Error('retry neither settled nor scheduled a wait');
  return outcome;
}

/** A retryable error, as a peer's TIMEOUT would be. */
export const retryableError = (n: number): CohortError => new CohortError('TIMEOUT', `attempt ${n} timed out`);

/** What one driven `retry` did. */
export interface Run<T> {
  readonly outcome: Outcome<T>;
  /** The clock time at which each attempt started. */
  readonly startedAt: number[];
  /** The attempts `fn` was told about, in order. */
  readonly attempts: RetryAttempt[];
  /** What `onRetry` was told. */
  readonly retries: RetryInfo[];
  /** The waits between attempts, as the clock measured them. */
  readonly gaps: number[];
}

/**
 * Runs `retry` on a fresh `ManualClock` with `policy` (its `clock` and `onRetry` are set here).
 * `fn` defaults to one that always fails with a retryable error.
 */
export async function runRetry<T = never>(
  policy: Omit<RetryPolicy, 'clock' | 'onRetry'>,
  fn: (attempt: RetryAttempt) => Promise<T> | T = ({ attempt }) => {
    throw retryableError(attempt);
  },
): Promise<Run<T>> {
  const clock = new ManualClock();
  const startedAt: number[] = [];
  const attempts: RetryAttempt[] = [];
  const retries: RetryInfo[] = [];
  const outcome = await drive(
    clock,
    retry(
      (a) => {
        startedAt.push(clock.now());
        attempts.push(a);
        return fn(a);
      },
      { ...policy, clock, onRetry: (info) => retries.push(info) },
    ),
  );
  const gaps = startedAt.slice(1).map((t, i) => t - startedAt[i]!);
  return { outcome, startedAt, attempts, retries, gaps };
}
