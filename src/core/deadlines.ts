/**
 * Deadlines: many one-shot timeouts sharing one clock timer.
 *
 * A call waits with a deadline, and nearly every call is answered long before it. Arming and
 * clearing a real timer per call costs more than the rest of a local call; here deadlines falling
 * in the same millisecond share a bucket, and only the earliest bucket has a clock timer.
 *
 * Guarantees: a deadline never fires early, and fires at most one millisecond late (the buckets'
 * width) plus whatever the clock adds; deadlines in one bucket fire in the order they were added;
 * `cancel` is O(1) and cancelling twice, or after the deadline fired, does nothing. When no
 * deadline is pending nothing keeps the process alive: the clock timer is left armed but no
 * longer holds the process (when the clock's timers can switch that; otherwise it is cancelled),
 * so calls made one after another re-arm no timer each, and an idle owner's timer fires once,
 * finds nothing due, and is gone.
 *
 * Not here: repeating timers, or precision below one millisecond.
 */
import type { Clock, Timer } from './clock.js';
import { CohortError } from './errors.js';

/** The deadlines that fall due in one millisecond, in the order they were added (a linked list through the deadlines). */
interface Bucket {
  readonly key: number;
  head: Deadline | undefined;
  tail: Deadline | undefined;
  /**
   * Out of the table (firing, cleared, or emptied by cancels): its list is no longer changed, and
   * a deadline cancelled in it is only skipped.
   */
  detached: boolean;
}

/**
 * One deadline; `cancel()` withdraws it. `Deadlines.add` makes one that runs a function. An owner
 * that keeps a record per waiting request can instead make that record a subclass, with `expire`
 * saying what happens, and start it with `Deadlines.start`: one object per request, no closure.
 */
export class Deadline implements Timer {
  /** @internal Set by `Deadlines.start`; the deadline is pending while it is set. */ owner: Deadlines | undefined = undefined;
  /** @internal */ bucket: Bucket | undefined = undefined;
  /** @internal */ prev: Deadline | undefined = undefined;
  /** @internal */ next: Deadline | undefined = undefined;

  /** Whether it was started and has neither fired nor been cancelled. */
  get pending(): boolean {
    return this.owner !== undefined;
  }

  cancel(): void {
    const owner = this.owner;
    if (owner === undefined) return;
    this.owner = undefined;
    owner.remove(this);
  }

  /** Runs when the deadline passes (once, and never after `cancel`). */
  protected expire(): void {}

  /** @internal Called by the owner when the deadline passes. */
  fire(): void {
    this.expire();
  }
}

/** A deadline that runs a function. */
class CallbackDeadline extends Deadline {
  readonly #fn: () => void;

  constructor(fn: () => void) {
    super();
    this.#fn = fn;
  }

  protected override expire(): void {
    this.#fn();
  }
}

export interface DeadlinesOptions {
  /** Keep the process alive while a deadline is pending (for deadlines a caller awaits). @default false */
  readonly keepAlive?: boolean;
}

export class Deadlines {
  readonly #clock: Clock;
  readonly #keepAlive: boolean;
  /** Pending deadlines by bucket (the millisecond they fall due, rounded up). */
  readonly #buckets = new Map<number, Bucket>();
  /** The bucket added to last: deadlines added in a burst share it without a table lookup. */
  #last: Bucket | undefined;
  /** Bucket keys, a min-heap; keys of emptied buckets are skipped lazily. */
  readonly #heap: number[] = [];
  #size = 0;
  #timer: Timer | undefined;
  #armedAt = Infinity;

  constructor(clock: Clock, options: DeadlinesOptions = {}) {
    this.#clock = clock;
    this.#keepAlive = options.keepAlive === true;
  }

  /** How many deadlines are pending. */
  get size(): number {
    return this.#size;
  }

  /** Runs `fn` once, `ms` milliseconds from now (never earlier), unless cancelled first. */
  add(ms: number, fn: () => void): Deadline {
    return this.start(ms, new CallbackDeadline(fn));
  }

  /**
   * Starts `deadline`: its `expire` runs once, `ms` milliseconds from now (never earlier), unless
   * it is cancelled first. Returns it.
   *
   * @throws CohortError `INVALID_ARGUMENT` when it was started before.
   */
  start<D extends Deadline>(ms: number, deadline: D): D {
    if (deadline.bucket !== undefined) throw new CohortError('INVALID_ARGUMENT', 'a deadline can be started only once');
    const key = Math.ceil(this.#clock.now() + (ms > 0 ? ms : 0));
    let bucket = this.#last !== undefined && this.#last.key === key && !this.#last.detached ? this.#last : this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { key, head: undefined, tail: undefined, detached: false };
      this.#buckets.set(key, bucket);
      push(this.#heap, key);
    }
    this.#last = bucket;
    deadline.owner = this;
    deadline.bucket = bucket;
    if (bucket.tail === undefined) bucket.head = deadline;
    else {
      bucket.tail.next = deadline;
      deadline.prev = bucket.tail;
    }
    bucket.tail = deadline;
    this.#size++;
    if (key < this.#armedAt) this.#arm();
    // The first pending deadline: a timer kept armed while idle (see `#rest`) holds the process again.
    if (this.#size === 1 && this.#keepAlive) this.#timer?.keepAlive?.(true);
    return deadline;
  }

  /** Cancels every pending deadline. */
  clear(): void {
    for (const bucket of this.#buckets.values()) {
      for (let d = bucket.head; d !== undefined; d = d.next) d.owner = undefined;
      bucket.detached = true;
    }
    this.#buckets.clear();
    this.#last = undefined;
    this.#heap.length = 0;
    this.#size = 0;
    this.#disarm();
  }

  /** @internal Called by `Deadline.cancel`. */
  remove(deadline: Deadline): void {
    this.#size--;
    // A detached bucket (e.g. firing right now) is left as it is: its entries are skipped once cancelled.
    const bucket = deadline.bucket!;
    if (!bucket.detached) {
      const { prev, next } = deadline;
      if (prev === undefined) bucket.head = next;
      else prev.next = next;
      if (next === undefined) bucket.tail = prev;
      else next.prev = prev;
      deadline.prev = deadline.next = undefined;
      if (bucket.head === undefined) {
        this.#buckets.delete(bucket.key);
        bucket.detached = true;
      }
    }
    if (this.#size === 0) {
      this.#heap.length = 0;
      this.#rest();
    }
  }

  /** Nothing is pending: keep the armed timer (the next deadline likely falls after it) but let the process go. */
  #rest(): void {
    if (this.#timer?.keepAlive === undefined) {
      this.#disarm();
      return;
    }
    if (this.#keepAlive) this.#timer.keepAlive(false);
  }

  #arm(): void {
    // Skip the keys of buckets that were emptied by cancels.
    while (this.#heap.length > 0 && !this.#buckets.has(this.#heap[0]!)) pop(this.#heap);
    const next = this.#heap[0];
    if (next === this.#armedAt) return;
    this.#disarm();
    if (next === undefined) return;
    this.#armedAt = next;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), next - this.#clock.now(), { keepAlive: this.#keepAlive });
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    while (this.#heap.length > 0 && this.#heap[0]! <= now) {
      const key = pop(this.#heap)!;
      const bucket = this.#buckets.get(key);
      if (bucket === undefined) continue;
      this.#buckets.delete(key);
      bucket.detached = true;
      for (let d = bucket.head; d !== undefined; d = d.next) {
        if (d.owner === undefined) continue;
        d.owner = undefined;
        this.#size--;
        d.fire();
      }
    }
    if (this.#size === 0) this.#heap.length = 0;
    this.#arm();
  }
}

function push(heap: number[], key: number): void {
  heap.push(key);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= key) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = key;
}

function pop(heap: number[]): number | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length === 0 || last === undefined) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= heap.length) break;
    const r = l + 1;
    const c = r < heap.length && heap[r]! < heap[l]! ? r : l;
    if (heap[c]! >= last) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = last;
  return top;
}
