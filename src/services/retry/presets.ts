/**
 * Named retry policies: how many attempts, and how the waits between them grow and spread.
 *
 * A preset is a plain frozen object with the five shape fields of a `RetryPolicy` (`maxAttempts`,
 * `baseMs`, `maxMs`, `factor`, `jitter`). Pass its name to `retry(fn, 'aggressive')`, or spread it
 * and override what differs: `retry(fn, { ...RETRY_PRESETS.aggressive, maxAttempts: 8, signal })`.
 * There is no `preset` field inside a policy: spreading is the one way to combine them, and the
 * type checker sees every field.
 *
 * Guarantees: presets are frozen (no caller can change what another one gets) and every one of
 * them passes `retry`'s validation. Does not: retry anything, or decide which errors are worth
 * retrying (that is `retryIf`, outside the preset).
 */
import { JITTER, type Jitter } from '../../core/backoff.js';

/** The shape of a retry policy: attempts and backoff, without the per-call parts. */
export interface RetryPreset {
  /** Total attempts, the first one included. */
  readonly maxAttempts: number;
  /** The wait before the second attempt, before jitter, in milliseconds. */
  readonly baseMs: number;
  /** No wait is ever longer, in milliseconds. */
  readonly maxMs: number;
  /** How much the wait grows per retry. */
  readonly factor: number;
  /** How each wait is spread; see `JITTER` in `core/backoff`. */
  readonly jitter: Jitter;
}

const preset = (maxAttempts: number, baseMs: number, maxMs: number, factor: number, jitter: Jitter): RetryPreset =>
  Object.freeze({ maxAttempts, baseMs, maxMs, factor, jitter });

/**
 * The named presets. Waits are listed before jitter; with `full` jitter each one is uniform in
 * `[0, listed]`, with `equal` jitter in `[listed/2, listed]`.
 *
 * | name | attempts | waits (ms) | jitter | for |
 * |---|---|---|---|---|
 * | `default` | 3 | 100, 200 (cap 5 s) | none | predictable waits: one caller, scripts, tests |
 * | `withJitter` | 3 | 100, 200 (cap 5 s) | full | many callers retrying the same thing (what `retry(fn)` uses) |
 * | `none` | 1 | — | none | no retry at all: non-idempotent work, or retries done elsewhere |
 * | `aggressive` | 5 | 50, 100, 200, 400 (cap 2 s) | full | short hiccups on a hot path; gives up within a second |
 * | `conservative` | 2 | 1000 (cap 10 s) | equal | expensive work or a struggling peer: one retry after 0.5–1 s |
 *
 * @example
 * await retry(() => fetchConfig(), 'conservative');
 * await retry(() => fetchConfig(), { ...RETRY_PRESETS.aggressive, signal: controller.signal });
 */
export const RETRY_PRESETS = Object.freeze({
  /** 3 attempts, waits 100 then 200 ms, no jitter (cap 5 s if `maxAttempts` is raised). */
  default: preset(3, 100, 5_000, 2, JITTER.none),
  /** As `default`, with full jitter: waits uniform in [0, 100] then [0, 200] ms. */
  withJitter: preset(3, 100, 5_000, 2, JITTER.full),
  /** A single attempt: the first error is the outcome. */
  none: preset(1, 0, 0, 1, JITTER.none),
  /** 5 attempts, waits up to 50, 100, 200, 400 ms (full jitter, cap 2 s). */
  aggressive: preset(5, 50, 2_000, 2, JITTER.full),
  /** 2 attempts, one wait of 0.5 to 1 s (equal jitter, cap 10 s if `maxAttempts` is raised). */
  conservative: preset(2, 1_000, 10_000, 2, JITTER.equal),
} as const satisfies Record<string, RetryPreset>);

/** The name of a preset in {@link RETRY_PRESETS}. */
export type RetryPresetName = keyof typeof RETRY_PRESETS;

/** The preset names, in the order of {@link RETRY_PRESETS}. */
export const RETRY_PRESET_NAMES: readonly RetryPresetName[] = Object.freeze(Object.keys(RETRY_PRESETS) as RetryPresetName[]);

/** Whether `name` is the name of a preset (own keys only: `'toString'` is not one). */
export function isRetryPresetName(name: unknown): name is RetryPresetName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(RETRY_PRESETS, name);
}
