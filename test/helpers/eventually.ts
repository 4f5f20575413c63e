/**
 * `eventually(fn, timeoutMs)`: bounded polling for convergence, the one kind of waiting tests do.
 *
 * Calls `fn` until it returns (or resolves) without throwing, and returns what it returned. A
 * return of exactly `false` also counts as "not yet", so a predicate works as well as a block of
 * `expect`s. When `timeoutMs` of real time have passed, it throws the last error `fn` threw, its
 * message prefixed with how long and how often it tried (an assertion error keeps its expected and
 * actual values, so the test report still shows the diff).
 *
 * Every wait is bounded: an attempt that never settles is abandoned at the deadline. Timers and the
 * time source are captured when this module loads, so fake timers installed later do not stop it.
 *
 * @example
 * await eventually(() => expect(sup.whereis('a')).not.toEqual(before));
 * await eventually(() => !node.isAlive(ref), 500);
 */

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const now = performance.now.bind(performance);

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** How long to keep trying, in real milliseconds. @default 2000 */
  timeoutMs?: number;
  /** Pause between attempts, in real milliseconds. @default 2 */
  intervalMs?: number;
}

const NOT_SETTLED = Symbol('not settled');

/**
 * Retries `fn` until it stops throwing (and does not return `false`), at most `timeoutMs`.
 *
 * @throws the last error of `fn` (message prefixed) when time is up.
 */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutOrOptions: number | EventuallyOptions = {}): Promise<T> {
  const options = typeof timeoutOrOptions === 'number' ? { timeoutMs: timeoutOrOptions } : timeoutOrOptions;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const intervalMs = options.intervalMs ?? 2;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`eventually: timeoutMs must be a positive finite number, got ${timeoutMs}`);
  const started = now();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let lastError: unknown = new Error('eventually: fn was never called');
  let failedBefore = false;
  for (;;) {
    attempts++;
    try {
      const value = await settleBefore(fn, deadline);
      if (value === NOT_SETTLED) {
        // Keep the error of the attempt before, which says more than the cut-off one.
        if (!failedBefore) lastError = new Error('the last attempt did not settle before the deadline');
      } else if (value === false) {
        lastError = new Error('fn returned false');
        failedBefore = true;
      } else {
        return value as T;
      }
    } catch (error) {
      lastError = error;
      failedBefore = true;
    }
    if (now() >= deadline) break;
    await pause(Math.min(intervalMs, Math.max(0, deadline - now())));
  }
  const prefix = `eventually: gave up after ${Math.round(now() - started)} ms (timeout ${timeoutMs} ms, ${attempts} attempts); last error: `;
  if (lastError instanceof Error) {
    lastError.message = prefix + lastError.message;
    throw lastError;
  }
  throw new Error(prefix + String(lastError), { cause: lastError });
}

/** Runs one attempt; resolves to NOT_SETTLED if it is still pending at `deadline`. */
function settleBefore<T>(fn: () => T | Promise<T>, deadline: number): Promise<T | typeof NOT_SETTLED> {
  return new Promise<T | typeof NOT_SETTLED>((resolve, reject) => {
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (error) {
      reject(error);
      return;
    }
    if (!(result instanceof Promise)) {
      resolve(result);
      return;
    }
    const timer = realSetTimeout(() => resolve(NOT_SETTLED), Math.max(0, deadline - now()));
    result.then(
      (value) => {
        realClearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        realClearTimeout(timer);
        reject(error);
      },
    );
  });
}

function pause(ms: number): Promise<void> {
  return new Promise<void>((resolve) => realSetTimeout(resolve, ms));
}
