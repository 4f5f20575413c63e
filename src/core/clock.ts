/**
 * Time, behind a small interface so that every time-based rule can be tested without sleeping.
 *
 * `systemClock` reads the real monotonic clock and unrefs every timer it makes, so a cohort timer
 * never keeps a process alive by itself. `ManualClock` moves only when a test advances it and runs
 * due timers in deadline order (ties in creation order). `TimerSet` owns the timers of one
 * component so that stopping it clears every one of them.
 */

/** A scheduled callback that can be cancelled. Cancelling twice, or after it ran, does nothing. */
export interface Timer {
  cancel(): void;
  /**
   * Switches whether the pending timer keeps the process alive, without re-arming it (a real
   * clock's timers have it; test clocks, which keep nothing alive, may leave it out).
   */
  keepAlive?(on: boolean): void;
}

/** Options of `Clock.setTimeout`. */
export interface TimerOptions {
  /** Keep the process alive while the timer is pending. @default false */
  readonly keepAlive?: boolean;
}

/** The source of time for a node and everything in it. */
export interface Clock {
  /** Monotonic milliseconds, for deadlines and durations. Not related to the wall clock. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps that other nodes read. */
  wallTime(): number;
  /**
   * Runs `fn` once after `ms` milliseconds (0 or less: on the next turn). With `keepAlive`, a real
   * clock keeps the process alive until the timer fires or is cancelled: use it for deadlines a
   * caller awaits (a call's timeout), never for background work.
   */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): Timer;
  /** Runs `fn` every `ms` milliseconds until cancelled. */
  setInterval(fn: () => void, ms: number): Timer;
}

/**
 * The longest delay Node's timers take. A longer one (or `Infinity`) would be silently set to 1 ms,
 * so a "never" or month-long timeout would fire at once.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A one-shot delay: negative and NaN mean "as soon as possible" (0). */
const timeoutDelay = (ms: number): number => (ms > 0 ? ms : 0);

/** An interval period: at least 1 ms (NaN too), so an interval can never spin. */
const intervalDelay = (ms: number): number => (ms >= 1 ? ms : 1);

/**
 * The real clock. Its timers are `unref()`ed (they never keep the process alive) unless created
 * with `keepAlive`, as the deadline of an awaited operation is, so that a script awaiting a call
 * gets its reply or its `TIMEOUT` instead of exiting early. A timeout longer
 * than Node allows (about 24.8 days) is re-armed until it is due, so `Infinity` never fires; an
 * interval is capped at that length.
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  wallTime: () => Date.now(),
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): Timer {
    let remaining = timeoutDelay(ms);
    let handle: ReturnType<typeof setTimeout>;
    let keepAlive = options?.keepAlive === true;
    const arm = (): void => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      remaining -= step;
      handle = setTimeout(remaining > 0 ? arm : fn, step);
      if (!keepAlive) handle.unref();
    };
    arm();
    return {
      cancel: () => clearTimeout(handle),
      keepAlive: (on: boolean) => {
        keepAlive = on;
        if (on) handle.ref();
        else handle.unref();
      },
    };
  },
  setInterval(fn: () => void, ms: number): Timer {
    const handle = setInterval(fn, Math.min(intervalDelay(ms), MAX_TIMER_MS));
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
});

interface ManualTimer {
  readonly seq: number;
  due: number;
  readonly fn: () => void;
  readonly every: number | undefined;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Use `advance(ms)` to run what falls due, awaiting
 * between timers so that promise chains started by one timer settle before the next runs.
 *
 * @example
 * const clock = new ManualClock();
 * const node = await Node.start({ clock });
 * const pending = node.call(ref, { type: 'slow' }, { timeoutMs: 100 });
 * await clock.advance(100); // the call now rejects with TIMEOUT
 */
export class ManualClock implements Clock {
  #now: number;
  #wallOffset: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  constructor(options: { start?: number; wallStart?: number } = {}) {
    this.#now = options.start ?? 0;
    this.#wallOffset = (options.wallStart ?? 1_700_000_000_000) - this.#now;
  }

  now(): number {
    return this.#now;
  }

  wallTime(): number {
    return this.#now + this.#wallOffset;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, timeoutDelay(ms), undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    const every = intervalDelay(ms);
    return this.#add(fn, every, every);
  }

  /** How many timers are scheduled and not cancelled. */
  pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** The deadline of the next timer, or `undefined` when none is scheduled. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const t of this.#timers) if (!t.cancelled && (next === undefined || t.due < next)) next = t.due;
    return next;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due in deadline order. Settles
   * pending promise callbacks before and after each timer. Rejects with a `RangeError` unless `ms`
   * is finite and >= 0 (advancing to `Infinity` would spin on intervals and end time for good).
   */
  async advance(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#popDue(target);
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.due);
      if (next.every !== undefined) {
        next.due += next.every;
        this.#timers.push(next);
      }
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /**
   * Advances to the next timer's deadline and runs it (and any due at the same instant). Returns
   * false when no timer will ever fall due.
   */
  async runNext(): Promise<boolean> {
    const due = this.nextDue();
    if (due === undefined || due === Infinity) return false;
    await this.advance(due - this.#now);
    return true;
  }

  #add(fn: () => void, delay: number, every: number | undefined): Timer {
    const timer: ManualTimer = { seq: this.#seq++, due: this.#now + delay, fn, every, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        const i = this.#timers.indexOf(timer);
        if (i >= 0) this.#timers.splice(i, 1);
      },
    };
  }

  #popDue(target: number): ManualTimer | undefined {
    let best = -1;
    for (let i = 0; i < this.#timers.length; i++) {
      const t = this.#timers[i]!;
      if (t.due > target) continue;
      const b = this.#timers[best];
      if (b === undefined || t.due < b.due || (t.due === b.due && t.seq < b.seq)) best = i;
    }
    if (best < 0) return undefined;
    return this.#timers.splice(best, 1)[0];
  }
}

/** Lets queued promise callbacks (and their follow-ups, a few levels deep) run. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * The timers of one component. Every timer made through it is cancelled by `clear()`, so a
 * stopped component leaves nothing scheduled behind.
 */
export class TimerSet {
  readonly #clock: Clock;
  readonly #live = new Set<Timer>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Like `clock.setTimeout`, owned by this set. */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): Timer {
    const inner = this.#clock.setTimeout(() => {
      this.#live.delete(owned);
      fn();
    }, ms, options);
    const owned: Timer = {
      cancel: () => {
        this.#live.delete(owned);
        inner.cancel();
      },
    };
    this.#live.add(owned);
    return owned;
  }

  /** Like `clock.setInterval`, owned by this set. */
  setInterval(fn: () => void, ms: number): Timer {
    const inner = this.#clock.setInterval(fn, ms);
    const owned: Timer = {
      cancel: () => {
        this.#live.delete(owned);
        inner.cancel();
      },
    };
    this.#live.add(owned);
    return owned;
  }

  /** How many timers of this set are still scheduled. */
  get size(): number {
    return this.#live.size;
  }

  /** Cancels every timer of this set. */
  clear(): void {
    for (const t of [...this.#live]) t.cancel();
  }
}

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason when aborted first.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      { keepAlive: true },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
