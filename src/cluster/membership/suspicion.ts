/**
 * Suspicion timers: one per suspected member, for the incarnation it was suspected at.
 *
 * When a timer runs out the member is declared dead, unless its record moved on meanwhile (a
 * refutation raises the incarnation, which cancels the timer). A suspicion can be shortened (a
 * lost connection confirmed by a failed probe) but never lengthened: a later, longer request for
 * the same incarnation keeps the earlier deadline. All timers belong to the owner's `TimerSet`.
 */
import type { Clock, Timer, TimerSet } from '../../core/clock.js';
import type { NodeId } from '../../core/ids.js';

interface Entry {
  readonly incarnation: number;
  readonly deadline: number;
  readonly timer: Timer;
}

/** The running suspicion timers of one node. */
export class Suspicions {
  readonly #clock: Clock;
  readonly #timers: TimerSet;
  readonly #expired: (id: NodeId, incarnation: number) => void;
  readonly #running = new Map<NodeId, Entry>();

  /** `expired(id, incarnation)` runs when a suspicion times out. */
  constructor(clock: Clock, timers: TimerSet, expired: (id: NodeId, incarnation: number) => void) {
    this.#clock = clock;
    this.#timers = timers;
    this.#expired = expired;
  }

  /**
   * Suspects `id` at `incarnation` for `ms`. A running suspicion of the same incarnation is only
   * ever shortened; one of another incarnation is replaced.
   */
  start(id: NodeId, incarnation: number, ms: number): void {
    const deadline = this.#clock.now() + ms;
    const existing = this.#running.get(id);
    if (existing !== undefined) {
      if (existing.incarnation === incarnation && existing.deadline <= deadline) return;
      existing.timer.cancel();
    }
    const timer = this.#timers.setTimeout(() => {
      this.#running.delete(id);
      this.#expired(id, incarnation);
    }, ms);
    this.#running.set(id, { incarnation, deadline, timer });
  }

  /** Stops suspecting `id`. */
  cancel(id: NodeId): void {
    this.#running.get(id)?.timer.cancel();
    this.#running.delete(id);
  }

  /** Forgets every suspicion (their timers are cleared with the owner's TimerSet). */
  clear(): void {
    for (const e of this.#running.values()) e.timer.cancel();
    this.#running.clear();
  }
}
