/**
 * Exponential backoff with a cap and jitter: how long to wait before the next attempt.
 *
 * The base delay grows as `min(maxMs, baseMs * factor^attempt)` and is then spread by one of four
 * jitter kinds (`none`, `full`, `equal`, `decorrelated`, after the AWS Architecture Blog's
 * "Exponential Backoff And Jitter"). Used for reconnects, seeds that are down and retries.
 *
 * Guarantees: every delay is a finite number in `[0, maxMs]` (in `[baseMs, maxMs]` for
 * `decorrelated`), also after any number of attempts: `factor^attempt` overflowing to `Infinity`
 * is caught and capped, and a `random` that strays outside `[0, 1)` is clamped. Options are
 * checked once, up front, and a bad one is an `INVALID_OPTION` error that says what was expected.
 *
 * Does not: sleep, schedule timers or retry anything (pair it with a `Clock`), round delays to
 * whole milliseconds, or keep state shared between instances.
 */
import { CohortError, describe } from './errors.js';

/** The jitter kinds, by name. */
export const JITTER = Object.freeze({
  /** No jitter: exactly the capped exponential delay. */
  none: 'none',
  /** Uniform in `[0, exp]`. Spreads retries the most; the default. */
  full: 'full',
  /** `exp/2` plus uniform in `[0, exp/2]`: never less than half the exponential delay. */
  equal: 'equal',
  /** `min(maxMs, random(baseMs, previous * 3))`, starting from `previous = baseMs`. Stateful. */
  decorrelated: 'decorrelated',
} as const);

/** How a delay is spread around its exponential value. See {@link JITTER}. */
export type Jitter = (typeof JITTER)[keyof typeof JITTER];

const JITTER_NAMES: readonly string[] = Object.freeze(Object.values(JITTER));

/** Options of {@link Backoff} and {@link backoffDelay}. */
export interface BackoffOptions {
  /**
   * The delay of the first attempt, in milliseconds; a finite number >= 0.
   * @default 100
   */
  baseMs?: number;
  /**
   * The cap: no delay is ever longer, in milliseconds; finite and >= `baseMs`.
   * @default 30_000
   */
  maxMs?: number;
  /**
   * How much the delay grows per attempt; a finite number >= 1.
   * @default 2
   */
  factor?: number;
  /**
   * How the delay is spread; one of {@link JITTER}.
   * @default 'full'
   */
  jitter?: Jitter;
  /**
   * A source of uniform numbers in `[0, 1)`. Inject a seeded one for reproducible tests.
   * @default Math.random
   */
  random?: () => number;
}

/** The defaults of {@link BackoffOptions}. */
export const BACKOFF_DEFAULTS: Readonly<Required<BackoffOptions>> = Object.freeze({
  baseMs: 100,
  maxMs: 30_000,
  factor: 2,
  jitter: JITTER.full,
  random: Math.random,
});

/** Options after defaults and validation. */
type ResolvedBackoff = Readonly<Required<BackoffOptions>>;

/**
 * Yields the delays of successive attempts.
 *
 * @throws CohortError `INVALID_OPTION` from the constructor when an option is out of range.
 * @example
 * const backoff = new Backoff({ baseMs: 100, maxMs: 10_000, jitter: 'equal' });
 * for (;;) {
 *   try { return await connect(); }
 *   catch { await sleep(clock, backoff.next()); }
 * }
 */
export class Backoff {
  readonly #options: ResolvedBackoff;
  #attempt = 0;
  #previous: number;

  constructor(options: BackoffOptions = {}) {
    this.#options = resolveBackoffOptions(options);
    this.#previous = this.#options.baseMs;
  }

  /**
   * The delay in milliseconds to wait before the next attempt; advances the attempt counter.
   *
   * @example
   * const b = new Backoff({ jitter: 'none' });
   * b.next(); // 100
   * b.next(); // 200
   */
  next(): number {
    const o = this.#options;
    let delay: number;
    if (o.jitter === JITTER.decorrelated) {
      delay = Math.min(o.maxMs, between(o.baseMs, this.#previous * 3, o.random));
      this.#previous = delay;
    } else {
      delay = jittered(o, this.#attempt);
    }
    this.#attempt++;
    return delay;
  }

  /** Starts over, as if no attempt had been made (call it after a success). */
  reset(): void {
    this.#attempt = 0;
    this.#previous = this.#options.baseMs;
  }

  /** How many delays {@link next} has handed out since construction or the last {@link reset}. */
  get attempt(): number {
    return this.#attempt;
  }
}

/**
 * The delay before attempt number `attempt` (0 for the first retry), for the stateless jitter kinds
 * `none`, `full` and `equal`. `decorrelated` depends on the previous delay: use {@link Backoff}.
 *
 * @throws CohortError `INVALID_OPTION` for a bad option or `jitter: 'decorrelated'`;
 *   `INVALID_ARGUMENT` when `attempt` is not an integer >= 0.
 * @example
 * backoffDelay(3, { jitter: 'none' }); // 800
 * backoffDelay(3);                     // uniform in [0, 800]
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  if (typeof attempt !== 'number' || !Number.isInteger(attempt) || attempt < 0) {
    throw new CohortError('INVALID_ARGUMENT', `backoffDelay: attempt must be an integer >= 0, got ${describe(attempt)}`, {
      details: { attempt },
    });
  }
  const o = resolveBackoffOptions(options);
  if (o.jitter === JITTER.decorrelated) {
    throw new CohortError(
      'INVALID_OPTION',
      "backoffDelay: jitter 'decorrelated' depends on the previous delay; use new Backoff({ jitter: 'decorrelated' }).next()",
      { details: { jitter: o.jitter } },
    );
  }
  return jittered(o, attempt);
}

/** The capped exponential delay of `attempt`, without jitter. Never NaN or Infinity. */
function exponential(o: ResolvedBackoff, attempt: number): number {
  // factor^attempt overflows to Infinity after enough attempts, which min() caps; but 0 * Infinity
  // is NaN, so a zero base is answered first.
  if (o.baseMs === 0) return 0;
  return Math.min(o.maxMs, o.baseMs * o.factor ** attempt);
}

function jittered(o: ResolvedBackoff, attempt: number): number {
  const exp = exponential(o, attempt);
  switch (o.jitter) {
    case JITTER.none:
      return exp;
    case JITTER.equal:
      return exp / 2 + between(0, exp / 2, o.random);
    default:
      return between(0, exp, o.random);
  }
}

/** Uniform in `[low, high]` from `random`, clamped so that a misbehaving source stays in range. */
function between(low: number, high: number, random: () => number): number {
  const r = random();
  const u = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
  return low + u * (high - low);
}

function invalid(name: string, value: unknown, expected: string): CohortError {
  return new CohortError('INVALID_OPTION', `invalid backoff option ${name} ${describe(value)}: expected ${expected}`, {
    details: { option: name, value: typeof value === 'function' ? describe(value) : value },
  });
}

/** Applies defaults and checks every option; throws `INVALID_OPTION` naming the first bad one. */
function resolveBackoffOptions(options: BackoffOptions): ResolvedBackoff {
  if (typeof options !== 'object' || options === null) {
    throw new CohortError('INVALID_OPTION', `backoff options must be an object, got ${describe(options)}`);
  }
  const baseMs = options.baseMs ?? BACKOFF_DEFAULTS.baseMs;
  const maxMs = options.maxMs ?? BACKOFF_DEFAULTS.maxMs;
  const factor = options.factor ?? BACKOFF_DEFAULTS.factor;
  const jitter = options.jitter ?? BACKOFF_DEFAULTS.jitter;
  const random = options.random ?? BACKOFF_DEFAULTS.random;
  if (typeof baseMs !== 'number' || !Number.isFinite(baseMs) || baseMs < 0) {
    throw invalid('baseMs', baseMs, 'a finite number of milliseconds >= 0');
  }
  if (typeof maxMs !== 'number' || !Number.isFinite(maxMs) || maxMs < baseMs) {
    throw invalid('maxMs', maxMs, `a finite number of milliseconds >= baseMs (${baseMs})`);
  }
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw invalid('factor', factor, 'a finite number >= 1');
  }
  if (typeof jitter !== 'string' || !JITTER_NAMES.includes(jitter)) {
    throw invalid('jitter', jitter, `one of ${JITTER_NAMES.map((n) => `'${n}'`).join(', ')}`);
  }
  if (typeof random !== 'function') {
    throw invalid('random', random, 'a function returning numbers in [0, 1)');
  }
  return Object.freeze({ baseMs, maxMs, factor, jitter, random });
}
