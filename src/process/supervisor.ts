/**
 * Supervisor: a process that starts children, watches them, and restarts them by a strategy.
 *
 * Guarantees:
 * - Children start in spec order and stop in reverse order; each stop waits up to the child's
 *   `shutdownMs` for `terminate`, then kills it.
 * - An exit is handled by the strategy (`one_for_one`, `one_for_all`, `rest_for_one`) and the child's
 *   restart type (`permanent`, `transient`, `temporary`).
 * - More than `maxRestarts` restarts within `withinMs` make the supervisor stop all children and exit
 *   with reason `error`, so its own supervisor can act.
 * - A child that fails to restart counts as another restart and is retried through the mailbox, so
 *   the supervisor keeps answering calls in between.
 * - When the process it is linked to (its parent) exits, the supervisor stops its children and exits.
 *
 * A supervisor is itself a process with a pid, so supervisors nest: use {@link supervisorChild}.
 */
import { CohortError } from '../core/errors.js';
import { formatPid, samePid, type Pid } from '../core/ids.js';
import type { AnyBehavior, Behavior, ProcessContext } from './behavior.js';
import {
  normalizeChildSpec,
  normalizeSupervisorSpec,
  shouldRestart,
  type ChildSpec,
  type Strategy,
  type SupervisorSpec,
} from './child-spec.js';
import {
  HANDLE_TIMEOUT_MS,
  callSupervisor,
  failed,
  ok,
  startChild,
  stopChildren,
  stopSupervisor,
  type ChildEntry,
  type Outcome,
} from './child-ops.js';
import { RestartIntensity } from './restart-intensity.js';
import type { ProcessRuntime } from './runtime.js';
import type { ProcessRef, SystemMessage } from './types.js';

/** What `children()` lists: each child's id and, while it runs, its ref. */
export interface ChildInfo {
  readonly id: string;
  readonly ref: Pid | undefined;
}

/** Internal state of a supervisor process. */
export interface SupervisorState {
  readonly strategy: Strategy;
  readonly intensity: RestartIntensity;
  readonly children: ChildEntry[];
  gaveUp: boolean;
}

/** The calls a supervisor answers. */
export type SupervisorCall =
  | { readonly type: 'startChild'; readonly spec: ChildSpec }
  | { readonly type: 'terminateChild'; readonly id: string }
  | { readonly type: 'restartChild'; readonly id: string }
  | { readonly type: 'deleteChild'; readonly id: string }
  | { readonly type: 'children' }
  | { readonly type: 'whereis'; readonly id: string };

/** What `init` of a supervisor takes. `onState` hands the state to a local handle. */
export interface SupervisorArgs {
  readonly spec: SupervisorSpec;
  readonly onState?: (state: SupervisorState) => void;
}

interface RetryRestart {
  readonly type: '$supervisor.retry';
  readonly id: string;
}

const IS_SUPERVISOR = Symbol('cohort.supervisor');

/** Whether `behavior` is one of the supervisor behaviors (supervisors get a longer default shutdownMs). */
export function isSupervisorBehavior(behavior: AnyBehavior): boolean {
  return (behavior as { [IS_SUPERVISOR]?: boolean })[IS_SUPERVISOR] === true;
}

/** Marks a behavior as a supervisor. */
export function markSupervisor<B extends AnyBehavior>(behavior: B): B {
  return Object.freeze(Object.assign(behavior, { [IS_SUPERVISOR]: true }));
}

/** The supervisor behavior. Spawn it with `node.supervise(spec)` or nest it with {@link supervisorChild}. */
export const supervisorBehavior: Behavior<
  SupervisorArgs,
  SupervisorState,
  SupervisorCall,
  Outcome<unknown>,
  never,
  RetryRestart
> = markSupervisor({
  trapExit: true,

  async init(args, ctx) {
    const spec = normalizeSupervisorSpec(args?.spec, isSupervisorBehavior);
    const state: SupervisorState = {
      strategy: spec.strategy,
      intensity: new RestartIntensity(spec.maxRestarts, spec.withinMs, ctx.clock),
      children: spec.children.map((s) => ({ spec: s, pid: undefined })),
      gaveUp: false,
    };
    for (const entry of state.children) {
      try {
        await startChild(ctx, entry);
      } catch (error) {
        await stopChildren(ctx, [...state.children].reverse());
        throw new CohortError('INIT_FAILED', `supervisor could not start child '${entry.spec.id}': ${(error as Error).message}`, {
          cause: error,
          details: { child: entry.spec.id },
        });
      }
    }
    args.onState?.(state);
    return state;
  },

  async handleCall(message, state, _from, ctx) {
    switch (message.type) {
      case 'children':
        return [ok(listChildren(state)), state];
      case 'whereis':
        return [ok(state.children.find((c) => c.spec.id === message.id)?.pid), state];
      case 'startChild': {
        try {
          const spec = normalizeChildSpec(message.spec, isSupervisorBehavior);
          const existing = state.children.find((c) => c.spec.id === spec.id);
          if (existing !== undefined) throw alreadyThere(existing);
          const entry: ChildEntry = { spec, pid: undefined };
          state.children.push(entry);
          try {
            return [ok(await startChild(ctx, entry)), state];
          } catch (error) {
            state.children.splice(state.children.indexOf(entry), 1);
            throw error;
          }
        } catch (error) {
          return [failed(error), state];
        }
      }
      case 'terminateChild': {
        const entry = state.children.find((c) => c.spec.id === message.id);
        if (entry === undefined) return [failed(notFound(message.id)), state];
        entry.retryPending = false;
        await stopChildren(ctx, [entry]);
        if (entry.spec.restart === 'temporary') state.children.splice(state.children.indexOf(entry), 1);
        return [ok(undefined), state];
      }
      case 'restartChild': {
        const entry = state.children.find((c) => c.spec.id === message.id);
        if (entry === undefined) return [failed(notFound(message.id)), state];
        if (entry.pid !== undefined) return [failed(alreadyThere(entry)), state];
        entry.retryPending = false;
        try {
          return [ok(await startChild(ctx, entry)), state];
        } catch (error) {
          return [failed(error), state];
        }
      }
      case 'deleteChild': {
        const entry = state.children.find((c) => c.spec.id === message.id);
        if (entry === undefined) return [failed(notFound(message.id)), state];
        if (entry.pid !== undefined) {
          return [failed(new CohortError('INVALID_ARGUMENT', `child '${message.id}' is running; terminate it before deleting it`)), state];
        }
        entry.retryPending = false;
        state.children.splice(state.children.indexOf(entry), 1);
        return [ok(undefined), state];
      }
      default:
        return [failed(new CohortError('BAD_REQUEST', `unknown supervisor call ${JSON.stringify((message as { type?: unknown }).type)}`)), state];
    }
  },

  async handleInfo(message, state, ctx) {
    const msg = message as SystemMessage | RetryRestart;
    if (msg.type === '$supervisor.retry') {
      const entry = state.children.find((c) => c.spec.id === msg.id);
      // terminateChild, restartChild or deleteChild may have taken over the child meanwhile.
      if (entry?.retryPending !== true) return state;
      entry.retryPending = false;
      await restart(state, msg.id, ctx);
      return state;
    }
    if (msg.type !== '$exit') return state;
    if (ctx.parent !== undefined && samePid(msg.pid, ctx.parent)) {
      ctx.stop(msg.reason, `parent ${formatPid(msg.pid)} exited`);
      return state;
    }
    const index = state.children.findIndex((c) => c.pid !== undefined && samePid(c.pid, msg.pid));
    if (index < 0) return state; // a child we stopped ourselves, or not ours
    const entry = state.children[index]!;
    entry.pid = undefined;
    if (!shouldRestart(entry.spec.restart, msg.reason)) {
      if (entry.spec.restart === 'temporary') state.children.splice(index, 1);
      return state;
    }
    await restart(state, entry.spec.id, ctx);
    return state;
  },

  async terminate(_exit, state, ctx) {
    await stopChildren(ctx, [...state.children].reverse());
  },
});

/** Restarts child `id` (and its siblings, per the strategy), or gives up past the intensity. */
async function restart(state: SupervisorState, id: string, ctx: ProcessContext): Promise<void> {
  if (state.gaveUp) return;
  const index = state.children.findIndex((c) => c.spec.id === id);
  if (index < 0) return;
  if (!state.intensity.record()) {
    state.gaveUp = true;
    await stopChildren(ctx, [...state.children].reverse());
    ctx.stop(
      'error',
      `restart intensity reached: more than ${state.intensity.maxRestarts} restarts within ${state.intensity.withinMs} ms (last: child '${id}')`,
    );
    return;
  }
  let toStart: ChildEntry[];
  if (state.strategy === 'one_for_one') {
    toStart = [state.children[index]!];
  } else {
    const affected = state.strategy === 'one_for_all' ? state.children : state.children.slice(index);
    await stopChildren(ctx, [...affected].reverse());
    // Temporary children stopped by a sibling's failure are not restarted, and their specs go.
    for (let i = state.children.length - 1; i >= 0; i--) {
      const c = state.children[i]!;
      if (c.spec.restart === 'temporary' && c.pid === undefined && affected.includes(c)) state.children.splice(i, 1);
    }
    toStart = affected.filter((c) => state.children.includes(c));
  }
  for (const entry of toStart) {
    if (entry.pid !== undefined) continue;
    try {
      await startChild(ctx, entry);
    } catch {
      // Counted as another restart when retried; retried through the mailbox so calls go on.
      entry.retryPending = true;
      ctx.send(ctx.self, { type: '$supervisor.retry', id: entry.spec.id } satisfies RetryRestart);
      return;
    }
  }
}

function listChildren(state: SupervisorState): ChildInfo[] {
  return state.children.map((c) => ({ id: c.spec.id, ref: c.pid }));
}

function notFound(id: string): CohortError {
  return new CohortError('NOT_FOUND', `the supervisor has no child with id '${id}'`, { details: { id } });
}

function alreadyThere(entry: ChildEntry): CohortError {
  return entry.pid !== undefined
    ? new CohortError('ALREADY_STARTED', `child '${entry.spec.id}' is already running as ${formatPid(entry.pid)}`, {
        details: { id: entry.spec.id, pid: entry.pid },
      })
    : new CohortError('ALREADY_STARTED', `a child with id '${entry.spec.id}' is already present (stopped); use restartChild or deleteChild`, {
        details: { id: entry.spec.id },
      });
}

/** A child spec that nests a supervisor under another. */
export function supervisorChild(
  id: string,
  spec: SupervisorSpec,
  options: { restart?: ChildSpec['restart']; shutdownMs?: number } = {},
): ChildSpec<typeof supervisorBehavior> {
  return { id, behavior: supervisorBehavior, args: { spec }, ...options };
}

/** Options for supervisor handle calls. */
export interface SupervisorCallOptions {
  /** @default 60000 */
  timeoutMs?: number;
}

/**
 * A handle on a running supervisor: read its children, add, stop, restart or delete them, or stop it.
 * `children()` and `whereis()` read the supervisor's table directly, without a message.
 */
export class Supervisor {
  readonly ref: Pid;
  readonly #runtime: ProcessRuntime;
  readonly #state: SupervisorState;

  constructor(runtime: ProcessRuntime, ref: Pid, state: SupervisorState) {
    this.#runtime = runtime;
    this.ref = ref;
    this.#state = state;
  }

  /** Starts a supervisor on `runtime`. */
  static async start(runtime: ProcessRuntime, spec: SupervisorSpec, options: { name?: string; link?: Pid } = {}): Promise<Supervisor> {
    // Validate before spawning, so a bad spec is reported as INVALID_OPTION rather than INIT_FAILED.
    normalizeSupervisorSpec(spec, isSupervisorBehavior);
    let state: SupervisorState | undefined;
    const ref = await runtime.spawn(supervisorBehavior, { spec, onState: (s) => (state = s) } satisfies SupervisorArgs, {
      ...options,
      timeoutMs: HANDLE_TIMEOUT_MS,
    });
    return new Supervisor(runtime, ref, state!);
  }

  /** Whether the supervisor is still running. */
  get running(): boolean {
    return this.#runtime.isAlive(this.ref);
  }

  /** Every child, in start order, with its ref while it runs. */
  children(): ChildInfo[] {
    return listChildren(this.#state);
  }

  /** The ref of the running child `id`, if any. Name the behavior to get a typed ref: `whereis<typeof counter>('c')`. */
  whereis<B = unknown>(id: string): ProcessRef<B> | undefined {
    return this.#state.children.find((c) => c.spec.id === id)?.pid;
  }

  /**
   * Adds and starts a child.
   * @throws CohortError `INVALID_OPTION` (bad spec), `ALREADY_STARTED`, `UNKNOWN_BEHAVIOR`, `INIT_FAILED`, `NOPROC` (supervisor gone).
   */
  async startChild<B extends AnyBehavior>(spec: ChildSpec<B>, options?: SupervisorCallOptions): Promise<ProcessRef<B>> {
    return (await this.#call({ type: 'startChild', spec: spec as ChildSpec }, options)) as ProcessRef<B>;
  }

  /** Stops a child and keeps its spec (a temporary child's spec is removed). @throws `NOT_FOUND`. */
  async terminateChild(id: string, options?: SupervisorCallOptions): Promise<void> {
    await this.#call({ type: 'terminateChild', id }, options);
  }

  /** Starts a stopped child again. @throws `NOT_FOUND`, `ALREADY_STARTED`, `INIT_FAILED`. */
  async restartChild(id: string, options?: SupervisorCallOptions): Promise<Pid> {
    return (await this.#call({ type: 'restartChild', id }, options)) as Pid;
  }

  /** Removes a stopped child's spec. @throws `NOT_FOUND`, `INVALID_ARGUMENT` (still running). */
  async deleteChild(id: string, options?: SupervisorCallOptions): Promise<void> {
    await this.#call({ type: 'deleteChild', id }, options);
  }

  /** Stops every child in reverse order, then the supervisor. */
  async stop(timeoutMs = HANDLE_TIMEOUT_MS): Promise<void> {
    await stopSupervisor(this.#runtime, this.ref, timeoutMs);
  }

  #call(message: SupervisorCall, options: SupervisorCallOptions = {}): Promise<unknown> {
    return callSupervisor(this.#runtime, this.ref, message, options.timeoutMs);
  }
}
