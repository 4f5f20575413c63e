/**
 * DynamicSupervisor: a supervisor that starts with no children and adds them on demand, each
 * supervised `one_for_one` and identified by its ref (ids are optional labels).
 *
 * Guarantees: the same restart types and restart intensity as `Supervisor`; `maxChildren` bounds the
 * number of running children (`MAX_CHILDREN` beyond it); on stop, children stop in reverse start
 * order. A restarted child gets a new ref; `children()` always lists the current ones.
 */
import { CohortError } from '../core/errors.js';
import { formatPid, pidKey, samePid, type Pid } from '../core/ids.js';
import type { AnyBehavior, Behavior } from './behavior.js';
import { normalizeChildSpec, normalizeIntensity, shouldRestart, type ChildSpec, type IntensityOptions } from './child-spec.js';
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
import { isSupervisorBehavior, markSupervisor, type SupervisorCallOptions } from './supervisor.js';
import type { ProcessRef, SystemMessage } from './types.js';

/** Options of `node.dynamicSupervisor`. */
export interface DynamicSupervisorOptions extends IntensityOptions {
  /** The most children that may run at once. @default Infinity */
  maxChildren?: number;
}

/** A child spec for a dynamic supervisor: like `ChildSpec`, the id is optional. */
export type DynamicChildSpec<B extends AnyBehavior = AnyBehavior> = Omit<ChildSpec<B>, 'id'> & { id?: string };

/** What `children()` lists. */
export interface DynamicChildInfo {
  readonly id: string | undefined;
  readonly ref: Pid;
}

export interface DynamicSupervisorState {
  readonly intensity: RestartIntensity;
  readonly maxChildren: number;
  /** Running children by pid key, in start order. */
  readonly children: Map<string, ChildEntry & { readonly label: string | undefined }>;
  /** Crashed children whose failed restart waits to be retried: they keep their slot. */
  pendingRetries: number;
  gaveUp: boolean;
}

export type DynamicSupervisorCall =
  | { readonly type: 'startChild'; readonly spec: DynamicChildSpec }
  | { readonly type: 'terminateChild'; readonly ref: Pid }
  | { readonly type: 'children' };

export interface DynamicSupervisorArgs {
  readonly options: DynamicSupervisorOptions;
  readonly onState?: (state: DynamicSupervisorState) => void;
}

interface Retry {
  readonly type: '$dynamic.retry';
  readonly spec: ChildEntry['spec'];
  readonly label: string | undefined;
}

function normalizeOptions(options: unknown): { maxRestarts: number; withinMs: number; maxChildren: number } {
  const o = (options ?? {}) as DynamicSupervisorOptions;
  const maxChildren = o.maxChildren ?? Infinity;
  if (!(maxChildren === Infinity || (Number.isInteger(maxChildren) && maxChildren > 0))) {
    throw new CohortError('INVALID_OPTION', `invalid maxChildren ${String(maxChildren)}: expected a positive integer or Infinity`, {
      details: { field: 'maxChildren' },
    });
  }
  return { ...normalizeIntensity(o), maxChildren };
}

const toSpec = (spec: DynamicChildSpec) => {
  const label = spec.id;
  // Child specs need an id for validation messages; unlabelled children get a placeholder.
  const normalized = normalizeChildSpec({ ...spec, id: label ?? '(unlabelled)' }, isSupervisorBehavior);
  return { normalized, label };
};

function list(state: DynamicSupervisorState): DynamicChildInfo[] {
  return [...state.children.values()].map((c) => ({ id: c.label, ref: c.pid! }));
}

/** The dynamic supervisor behavior. */
export const dynamicSupervisorBehavior: Behavior<
  DynamicSupervisorArgs,
  DynamicSupervisorState,
  DynamicSupervisorCall,
  Outcome<unknown>,
  never,
  Retry
> = markSupervisor({
  trapExit: true,

  init(args, ctx) {
    const o = normalizeOptions(args?.options);
    const state: DynamicSupervisorState = {
      intensity: new RestartIntensity(o.maxRestarts, o.withinMs, ctx.clock),
      maxChildren: o.maxChildren,
      children: new Map(),
      pendingRetries: 0,
      gaveUp: false,
    };
    args.onState?.(state);
    return state;
  },

  async handleCall(message, state, _from, ctx) {
    switch (message.type) {
      case 'children':
        return [ok(list(state)), state];
      case 'startChild': {
        try {
          if (state.children.size + state.pendingRetries >= state.maxChildren) {
            throw new CohortError('MAX_CHILDREN', `the dynamic supervisor already runs its maximum of ${state.maxChildren} children`, {
              details: { maxChildren: state.maxChildren },
            });
          }
          const { normalized, label } = toSpec(message.spec);
          const entry = { spec: normalized, pid: undefined as Pid | undefined, label };
          const pid = await startChild(ctx, entry);
          state.children.set(pidKey(pid), entry);
          return [ok(pid), state];
        } catch (error) {
          return [failed(error), state];
        }
      }
      case 'terminateChild': {
        const key = pidKey(message.ref);
        const entry = state.children.get(key);
        if (entry === undefined) {
          return [failed(new CohortError('NOT_FOUND', `${formatPid(message.ref)} is not a child of this dynamic supervisor`)), state];
        }
        state.children.delete(key);
        await stopChildren(ctx, [entry]);
        return [ok(undefined), state];
      }
      default:
        return [failed(new CohortError('BAD_REQUEST', `unknown dynamic supervisor call ${JSON.stringify((message as { type?: unknown }).type)}`)), state];
    }
  },

  async handleInfo(message, state, ctx) {
    const msg = message as SystemMessage | Retry;
    let spec: ChildEntry['spec'];
    let label: string | undefined;
    if (msg.type === '$dynamic.retry') {
      state.pendingRetries--;
      ({ spec, label } = msg);
    } else if (msg.type === '$exit') {
      if (ctx.parent !== undefined && samePid(msg.pid, ctx.parent)) {
        ctx.stop(msg.reason, `parent ${formatPid(msg.pid)} exited`);
        return state;
      }
      const key = pidKey(msg.pid);
      const entry = state.children.get(key);
      if (entry === undefined) return state;
      state.children.delete(key);
      if (!shouldRestart(entry.spec.restart, msg.reason)) return state;
      ({ spec, label } = entry);
    } else {
      return state;
    }
    if (state.gaveUp) return state;
    if (!state.intensity.record()) {
      state.gaveUp = true;
      await stopChildren(ctx, [...state.children.values()].reverse());
      state.children.clear();
      ctx.stop('error', `restart intensity reached: more than ${state.intensity.maxRestarts} restarts within ${state.intensity.withinMs} ms`);
      return state;
    }
    const entry = { spec, pid: undefined as Pid | undefined, label };
    try {
      const pid = await startChild(ctx, entry);
      state.children.set(pidKey(pid), entry);
    } catch {
      state.pendingRetries++;
      ctx.send(ctx.self, { type: '$dynamic.retry', spec, label } satisfies Retry);
    }
    return state;
  },

  async terminate(_exit, state, ctx) {
    await stopChildren(ctx, [...state.children.values()].reverse());
  },
});

/** A handle on a running dynamic supervisor. `children()` and `count()` read its table directly. */
export class DynamicSupervisor {
  readonly ref: Pid;
  readonly #runtime: ProcessRuntime;
  readonly #state: DynamicSupervisorState;

  constructor(runtime: ProcessRuntime, ref: Pid, state: DynamicSupervisorState) {
    this.#runtime = runtime;
    this.ref = ref;
    this.#state = state;
  }

  /** Starts a dynamic supervisor on `runtime`. */
  static async start(
    runtime: ProcessRuntime,
    options: DynamicSupervisorOptions = {},
    spawn: { name?: string; link?: Pid } = {},
  ): Promise<DynamicSupervisor> {
    normalizeOptions(options);
    let state: DynamicSupervisorState | undefined;
    const ref = await runtime.spawn(dynamicSupervisorBehavior, { options, onState: (s) => (state = s) } satisfies DynamicSupervisorArgs, spawn);
    return new DynamicSupervisor(runtime, ref, state!);
  }

  get running(): boolean {
    return this.#runtime.isAlive(this.ref);
  }

  /** The running children, in start order. */
  children(): DynamicChildInfo[] {
    return list(this.#state);
  }

  /** How many children run. */
  count(): number {
    return this.#state.children.size;
  }

  /**
   * Starts a child under this supervisor.
   * @throws CohortError `MAX_CHILDREN`, `INVALID_OPTION`, `UNKNOWN_BEHAVIOR`, `INIT_FAILED`, `BAD_REQUEST`.
   */
  async startChild<B extends AnyBehavior>(spec: DynamicChildSpec<B>, options: SupervisorCallOptions = {}): Promise<ProcessRef<B>> {
    return (await this.#call({ type: 'startChild', spec: spec as DynamicChildSpec }, options)) as ProcessRef<B>;
  }

  /** Stops a child for good (it is not restarted). @throws `NOT_FOUND`. */
  async terminateChild(ref: Pid, options: SupervisorCallOptions = {}): Promise<void> {
    await this.#call({ type: 'terminateChild', ref }, options);
  }

  /** Stops every child in reverse start order, then the supervisor. */
  async stop(timeoutMs = HANDLE_TIMEOUT_MS): Promise<void> {
    await stopSupervisor(this.#runtime, this.ref, timeoutMs);
  }

  #call(message: DynamicSupervisorCall, options: SupervisorCallOptions): Promise<unknown> {
    return callSupervisor(this.#runtime, this.ref, message, options.timeoutMs);
  }
}
