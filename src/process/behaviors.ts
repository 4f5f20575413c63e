/**
 * The behaviors a node knows by name. Only registered behaviors can be spawned by name, which is
 * what remote spawn will use: no code ever travels, only a name and args.
 */
import { CohortError, describe } from '../core/errors.js';
import { isBehavior, type AnyBehavior } from './behavior.js';

const NAME_RE = /^[A-Za-z0-9_$][A-Za-z0-9_.:/$-]{0,127}$/;

export class BehaviorRegistry {
  readonly #byName = new Map<string, AnyBehavior>();

  /**
   * Registers `behavior` under `name`. Registering the same behavior again is a no-op.
   *
   * @throws CohortError `INVALID_ARGUMENT` for a bad name or a value that is not a behavior;
   *   `NAME_TAKEN` when another behavior already has the name.
   */
  register(name: string, behavior: AnyBehavior): void {
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `invalid behavior name ${describe(name)}: expected 1-128 characters of letters, digits and _ . : / $ -`,
      );
    }
    assertBehavior(behavior, `behavior '${name}'`);
    const existing = this.#byName.get(name);
    if (existing !== undefined && existing !== behavior) {
      throw new CohortError('NAME_TAKEN', `a different behavior is already registered as '${name}'`, { details: { name } });
    }
    this.#byName.set(name, behavior);
  }

  /** Removes a registration; returns whether there was one. */
  unregister(name: string): boolean {
    return this.#byName.delete(name);
  }

  /** The behavior registered as `name`, if any. */
  get(name: string): AnyBehavior | undefined {
    return this.#byName.get(name);
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  /**
   * Returns `behavior` itself when given an object, or the one registered under a name.
   *
   * @throws CohortError `UNKNOWN_BEHAVIOR` for an unregistered name (the message lists the known ones);
   *   `INVALID_ARGUMENT` for an object that is not a behavior.
   */
  resolve(behavior: AnyBehavior | string): AnyBehavior {
    if (typeof behavior === 'string') {
      const found = this.#byName.get(behavior);
      if (found === undefined) {
        const known = this.names();
        throw new CohortError(
          'UNKNOWN_BEHAVIOR',
          `no behavior is registered as '${behavior}'; registered: ${known.length > 0 ? known.join(', ') : '(none)'}`,
          { details: { behavior, registered: known } },
        );
      }
      return found;
    }
    assertBehavior(behavior, 'the behavior');
    return behavior;
  }
}

/** Throws `INVALID_ARGUMENT` unless `value` is a behavior. */
export function assertBehavior(value: unknown, what: string): asserts value is AnyBehavior {
  if (!isBehavior(value)) {
    throw new CohortError(
      'INVALID_ARGUMENT',
      `${what} is not a behavior: expected an object with an init function and optional handleCall, handleCast, handleInfo and terminate functions, got ${describe(value)}`,
    );
  }
}
