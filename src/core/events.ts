/**
 * A small typed event emitter.
 *
 * `on` returns an unsubscribe function. Listeners run synchronously in subscription order; a
 * listener that throws does not stop the others nor the emitter: its error goes to `onError`
 * (by default the logger of the component that owns the emitter). Listeners added during an emit
 * see the next event, not the current one; listeners removed during an emit (by an earlier
 * listener, or by a nested emit of the same type for `once`) are not called for it.
 */

/** An unsubscribe function: calling it (once or more) removes the listener. */
export type Unsubscribe = () => void;

/**
 * A map from event name to the payload its listeners receive. Declare it as an interface without
 * an index signature, so that an unknown event name does not compile.
 */
export type EventMap = object;

/** A listener of one event. */
export type Listener<T> = (event: T) => void;

/** The read side of an emitter: what a component exposes to its users. */
export interface Events<M extends EventMap> {
  /** Calls `fn` for every `type` event from now on. */
  on<K extends keyof M & string>(type: K, fn: Listener<M[K]>): Unsubscribe;
  /** Calls `fn` for the next `type` event only. */
  once<K extends keyof M & string>(type: K, fn: Listener<M[K]>): Unsubscribe;
}

/** A typed emitter. Keep it private to its owner; hand out the {@link Events} side. */
export class Emitter<M extends EventMap> implements Events<M> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();
  readonly #onError: (error: unknown, type: string) => void;

  constructor(onError: (error: unknown, type: string) => void = () => {}) {
    this.#onError = onError;
  }

  on<K extends keyof M & string>(type: K, fn: Listener<M[K]>): Unsubscribe {
    if (typeof fn !== 'function') throw new TypeError(`listener for '${type}' must be a function`);
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    // Wrap so the same function can be subscribed twice and removed independently.
    const entry: Listener<M[K]> = (e) => fn(e);
    set.add(entry as Listener<never>);
    return () => {
      const s = this.#listeners.get(type);
      if (s === undefined) return;
      s.delete(entry as Listener<never>);
      if (s.size === 0) this.#listeners.delete(type);
    };
  }

  once<K extends keyof M & string>(type: K, fn: Listener<M[K]>): Unsubscribe {
    const off = this.on(type, (e) => {
      off();
      fn(e);
    });
    return off;
  }

  /** Delivers `event` to every current listener of `type`. */
  emit<K extends keyof M & string>(type: K, event: M[K]): void {
    const set = this.#listeners.get(type);
    if (set === undefined) return;
    for (const fn of [...set]) {
      if (!set.has(fn)) continue; // unsubscribed during this emit
      try {
        (fn as Listener<M[K]>)(event);
      } catch (error) {
        this.#onError(error, type);
      }
    }
  }

  /** How many listeners `type` has (all types when omitted). */
  listenerCount(type?: keyof M & string): number {
    if (type !== undefined) return this.#listeners.get(type)?.size ?? 0;
    let n = 0;
    for (const s of this.#listeners.values()) n += s.size;
    return n;
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}
