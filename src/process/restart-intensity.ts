/**
 * Restart intensity, as OTP supervisors count it: a supervisor may restart children at most
 * `maxRestarts` times within any window of `withinMs`; one more and it gives up and exits, handing
 * the failure to its own supervisor. Time comes from the injected clock.
 */
import type { Clock } from '../core/clock.js';

export class RestartIntensity {
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly #clock: Clock;
  #times: number[] = [];

  constructor(maxRestarts: number, withinMs: number, clock: Clock) {
    this.maxRestarts = maxRestarts;
    this.withinMs = withinMs;
    this.#clock = clock;
  }

  /** Records one restart. Returns false when it exceeds the intensity (the supervisor must exit). */
  record(): boolean {
    const now = this.#clock.now();
    this.#times = this.#times.filter((t) => now - t < this.withinMs);
    this.#times.push(now);
    return this.#times.length <= this.maxRestarts;
  }

  /** Restarts counted in the current window. */
  get recent(): number {
    const now = this.#clock.now();
    return this.#times.filter((t) => now - t < this.withinMs).length;
  }
}
