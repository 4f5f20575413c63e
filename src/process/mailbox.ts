/**
 * A process mailbox: a FIFO queue with O(1) push and shift.
 *
 * Unbounded by design, like an Erlang mailbox: the bound on memory is the caller's timeout and the
 * sender's own backpressure (later, the transport's bounded send queue). `drain()` empties it and
 * returns what was left, so the runtime can fail pending calls when the process ends.
 */
export class Mailbox<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    // Compact once the consumed prefix dominates, keeping shift amortised O(1).
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  drain(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
