/**
 * IdTable: entries keyed by the integers a counter hands out (request ids, call tags), for the
 * records of requests that wait for an answer.
 *
 * Why not a `Map`: a burst of requests grows a Map's hash table and their answers shrink it again,
 * and every resize leaves the old table behind with the entries it held. Once such a table has
 * lived through a young-generation garbage collection it sits in the old generation, where only a
 * full collection frees it, and until then everything it points at (the waiting records, their
 * promises, and through them the answers) survives every young collection and is promoted. At 256
 * calls in flight that made about 470 bytes per call survive on the calling side, and 22 with this
 * table. Here the storage is replaced only when it must grow (or, rarely, shrink), and the storage
 * it replaces is cleared first, so nothing is kept alive by it.
 *
 * How: slot `key mod capacity`. Keys come in increasing order and most answers come back soon, so
 * a slot is usually free again by the time its next key comes. When it is not (an entry waits much
 * longer than the ones after it), the older entry moves to a small side map; when more than half
 * the slots are in use the table doubles. Guarantees: `get`, `set` and `delete` are O(1)
 * (amortised for `set`); `size` counts every entry; iteration visits each entry once.
 *
 * Not here: keys that are not non-negative safe integers (refused), or insertion-ordered iteration.
 */
import { CohortError, describe } from './errors.js';

const MIN_CAPACITY = 64;
/** An empty table above this many slots shrinks (to a quarter, not below it), so a rare huge burst does not hold its memory for good. */
const SHRINK_ABOVE = 1024;

export class IdTable<T> {
  #keys: number[];
  #values: (T | undefined)[];
  #mask: number;
  /** Entries in slots. */
  #inSlots = 0;
  /** Entries pushed out of their slot by a newer key, until they are taken. */
  #aside: Map<number, T> | undefined;

  constructor() {
    this.#keys = new Array<number>(MIN_CAPACITY).fill(-1);
    this.#values = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
    this.#mask = MIN_CAPACITY - 1;
  }

  /** @internal How many slots the table has now. */
  get capacity(): number {
    return this.#keys.length;
  }

  get size(): number {
    return this.#inSlots + (this.#aside?.size ?? 0);
  }

  get(key: number): T | undefined {
    const i = key & this.#mask;
    if (this.#keys[i] === key) return this.#values[i];
    return this.#aside?.get(key);
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Adds an entry; `value` must not be `undefined`.
   *
   * @throws CohortError `INVALID_ARGUMENT` for a key that is not a non-negative safe integer, or a key already present.
   */
  set(key: number, value: T): void {
    if (!Number.isSafeInteger(key) || key < 0 || value === undefined) {
      throw new CohortError('INVALID_ARGUMENT', `an IdTable key must be a non-negative safe integer with a value, got ${describe(key)}`);
    }
    if (this.get(key) !== undefined) throw new CohortError('INVALID_ARGUMENT', `key ${key} is already in the table`);
    if (2 * (this.#inSlots + 1) > this.#keys.length) this.#resize(this.#keys.length * 2);
    const i = key & this.#mask;
    if (this.#keys[i] !== -1) {
      // An older entry still waits in this slot: it moves aside.
      (this.#aside ??= new Map()).set(this.#keys[i]!, this.#values[i]!);
      this.#inSlots--;
    }
    this.#keys[i] = key;
    this.#values[i] = value;
    this.#inSlots++;
  }

  /** Removes an entry; returns whether it was there. */
  delete(key: number): boolean {
    const i = key & this.#mask;
    if (this.#keys[i] === key) {
      this.#keys[i] = -1;
      this.#values[i] = undefined;
      this.#inSlots--;
      if (this.#inSlots === 0 && this.#keys.length > SHRINK_ABOVE) this.#resize(Math.max(SHRINK_ABOVE, this.#keys.length / 4));
      return true;
    }
    const aside = this.#aside;
    if (aside === undefined || !aside.delete(key)) return false;
    if (aside.size === 0) this.#aside = undefined;
    return true;
  }

  /** Every entry as `[key, value]`, from a snapshot: entries may be added or deleted while iterating. */
  *entries(): IterableIterator<[number, T]> {
    const all: [number, T][] = [];
    for (let i = 0; i < this.#keys.length; i++) {
      const key = this.#keys[i]!;
      if (key !== -1) all.push([key, this.#values[i]!]);
    }
    if (this.#aside !== undefined) all.push(...this.#aside);
    yield* all;
  }

  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this.entries();
  }

  /** Moves every slotted entry into storage of `capacity` slots, and clears the old storage. */
  #resize(capacity: number): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Array<number>(capacity).fill(-1);
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#inSlots = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === -1) continue;
      const key = keys[i]!;
      const j = key & this.#mask;
      if (this.#keys[j] === -1) {
        this.#keys[j] = key;
        this.#values[j] = values[i];
        this.#inSlots++;
      } else (this.#aside ??= new Map()).set(key, values[i]!);
    }
    // The old storage may live in the old generation: leave nothing in it to keep alive.
    values.fill(undefined);
  }
}
