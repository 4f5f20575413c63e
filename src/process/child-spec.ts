/**
 * Child specs and supervisor options: their types, defaults and validation.
 *
 * Validation happens when a supervisor is started or a child is added, and every refusal is an
 * `INVALID_OPTION` error that names the field, the value and what was expected.
 */
import { CohortError, describe } from '../core/errors.js';
import { isBehavior, type AnyBehavior, type ArgsOf } from './behavior.js';

/** When a child is restarted after it exits. */
export const RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;
/**
 * - `permanent`: always restarted.
 * - `transient`: restarted only after an abnormal exit (not `normal` or `shutdown`).
 * - `temporary`: never restarted; its spec is removed when it exits.
 */
export type RestartType = (typeof RESTART_TYPES)[number];

/** How a supervisor reacts when one child exits and must be restarted. */
export const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
/**
 * - `one_for_one`: restart that child only.
 * - `one_for_all`: stop every other child, then restart them all in order.
 * - `rest_for_one`: stop the children started after it, then restart it and them in order.
 */
export type Strategy = (typeof STRATEGIES)[number];

/** Describes one child of a supervisor. */
export interface ChildSpec<B extends AnyBehavior = AnyBehavior> {
  /** Unique among the supervisor's children. */
  id: string;
  /** A behavior object, or the name of a registered behavior. */
  behavior: B | string;
  /** Passed to the behavior's `init`. */
  args?: ArgsOf<B>;
  /** @default 'permanent' */
  restart?: RestartType;
  /**
   * How long the child may take to stop (finish its message and run `terminate`) before it is killed.
   * @default 5000 (60000 for a child that is itself a supervisor)
   */
  shutdownMs?: number;
  /** Registers the child under this local name while it runs. */
  name?: string;
}

/** Restart intensity: more than `maxRestarts` restarts within `withinMs` make the supervisor exit. */
export interface IntensityOptions {
  /** @default 3 */
  maxRestarts?: number;
  /** @default 5000 */
  withinMs?: number;
}

/** Options of `node.supervise`. */
export interface SupervisorSpec extends IntensityOptions {
  /** @default 'one_for_one' */
  strategy?: Strategy;
  /** Started in order, stopped in reverse order. @default [] */
  children?: ChildSpec[];
}

export const SUPERVISOR_DEFAULTS = Object.freeze({
  strategy: 'one_for_one' as Strategy,
  maxRestarts: 3,
  withinMs: 5_000,
  restart: 'permanent' as RestartType,
  shutdownMs: 5_000,
  supervisorShutdownMs: 60_000,
});

/** A child spec with every default applied. */
export interface NormalizedChildSpec {
  readonly id: string;
  readonly behavior: AnyBehavior | string;
  readonly args: unknown;
  readonly restart: RestartType;
  readonly shutdownMs: number;
  readonly name: string | undefined;
}

const fail = (field: string, value: unknown, expected: string) =>
  new CohortError('INVALID_OPTION', `invalid ${field} ${describe(value)}: expected ${expected}`, {
    details: { field },
  });

/** Validates the intensity options and applies defaults. */
export function normalizeIntensity(options: IntensityOptions): { maxRestarts: number; withinMs: number } {
  const maxRestarts = options.maxRestarts ?? SUPERVISOR_DEFAULTS.maxRestarts;
  const withinMs = options.withinMs ?? SUPERVISOR_DEFAULTS.withinMs;
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0) throw fail('maxRestarts', maxRestarts, 'an integer >= 0');
  if (typeof withinMs !== 'number' || !(withinMs > 0) || !Number.isFinite(withinMs)) {
    throw fail('withinMs', withinMs, 'a positive number of milliseconds');
  }
  return { maxRestarts, withinMs };
}

/** Validates a child spec and applies defaults. `isSupervisor` tells whether the behavior is a supervisor. */
export function normalizeChildSpec(spec: unknown, isSupervisor: (b: AnyBehavior) => boolean, where = 'child spec'): NormalizedChildSpec {
  if (typeof spec !== 'object' || spec === null) throw fail(where, spec, 'an object { id, behavior, args?, restart?, shutdownMs? }');
  const s = spec as Partial<Record<keyof ChildSpec, unknown>>;
  if (typeof s.id !== 'string' || s.id.length === 0 || s.id.length > 255) {
    throw fail(`${where} id`, s.id, 'a non-empty string of at most 255 characters');
  }
  const at = `${where} '${s.id}'`;
  if (typeof s.behavior !== 'string' && !isBehavior(s.behavior)) {
    throw fail(`${at} behavior`, s.behavior, 'a behavior object (with init) or the name of a registered behavior');
  }
  const restart = s.restart ?? SUPERVISOR_DEFAULTS.restart;
  if (!RESTART_TYPES.includes(restart as RestartType)) throw fail(`${at} restart`, restart, `one of ${RESTART_TYPES.join(', ')}`);
  const fallback =
    typeof s.behavior !== 'string' && isSupervisor(s.behavior) ? SUPERVISOR_DEFAULTS.supervisorShutdownMs : SUPERVISOR_DEFAULTS.shutdownMs;
  const shutdownMs = s.shutdownMs ?? fallback;
  if (typeof shutdownMs !== 'number' || !(shutdownMs > 0) || !Number.isFinite(shutdownMs)) {
    throw fail(`${at} shutdownMs`, shutdownMs, 'a positive number of milliseconds');
  }
  if (s.name !== undefined && (typeof s.name !== 'string' || s.name.length === 0)) throw fail(`${at} name`, s.name, 'a non-empty string');
  return Object.freeze({
    id: s.id,
    behavior: s.behavior as AnyBehavior | string,
    args: s.args,
    restart: restart as RestartType,
    shutdownMs,
    name: s.name as string | undefined,
  });
}

/** Validates a supervisor spec and applies defaults. */
export function normalizeSupervisorSpec(
  spec: unknown,
  isSupervisor: (b: AnyBehavior) => boolean,
): { strategy: Strategy; maxRestarts: number; withinMs: number; children: NormalizedChildSpec[] } {
  if (typeof spec !== 'object' || spec === null) throw fail('supervisor spec', spec, 'an object { strategy?, maxRestarts?, withinMs?, children? }');
  const s = spec as SupervisorSpec;
  const strategy = s.strategy ?? SUPERVISOR_DEFAULTS.strategy;
  if (!STRATEGIES.includes(strategy)) throw fail('strategy', strategy, `one of ${STRATEGIES.join(', ')}`);
  const { maxRestarts, withinMs } = normalizeIntensity(s);
  const raw = s.children ?? [];
  if (!Array.isArray(raw)) throw fail('children', raw, 'an array of child specs');
  const children = raw.map((c, i) => normalizeChildSpec(c, isSupervisor, `children[${i}]`));
  const seen = new Set<string>();
  for (const c of children) {
    if (seen.has(c.id)) throw fail('children', c.id, 'unique child ids (this id appears twice)');
    seen.add(c.id);
  }
  return { strategy, maxRestarts, withinMs, children };
}

/** Whether a child that exited with `reason` should be restarted under `restart`. */
export function shouldRestart(restart: RestartType, reason: string): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'temporary') return false;
  return reason !== 'normal' && reason !== 'shutdown';
}
