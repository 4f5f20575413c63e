/**
 * A circuit breaker for one provider: after `failureThreshold` consecutive failures it opens and
 * refuses calls, and after `cooldownMs` it lets a single probe through to decide whether to close
 * again (DESIGN decision 8).
 *
 * States: `closed` (calls flow; failures are counted and any success resets the count), `open`
 * (every call is refused until `cooldownMs` after it opened), `half-open` (one probe at a time; its
 * success closes the breaker, its failure opens it for another full cool-down).
 *
 * The caller reports how each call it was allowed went, exactly once:
 * - `failure()` when the call says the provider is unhealthy: a `TIMEOUT`, `NOCONNECTION`,
 *   `UNAVAILABLE`, a crash of the handling process, a remote error marked retryable — the failures
 *   failover retries elsewhere;
 * - `success()` when the provider answered, including with an application error the handler threw
 *   (a non-retryable `REMOTE_ERROR`, `BAD_REQUEST`, ...): it was reachable and working;
 * - `release()` when the call ended without saying anything about the provider: the caller aborted
 *   it, or it was never sent. A released half-open probe lets the next probe through.
 *
 * Guarantees: the state is computed lazily from `clock.now()` — no timers, nothing to stop; the move
 * from `open` to `half-open` is noticed by the first read of `state` or call of a method after the
 * cool-down, and its event then carries `at` = the end of the cool-down. In `half-open`, at most one
 * probe is out at a time. Each transition emits exactly one `change` event, after the state changed.
 * Verdicts that arrive while the breaker is `open` (late calls let through before it opened) are
 * ignored: they neither close it nor extend the cool-down. In `half-open` any verdict counts, the
 * probe's or a late call's.
 *
 * Does not: time calls out, pick providers, retry, or count failure rates over a window — only
 * consecutive failures. A probe that never gets a verdict keeps a half-open breaker refusing: report
 * every allowed call, in a `finally` if need be.
 */
import { hasMethods } from '../../core/checks.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { CohortError, describe } from '../../core/errors.js';
import { Emitter, type Unsubscribe } from '../../core/events.js';
import { silentLogger, type Logger } from '../../core/logger.js';

/** The states of a {@link CircuitBreaker}, by name. */
export const CIRCUIT_STATE = Object.freeze({
  /** Calls flow; consecutive failures are counted. */
  closed: 'closed',
  /** Calls are refused until the cool-down has passed. */
  open: 'open',
  /** One probe at a time is let through to test the provider. */
  halfOpen: 'half-open',
} as const);

/** The state of a circuit breaker. See {@link CIRCUIT_STATE}. */
export type CircuitState = (typeof CIRCUIT_STATE)[keyof typeof CIRCUIT_STATE];

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * How many consecutive failures open the breaker; an integer >= 1.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * How long an open breaker refuses calls before it lets a probe through, in milliseconds;
   * finite and >= 0.
   * @default 10_000
   */
  readonly cooldownMs?: number;
  /**
   * The clock the cool-down is measured on.
   * @default systemClock
   */
  readonly clock?: Clock;
  /**
   * Where an error thrown by an `onChange` listener is reported (it stops neither the breaker nor
   * the other listeners).
   * @default silentLogger
   */
  readonly logger?: Logger;
}

/** The defaults of {@link CircuitBreakerOptions}. */
export const CIRCUIT_BREAKER_DEFAULTS = Object.freeze({
  failureThreshold: 5,
  cooldownMs: 10_000,
  clock: systemClock,
  logger: silentLogger,
}) satisfies Readonly<Required<CircuitBreakerOptions>>;

/** A transition of a circuit breaker, as `onChange` listeners receive it. */
export interface CircuitChange {
  readonly type: 'change';
  /** The state before. */
  readonly from: CircuitState;
  /** The state after; also what `state` reads when the listener runs. */
  readonly to: CircuitState;
  /** When it happened, on the breaker's clock (for `open` → `half-open`, the end of the cool-down). */
  readonly at: number;
  /** The consecutive failures counted at that moment (0 after closing). */
  readonly consecutiveFailures: number;
}

const OPTION_KEYS: readonly (keyof CircuitBreakerOptions)[] = Object.freeze(['failureThreshold', 'cooldownMs', 'clock', 'logger']);

/**
 * The circuit breaker of one provider.
 *
 * @throws CohortError `INVALID_OPTION` from the constructor for a bad or unknown option.
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 10_000 });
 * if (!breaker.allow()) throw new CohortError('CIRCUIT_OPEN', `provider ${id} is failing`);
 * try {
 *   const reply = await callProvider(id);
 *   breaker.success();
 *   return reply;
 * } catch (error) {
 *   if (isRetryable(error)) breaker.failure(); else breaker.success(); // it answered
 *   throw error;
 * }
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #clock: Clock;
  readonly #emitter: Emitter<{ change: CircuitChange }>;
  #state: CircuitState = CIRCUIT_STATE.closed;
  #failures = 0;
  #openedAt: number | undefined;
  #probeOut = false;

  constructor(options: CircuitBreakerOptions = {}) {
    const o = resolveBreakerOptions(options);
    this.#threshold = o.failureThreshold;
    this.#cooldownMs = o.cooldownMs;
    this.#clock = o.clock;
    this.#emitter = new Emitter((error) => o.logger.warn('circuit breaker listener threw', { error: String(error) }));
  }

  /**
   * The current state. Reading it after the cool-down of an open breaker moves it to `half-open`
   * (and emits that change).
   */
  get state(): CircuitState {
    this.#refresh();
    return this.#state;
  }

  /** Failures since the last success (verdicts while `open` are not counted). */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** When the breaker last opened, on its clock; `undefined` while closed. */
  get openedAt(): number | undefined {
    return this.#openedAt;
  }

  /** When an open breaker lets a probe through (`openedAt + cooldownMs`); `undefined` while closed. */
  get retryAt(): number | undefined {
    return this.#openedAt === undefined ? undefined : this.#openedAt + this.#cooldownMs;
  }

  /** Whether a half-open probe is out, awaiting its verdict. */
  get probing(): boolean {
    this.#refresh();
    return this.#probeOut;
  }

  /**
   * Whether a call may go to the provider now: always when closed, never when open, and in
   * half-open only when no probe is out — the call allowed then is the probe. Every `true` must be
   * followed by one `success()`, `failure()` or `release()`.
   *
   * @example
   * if (!breaker.allow()) return tryAnotherProvider();
   */
  allow(): boolean {
    this.#refresh();
    if (this.#state === CIRCUIT_STATE.closed) return true;
    if (this.#state === CIRCUIT_STATE.open || this.#probeOut) return false;
    this.#probeOut = true;
    return true;
  }

  /**
   * Reports a call that reached a working provider (an application error counts as one). Resets the
   * failure count; in half-open, closes the breaker. Ignored while open.
   *
   * @example
   * breaker.success();
   */
  success(): void {
    this.#refresh();
    if (this.#state === CIRCUIT_STATE.open) return;
    this.#failures = 0;
    if (this.#state === CIRCUIT_STATE.halfOpen) {
      this.#openedAt = undefined;
      this.#probeOut = false;
      this.#transition(CIRCUIT_STATE.closed, this.#clock.now());
    }
  }

  /**
   * Reports a call that says the provider is unhealthy. Counts it; the `failureThreshold`-th
   * consecutive one opens the breaker, and in half-open any failure opens it again for a full
   * cool-down from now. Ignored while open.
   *
   * @example
   * breaker.failure();
   */
  failure(): void {
    this.#refresh();
    if (this.#state === CIRCUIT_STATE.open) return;
    this.#failures++;
    if (this.#state === CIRCUIT_STATE.halfOpen || this.#failures >= this.#threshold) {
      const now = this.#clock.now();
      this.#openedAt = now;
      this.#probeOut = false;
      this.#transition(CIRCUIT_STATE.open, now);
    }
  }

  /**
   * Reports a call that ended without a verdict on the provider (aborted by its caller, or never
   * sent). In half-open, the next `allow()` may send another probe; otherwise it changes nothing.
   *
   * @example
   * breaker.release();
   */
  release(): void {
    this.#refresh();
    if (this.#state === CIRCUIT_STATE.halfOpen) this.#probeOut = false;
  }

  /**
   * Calls `fn` after each change of state. Returns the function that unsubscribes it.
   *
   * @example
   * const off = breaker.onChange((e) => log.info('breaker', { provider, from: e.from, to: e.to }));
   */
  onChange(fn: (change: CircuitChange) => void): Unsubscribe {
    return this.#emitter.on('change', fn);
  }

  /** Moves an open breaker whose cool-down has passed to half-open. */
  #refresh(): void {
    if (this.#state !== CIRCUIT_STATE.open) return;
    const retryAt = (this.#openedAt ?? 0) + this.#cooldownMs;
    if (this.#clock.now() < retryAt) return;
    this.#probeOut = false;
    this.#transition(CIRCUIT_STATE.halfOpen, retryAt);
  }

  #transition(to: CircuitState, at: number): void {
    const from = this.#state;
    this.#state = to;
    this.#emitter.emit('change', Object.freeze({ type: 'change', from, to, at, consecutiveFailures: this.#failures }));
  }
}

function invalid(name: keyof CircuitBreakerOptions, value: unknown, expected: string): CohortError {
  return new CohortError('INVALID_OPTION', `invalid circuit breaker option ${name} ${describe(value)}: expected ${expected}`, {
    details: { option: name },
  });
}

function resolveBreakerOptions(options: CircuitBreakerOptions): Readonly<Required<CircuitBreakerOptions>> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CohortError('INVALID_OPTION', `circuit breaker options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key as keyof CircuitBreakerOptions)) {
      throw new CohortError('INVALID_OPTION', `unknown circuit breaker option '${key}'; known options: ${OPTION_KEYS.join(', ')}`, {
        details: { option: key },
      });
    }
  }
  const d = CIRCUIT_BREAKER_DEFAULTS;
  const failureThreshold = options.failureThreshold ?? d.failureThreshold;
  if (typeof failureThreshold !== 'number' || !Number.isInteger(failureThreshold) || failureThreshold < 1) {
    throw invalid('failureThreshold', failureThreshold, 'an integer >= 1 (consecutive failures that open the breaker)');
  }
  const cooldownMs = options.cooldownMs ?? d.cooldownMs;
  if (typeof cooldownMs !== 'number' || !Number.isFinite(cooldownMs) || cooldownMs < 0) {
    throw invalid('cooldownMs', cooldownMs, 'a finite number of milliseconds >= 0');
  }
  const clock = options.clock ?? d.clock;
  if (!hasMethods(clock, ['now'])) throw invalid('clock', clock, 'a Clock');
  const logger = options.logger ?? d.logger;
  if (!hasMethods(logger, ['debug', 'info', 'warn', 'error'])) throw invalid('logger', logger, 'a Logger');
  return Object.freeze({ failureThreshold, cooldownMs, clock, logger });
}
