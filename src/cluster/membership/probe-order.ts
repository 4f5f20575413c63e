/**
 * The order in which members are probed: round-robin over a shuffled list, as SWIM suggests.
 *
 * Picking uniformly at random each period gives no bound on how long a member may go unprobed;
 * walking a list and reshuffling it at the end of every round does: a member known for a whole
 * round is probed once per round, so two probes of it are at most `2n - 1` periods apart. A
 * new member is inserted at a random place in the part of the list not yet walked, so it is
 * probed within the current round; a forgotten member is removed.
 */
import type { NodeId } from '../../core/ids.js';
import { clamp01 } from './random.js';

/** A shuffled round-robin over member ids. */
export class ProbeOrder {
  readonly #random: () => number;
  #list: NodeId[] = [];
  #index = 0;
  readonly #known = new Set<NodeId>();

  constructor(random: () => number) {
    this.#random = random;
  }

  /** How many ids are in the rotation. */
  get size(): number {
    return this.#known.size;
  }

  /** Adds `id` (once) at a random place among those not yet probed this round. */
  add(id: NodeId): void {
    if (this.#known.has(id)) return;
    this.#known.add(id);
    const at = this.#index + Math.floor(clamp01(this.#random()) * (this.#list.length - this.#index + 1));
    this.#list.splice(at, 0, id);
  }

  /** Removes `id` from the rotation. */
  remove(id: NodeId): void {
    if (!this.#known.delete(id)) return;
    const i = this.#list.indexOf(id);
    if (i < 0) return;
    this.#list.splice(i, 1);
    if (i < this.#index) this.#index--;
  }

  /**
   * The next id for which `eligible` holds, reshuffling at the end of each round; `undefined`
   * when none is eligible.
   */
  next(eligible: (id: NodeId) => boolean): NodeId | undefined {
    for (let checked = 0; checked < this.#list.length; checked++) {
      if (this.#index >= this.#list.length) this.#shuffle();
      const id = this.#list[this.#index++]!;
      if (eligible(id)) return id;
    }
    return undefined;
  }

  #shuffle(): void {
    const a = this.#list;
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(clamp01(this.#random()) * (i + 1));
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    this.#index = 0;
  }
}
