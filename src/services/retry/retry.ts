/**
 * `retry(fn, policy)`: runs `fn` until it succeeds, fails for good, runs out of attempts or is
 * aborted, waiting between attempts with capped exponential backoff and jitter (`core/backoff`).
 *
 * Outcomes, and nothing else:
 * - the value of the first attempt that succeeds;
 * - an error `retryIf` refuses, rethrown at once and unchanged;
 * - after the last attempt, the last attempt's error, rethrown unchanged (not wrapped: callers
 *   switch on the same `code` they would without retry; `onRetry` sees the earlier ones);
 * - `CohortError` `ABORTED` when the signal aborts (see below);
 * - `CohortError` `INVALID_OPTION` for a bad policy, `INVALID_ARGUMENT` when `fn` is not a function,
 *   before any attempt; and whatever `retryIf` or `onRetry` throw, since they are the caller's code.
 *
 * Guarantees: at most `maxAttempts` calls of `fn`, one at a time; every wait is on the injected
 * clock and none follows the last attempt; once the signal has aborted, `fn` is not called again.
 * An abort before the first attempt or during a wait rejects at once. An attempt under way is not
 * cut short: `fn` receives the signal and should pass it on to its own work; when that attempt
 * then fails, the outcome is `ABORTED` (when it succeeds, its value is returned — the work is done).
 *
 * Does not: put a deadline on an attempt (give `fn` a `timeoutMs` or an `AbortSignal.timeout`),
 * make work safe to repeat — a `TIMEOUT` means the work may or may not have happened, so retry only
 * idempotent work (DESIGN decision 11: retries are opt-in) — or move to another provider (the
 * balancer's failover does that, excluding the providers that failed).
 */
import { hasMethods } from '../../core/checks.js';
import { Backoff, BACKOFF_DEFAULTS, type Jitter } from '../../core/backoff.js';
import { sleep, systemClock, type Clock } from '../../core/clock.js';
import { CohortError, describe, isCohortError, toWireError } from '../../core/errors.js';
import { RETRY_PRESETS, RETRY_PRESET_NAMES, isRetryPresetName, type RetryPresetName } from './presets.js';

/** What `fn` is told about the attempt it makes. */
export interface RetryAttempt {
  /** The number of this attempt, 1 for the first. */
  readonly attempt: number;
  /** The policy's signal, to pass on to the attempt's own work; `undefined` when none was given. */
  readonly signal: AbortSignal | undefined;
}

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  /** The attempt that just failed, 1 for the first. The next one is `attempt + 1`. */
  readonly attempt: number;
  /** How long `retry` waits before the next attempt, in milliseconds. */
  readonly delayMs: number;
  /** The error the attempt failed with. */
  readonly error: unknown;
}

/** The work `retry` repeats. It may return a value or a promise, and may throw or reject. */
export type RetryFunction<T> = (attempt: RetryAttempt) => Promise<T> | T;

/**
 * How `retry` repeats and waits. Every field is optional; omitted fields take
 * {@link RETRY_DEFAULTS}. To start from a preset, spread it: `{ ...RETRY_PRESETS.aggressive, signal }`.
 */
export interface RetryPolicy {
  /**
   * Total attempts, the first one included: an integer >= 1, or `Infinity` to retry until success,
   * a refused error or an abort (give a `signal` then).
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * The wait before the second attempt, before jitter, in milliseconds; finite and >= 0.
   * @default 100
   */
  readonly baseMs?: number;
  /**
   * No wait is ever longer, in milliseconds; finite and >= `baseMs`.
   * @default 5_000
   */
  readonly maxMs?: number;
  /**
   * How much the wait grows per retry (wait n is `baseMs * factor^(n-1)`, capped); finite, >= 1.
   * @default 2
   */
  readonly factor?: number;
  /**
   * How each wait is spread: `'none'`, `'full'` (uniform in `[0, wait]`), `'equal'` (in
   * `[wait/2, wait]`) or `'decorrelated'` (`min(maxMs, random(baseMs, previous * 3))`).
   * @default 'full'
   */
  readonly jitter?: Jitter;
  /**
   * Whether the error of attempt `attempt` is worth another attempt. Not consulted after the last
   * attempt. An error it throws rejects `retry` with that error.
   * @default isRetryable — errors with `retryable === true`: CohortErrors of retryable codes
   *   (`TIMEOUT`, `NOCONNECTION`, `UNAVAILABLE`, ...) and any error object marked `retryable: true`.
   */
  readonly retryIf?: (error: unknown, attempt: number) => boolean;
  /**
   * Aborts the retries: before an attempt or during a wait `retry` rejects at once with `ABORTED`;
   * `fn` receives it to cancel its own work.
   * @default undefined (not abortable)
   */
  readonly signal?: AbortSignal;
  /**
   * The clock waits are measured on.
   * @default systemClock
   */
  readonly clock?: Clock;
  /**
   * A source of uniform numbers in `[0, 1)` for jitter. Inject a seeded one for reproducible tests.
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * Called after a failed attempt, before the wait that precedes the next one. Not called after the
   * last attempt nor for a refused error. An error it throws rejects `retry` with that error.
   * @default undefined
   */
  readonly onRetry?: (info: RetryInfo) => void;
}

/**
 * Whether an error says that trying again may succeed: an object whose `retryable` is `true`
 * (every `CohortError` carries the flag of its code, or its own override). The default `retryIf`.
 *
 * @example
 * await retry(work, { retryIf: (e) => isRetryable(e) || (e as NodeJS.ErrnoException).code === 'EBUSY' });
 */
export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}

/**
 * The defaults of {@link RetryPolicy}: the shape of `RETRY_PRESETS.withJitter` (3 attempts, 100 ms
 * doubling up to 5 s, full jitter), {@link isRetryable}, the system clock and `Math.random`.
 */
export const RETRY_DEFAULTS = Object.freeze({
  ...RETRY_PRESETS.withJitter,
  retryIf: isRetryable,
  clock: systemClock,
  random: BACKOFF_DEFAULTS.random,
}) satisfies Readonly<Required<Omit<RetryPolicy, 'signal' | 'onRetry'>>>;

/** A policy after defaults and validation. */
export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: Jitter;
  readonly retryIf: (error: unknown, attempt: number) => boolean;
  readonly signal: AbortSignal | undefined;
  readonly clock: Clock;
  readonly random: () => number;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

const POLICY_KEYS: readonly (keyof RetryPolicy)[] = Object.freeze([
  'maxAttempts',
  'baseMs',
  'maxMs',
  'factor',
  'jitter',
  'retryIf',
  'signal',
  'clock',
  'random',
  'onRetry',
]);

/**
 * Runs `fn` until it succeeds, waiting with backoff between attempts that fail with a retryable
 * error. See the module header for every outcome.
 *
 * @param fn the work; called with `{ attempt, signal }`, `attempt` counting from 1.
 * @param policy a preset name (see `RETRY_PRESETS`) or a {@link RetryPolicy}; omitted fields take
 *   {@link RETRY_DEFAULTS}: 3 attempts, 100 ms doubling to 5 s, full jitter, retryable errors only.
 * @returns the value of the first attempt that succeeds.
 * @throws the error of an attempt, unchanged: one `retryIf` refuses (at once), or the last one.
 * @throws CohortError `ABORTED` when `policy.signal` aborts (cause: its reason; `details.attempts`
 *   and, if an attempt failed, `details.lastError` in wire form); `INVALID_OPTION` for a bad policy
 *   or an unknown preset name; `INVALID_ARGUMENT` when `fn` is not a function.
 * @example
 * const controller = new AbortController();
 * const config = await retry(({ signal }) => loadConfig({ signal }), {
 *   ...RETRY_PRESETS.aggressive,
 *   signal: controller.signal,
 *   onRetry: ({ attempt, delayMs, error }) => log.warn('config load failed', { attempt, delayMs, error }),
 * });
 * @example
 * await retry(() => node.call(ref, { type: 'get' }, { timeoutMs: 1000 }), 'conservative');
 */
export async function retry<T>(fn: RetryFunction<T>, policy?: RetryPresetName | RetryPolicy): Promise<T> {
  if (typeof fn !== 'function') {
    throw new CohortError('INVALID_ARGUMENT', `retry: fn must be a function, got ${describe(fn)}`);
  }
  const p = resolveRetryPolicy(policy);
  const backoff = new Backoff({ baseMs: p.baseMs, maxMs: p.maxMs, factor: p.factor, jitter: p.jitter, random: p.random });
  const { signal } = p;
  let failed = false;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    if (isAborted(signal)) throw aborted(signal, attempt - 1, failed, lastError);
    try {
      return await fn(Object.freeze({ attempt, signal }));
    } catch (error) {
      failed = true;
      lastError = error;
      // Checked again: the signal may have aborted while the attempt ran.
      if (isAborted(signal)) throw aborted(signal, attempt, failed, lastError);
      if (attempt >= p.maxAttempts || !p.retryIf(error, attempt)) throw error;
      const delayMs = backoff.next();
      p.onRetry?.({ attempt, delayMs, error });
      try {
        await sleep(p.clock, delayMs, signal);
      } catch {
        // sleep rejects only when the signal aborts.
        throw aborted(signal, attempt, failed, lastError);
      }
    }
  }
}

/**
 * Applies defaults to a preset name or policy and checks every field, once, up front. `retry` calls
 * it itself; call it to refuse a bad policy when it is configured rather than when first used.
 *
 * @throws CohortError `INVALID_OPTION` naming the bad (or unknown) field and what was expected, or
 *   listing the preset names for an unknown one.
 * @example
 * const policy = resolveRetryPolicy({ ...RETRY_PRESETS.aggressive, maxAttempts: 8 });
 * policy.maxAttempts; // 8
 */
export function resolveRetryPolicy(policy: RetryPresetName | RetryPolicy = {}): ResolvedRetryPolicy {
  if (typeof policy === 'string') {
    if (!isRetryPresetName(policy)) {
      throw new CohortError(
        'INVALID_OPTION',
        `unknown retry preset ${describe(policy)}: expected one of ${RETRY_PRESET_NAMES.map((n) => `'${n}'`).join(', ')}`,
        { details: { preset: policy, presets: [...RETRY_PRESET_NAMES] } },
      );
    }
    return resolveRetryPolicy(RETRY_PRESETS[policy]);
  }
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new CohortError('INVALID_OPTION', `retry policy must be a preset name or an object, got ${describe(policy)}`);
  }
  for (const key of Object.keys(policy)) {
    if (!POLICY_KEYS.includes(key as keyof RetryPolicy)) {
      throw new CohortError('INVALID_OPTION', `unknown retry option '${key}'; known options: ${POLICY_KEYS.join(', ')}`, {
        details: { option: key },
      });
    }
  }
  const d = RETRY_DEFAULTS;
  const maxAttempts = policy.maxAttempts ?? d.maxAttempts;
  if (typeof maxAttempts !== 'number' || !(Number.isInteger(maxAttempts) || maxAttempts === Infinity) || maxAttempts < 1) {
    throw invalid('maxAttempts', maxAttempts, 'an integer >= 1 (total attempts, the first included) or Infinity');
  }
  const retryIf = policy.retryIf ?? d.retryIf;
  if (typeof retryIf !== 'function') throw invalid('retryIf', retryIf, 'a function (error, attempt) => boolean');
  const onRetry = policy.onRetry;
  if (onRetry !== undefined && typeof onRetry !== 'function') {
    throw invalid('onRetry', onRetry, 'a function ({ attempt, delayMs, error }) => void');
  }
  const signal = policy.signal;
  if (signal !== undefined && !isAbortSignal(signal)) throw invalid('signal', signal, 'an AbortSignal');
  const clock = policy.clock ?? d.clock;
  if (!hasMethods(clock, ['now', 'setTimeout'])) throw invalid('clock', clock, 'a Clock');
  const shape = {
    baseMs: policy.baseMs ?? d.baseMs,
    maxMs: policy.maxMs ?? d.maxMs,
    factor: policy.factor ?? d.factor,
    jitter: policy.jitter ?? d.jitter,
    random: policy.random ?? d.random,
  };
  try {
    new Backoff(shape); // the one place the backoff fields are checked
  } catch (error) {
    if (!isCohortError(error)) throw error;
    throw new CohortError('INVALID_OPTION', `retry policy: ${error.message}`, { cause: error, details: error.details });
  }
  return Object.freeze({ maxAttempts, ...shape, retryIf, signal, clock, onRetry });
}

/** Read through a call, so that no narrowing from before an `await` sticks to it. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function aborted(signal: AbortSignal | undefined, attempts: number, failed: boolean, lastError: unknown): CohortError {
  const reason: unknown = signal?.reason;
  const details: Record<string, unknown> = { attempts };
  if (failed) details.lastError = toWireError(lastError);
  const when = attempts === 0 ? 'before the first attempt' : `after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  return new CohortError('ABORTED', `retry aborted ${when}`, { cause: reason ?? lastError, details });
}

function invalid(name: keyof RetryPolicy, value: unknown, expected: string): CohortError {
  return new CohortError('INVALID_OPTION', `invalid retry option ${name} ${describe(value)}: expected ${expected}`, {
    details: { option: name },
  });
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return hasMethods(value, ['addEventListener', 'removeEventListener']) && typeof (value as { aborted?: unknown }).aborted === 'boolean';
}
