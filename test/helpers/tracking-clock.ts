/**
 * `TrackingClock`: a real-time clock that counts its live timers and keeps them ref'd.
 *
 * `systemClock` unrefs its timers, which also hides them from `process.getActiveResourcesInfo()`.
 * This clock does not, so a timer a component forgets to cancel shows up there, and `live` says how
 * many timers are scheduled and neither fired nor cancelled.
 */
import type { Clock, Timer } from '../../src/core/clock.js';

const MAX_TIMER_MS = 2 ** 31 - 1;
const clamp = (ms: number, min: number) => Math.min(Math.max(Number.isFinite(ms) ? ms : MAX_TIMER_MS, min), MAX_TIMER_MS);

export class TrackingClock implements Clock {
  readonly #live = new Set<ReturnType<typeof setTimeout>>();
  /** Timers ever made. */
  created = 0;

  now(): number {
    return performance.now();
  }

  wallTime(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): Timer {
    this.created++;
    const handle = setTimeout(() => {
      this.#live.delete(handle);
      fn();
    }, clamp(ms, 0));
    this.#live.add(handle);
    return {
      cancel: () => {
        clearTimeout(handle);
        this.#live.delete(handle);
      },
    };
  }

  setInterval(fn: () => void, ms: number): Timer {
    this.created++;
    const handle = setInterval(fn, clamp(ms, 1));
    this.#live.add(handle);
    return {
      cancel: () => {
        clearInterval(handle);
        this.#live.delete(handle);
      },
    };
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get live(): number {
    return this.#live.size;
  }
}
