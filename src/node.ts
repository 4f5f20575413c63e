/**
 * `Node`: one cohort node, the object users hold. It wires the layers together and is the only
 * place that does.
 *
 * Today a node is local: it runs processes, supervisors and local names; refs of other nodes are
 * refused with `NOCONNECTION`. Clustering, remote processes and services arrive in later layers
 * behind the same methods. Every node owns all of its state: many nodes can run in one Node.js
 * process without sharing anything.
 */
import { randomInt } from 'node:crypto';
import { systemClock, type Clock } from './core/clock.js';
import { CohortError, describe } from './core/errors.js';
import { Emitter, type Unsubscribe } from './core/events.js';
import { validateHost, validateNodeName, validatePort, type NodeId, type Pid } from './core/ids.js';
import { childLogger, silentLogger, type Logger } from './core/logger.js';
import type { AnyBehavior, ArgsOf, CallOf, CallOptions, CastOf, ReplyOf, SpawnOptions } from './process/behavior.js';
import { assertBehavior } from './process/behaviors.js';
import type { SupervisorSpec } from './process/child-spec.js';
import { DynamicSupervisor, type DynamicSupervisorOptions } from './process/dynamic-supervisor.js';
import { ProcessRuntime, type Down } from './process/runtime.js';
import { Supervisor } from './process/supervisor.js';
import type { Exit, ExitReason, ProcessRef } from './process/types.js';

/** Options of {@link Node.start}. */
export interface NodeOptions {
  /**
   * The node's name, the part before `@` in its id: 1-64 letters, digits, `_`, `.`, `-`.
   * @default 'cohort'
   */
  name?: string;
  /**
   * The host the node is known by (and, once clustering is on, listens on).
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The port, 0 for an ephemeral one.
   * @default 0
   */
  port?: number;
  /** Small key/value facts about the node that other nodes will see. @default {} */
  meta?: Record<string, string>;
  /** The clock every timer of the node uses. @default systemClock */
  clock?: Clock;
  /** Where the node logs. @default silentLogger */
  logger?: Logger;
  /** Default timeout of `call`. @default 5000 */
  callTimeoutMs?: number;
  /** How long `stop()` gives each top-level process to stop before killing it. @default 5000 */
  shutdownTimeoutMs?: number;
}

/** Defaults of {@link NodeOptions}. */
export const NODE_DEFAULTS = Object.freeze({
  name: 'cohort',
  host: '127.0.0.1',
  port: 0,
  callTimeoutMs: 5_000,
  shutdownTimeoutMs: 5_000,
});

const OPTION_KEYS: readonly (keyof NodeOptions)[] = [
  'name',
  'host',
  'port',
  'meta',
  'clock',
  'logger',
  'callTimeoutMs',
  'shutdownTimeoutMs',
];

/** A member of the cluster, as `members()` lists it. */
export interface Member {
  readonly id: NodeId;
  readonly status: 'alive' | 'suspect' | 'dead' | 'left';
  readonly incarnation: number;
  readonly meta: Readonly<Record<string, string>>;
}

/** What a monitor callback receives. */
export type DownEvent = Down;

/** A monitor set up with `node.monitor`; pass it to `node.demonitor` to cancel. */
export interface MonitorHandle {
  readonly ref: string;
}

/** The events of a node. Cluster events (`nodeUp`, `nodeDown`, `suspect`) come with clustering. */
export interface NodeEvents {
  nodeUp: { readonly node: NodeId };
  nodeDown: { readonly node: NodeId; readonly reason: 'left' | 'failed' };
  suspect: { readonly node: NodeId };
  /** A process of this node started. */
  processStart: { readonly pid: Pid; readonly name: string | undefined };
  /** A process of this node ended. */
  processExit: { readonly pid: Pid; readonly exit: Exit };
  /** A cast or message was not delivered (no such process, or it failed validation). */
  messageDropped: { readonly target: Pid | string; readonly kind: 'call' | 'cast' | 'info'; readonly why: string };
  /** The node has stopped. */
  stopped: { readonly node: NodeId };
}

/** The behaviors a node can spawn by name. */
export interface BehaviorsApi {
  /**
   * Registers a behavior under a name. Only registered behaviors can be spawned by name (and,
   * with clustering, from other nodes).
   * @throws CohortError `INVALID_ARGUMENT`, `NAME_TAKEN`.
   */
  register(name: string, behavior: AnyBehavior): void;
  /** Removes a registration. */
  unregister(name: string): boolean;
  /** The registered names. */
  names(): string[];
}

/**
 * A cohort node.
 *
 * @example
 * const node = await Node.start({ name: 'app1' });
 * const ref = await node.spawn(counter, 0, { name: 'c1' });
 * node.cast(ref, { type: 'inc', by: 2 });
 * await node.call(ref, { type: 'get' }); // 2
 * await node.stop();
 */
export class Node {
  /** This node's id, `name@host:port`. */
  readonly id: NodeId;
  /** New at every start: pids of an earlier run never reach processes of this one. */
  readonly incarnation: number;
  /** The behaviors this node can spawn by name. */
  readonly behaviors: BehaviorsApi;
  readonly clock: Clock;
  readonly logger: Logger;

  readonly #runtime: ProcessRuntime;
  readonly #events: Emitter<NodeEvents>;
  readonly #meta: Readonly<Record<string, string>>;
  readonly #callTimeoutMs: number;
  readonly #shutdownTimeoutMs: number;
  #stopping: Promise<void> | undefined;

  private constructor(options: Required<Omit<NodeOptions, 'meta'>> & { meta: Record<string, string> }) {
    this.clock = options.clock;
    this.id = `${options.name}@${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    this.incarnation = Math.floor(this.clock.wallTime()) * 1000 + randomInt(1000);
    this.logger = childLogger(options.logger, { node: this.id });
    this.#meta = Object.freeze({ ...options.meta });
    this.#callTimeoutMs = options.callTimeoutMs;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs;
    this.#events = new Emitter<NodeEvents>((error, type) => this.logger.warn('node event listener threw', { type, error: String(error) }));
    this.#runtime = new ProcessRuntime({ node: this.id, incarnation: this.incarnation, clock: this.clock, logger: this.logger });
    const registry = this.#runtime.behaviors;
    this.behaviors = {
      register: (name, behavior) => registry.register(name, behavior),
      unregister: (name) => registry.unregister(name),
      names: () => registry.names(),
    };
    this.#runtime.events.on('spawn', (e) => this.#events.emit('processStart', e));
    this.#runtime.events.on('exit', (e) => this.#events.emit('processExit', e));
    this.#runtime.events.on('dropped', (e) => this.#events.emit('messageDropped', { target: e.pid, kind: e.kind, why: e.why }));
  }

  /**
   * Starts a node.
   *
   * @throws CohortError `INVALID_OPTION` naming the option and what was expected.
   */
  static async start(options: NodeOptions = {}): Promise<Node> {
    return new Node(normalizeOptions(options));
  }

  /** The members of the cluster, this node included. Without clustering, just this node. */
  members(): Member[] {
    return [{ id: this.id, status: this.stopped ? 'left' : 'alive', incarnation: this.incarnation, meta: this.#meta }];
  }

  /** Whether `stop()` has been called. */
  get stopped(): boolean {
    return this.#stopping !== undefined;
  }

  /** Subscribes to a node event; returns the unsubscribe function. */
  on<K extends keyof NodeEvents & string>(type: K, fn: (event: NodeEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, fn);
  }

  /** Subscribes to the next event of a type only. */
  once<K extends keyof NodeEvents & string>(type: K, fn: (event: NodeEvents[K]) => void): Unsubscribe {
    return this.#events.once(type, fn);
  }

  // --- processes -----------------------------------------------------------------------------

  /**
   * Starts a process running `behavior` (an object, or the name of a registered behavior) and waits
   * for its `init`.
   *
   * @returns a ref typed by the behavior
   * @throws CohortError `UNKNOWN_BEHAVIOR`, `BAD_REQUEST` (args fail the schema), `INIT_FAILED`,
   *   `NAME_TAKEN`, `TIMEOUT` (init slower than `timeoutMs`), `NODE_STOPPED`.
   * @example const ref = await node.spawn(counter, 0, { name: 'c1' });
   */
  spawn<B extends AnyBehavior>(behavior: B, args: ArgsOf<B>, options?: SpawnOptions): Promise<ProcessRef<B>>;
  spawn(behavior: string, args?: unknown, options?: SpawnOptions): Promise<ProcessRef>;
  async spawn(behavior: AnyBehavior | string, args?: unknown, options: SpawnOptions = {}): Promise<ProcessRef> {
    if (typeof behavior !== 'string') assertBehavior(behavior, 'spawn: the behavior');
    return this.#runtime.spawn(behavior, args, options);
  }

  /**
   * Calls a process and waits for its reply.
   *
   * Outcomes: the reply; the process answered with an error (e.g. `BAD_REQUEST` when the message
   * fails its schema); or the call failed: `PROCESS_EXITED` (it ended before replying), `NOPROC` (no
   * such process), `NOCONNECTION` (its node is not reachable), `TIMEOUT` (no reply within
   * `timeoutMs`; the work may or may not have happened).
   *
   * @example const n = await node.call(ref, { type: 'get' }, { timeoutMs: 1000 });
   */
  call<B>(target: ProcessRef<B> | string, message: CallOf<B>, options: CallOptions = {}): Promise<ReplyOf<B>> {
    const timeoutMs = options.timeoutMs ?? this.#callTimeoutMs;
    return this.#runtime.call(target, message, { timeoutMs }) as Promise<ReplyOf<B>>;
  }

  /**
   * Sends a cast. Never throws: a cast to a process that is gone is dropped and reported as a
   * `messageDropped` event.
   */
  cast<B>(target: ProcessRef<B> | string, message: CastOf<B>): void {
    this.#runtime.cast(target, message);
  }

  /** Sends a message to a process's `handleInfo`; dropped (and reported) if the process is gone. */
  send(target: Pid | string, message: unknown): void {
    this.#runtime.send(target, message);
  }

  /**
   * Stops a process: it finishes its current message, runs `terminate`, and ends; killed after
   * `timeoutMs` (default 5000).
   * @throws CohortError `NOPROC`.
   */
  stopProcess(target: Pid | string, reason: ExitReason = 'normal', timeoutMs?: number): Promise<void> {
    return this.#runtime.stop(target, reason, timeoutMs);
  }

  /** Whether a process (by ref or local name) is alive on this node. */
  isAlive(target: Pid | string): boolean {
    return this.#runtime.isAlive(target);
  }

  /** How many processes run on this node. */
  processCount(): number {
    return this.#runtime.size;
  }

  /**
   * Monitors a process: `fn` is called once when it ends, with `{ ref, pid, reason, message? }`, or
   * at once with `noproc` if it is not alive.
   *
   * @example const m = node.monitor(ref, (down) => console.log(down.reason));
   */
  monitor(target: Pid | string, fn: (down: DownEvent) => void): MonitorHandle {
    if (typeof fn !== 'function') throw new CohortError('INVALID_ARGUMENT', `monitor needs a callback function, got ${describe(fn)}`);
    return { ref: this.#runtime.monitor(target, { kind: 'callback', fn }) };
  }

  /** Cancels a monitor. Returns whether it was still active. */
  demonitor(handle: MonitorHandle): boolean {
    return this.#runtime.demonitor(handle.ref);
  }

  // --- local names ---------------------------------------------------------------------------

  /** Registers a local name for a process. @throws `NAME_TAKEN`, `NOPROC`, `INVALID_ARGUMENT`. */
  register(name: string, ref: Pid): void {
    this.#runtime.register(name, ref);
  }

  /** Removes a local name. */
  unregister(name: string): boolean {
    return this.#runtime.unregister(name);
  }

  /** The pid registered under a local name, if any. */
  whereis(name: string): Pid | undefined {
    return this.#runtime.whereis(name);
  }

  /** Every local name. */
  registered(): string[] {
    return this.#runtime.registered();
  }

  // --- supervision ---------------------------------------------------------------------------

  /**
   * Starts a supervisor with its children.
   *
   * @throws CohortError `INVALID_OPTION` (bad spec), `INIT_FAILED` (a child failed to start).
   * @example
   * const sup = await node.supervise({
   *   strategy: 'one_for_one', maxRestarts: 3, withinMs: 5000,
   *   children: [{ id: 'counter', behavior: counter, args: 0 }],
   * });
   */
  supervise(spec: SupervisorSpec, options: { name?: string } = {}): Promise<Supervisor> {
    return Supervisor.start(this.#runtime, spec, options);
  }

  /** Starts a dynamic supervisor, to which children are added with `startChild`. */
  dynamicSupervisor(options: DynamicSupervisorOptions = {}, spawn: { name?: string } = {}): Promise<DynamicSupervisor> {
    return DynamicSupervisor.start(this.#runtime, options, spawn);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /**
   * Stops the node: every top-level process (supervisors first stop their children) in reverse
   * start order, then any left; calls still waiting fail with `NODE_STOPPED`. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#runtime.close(this.#shutdownTimeoutMs);
      this.#events.emit('stopped', { node: this.id });
      this.#events.clear();
    })();
    return this.#stopping;
  }
}

function normalizeOptions(options: NodeOptions): Required<Omit<NodeOptions, 'meta'>> & { meta: Record<string, string> } {
  if (typeof options !== 'object' || options === null) {
    throw new CohortError('INVALID_OPTION', `Node.start options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key as keyof NodeOptions)) {
      throw new CohortError('INVALID_OPTION', `unknown option '${key}'; known options: ${OPTION_KEYS.join(', ')}`, {
        details: { option: key },
      });
    }
  }
  const option = <T>(key: keyof NodeOptions, check: () => T): T => {
    try {
      return check();
    } catch (cause) {
      throw new CohortError('INVALID_OPTION', `invalid option '${key}': ${(cause as Error).message}`, {
        cause,
        details: { option: key },
      });
    }
  };
  const positive = (key: 'callTimeoutMs' | 'shutdownTimeoutMs') =>
    option(key, () => {
      const v = options[key] ?? NODE_DEFAULTS[key];
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`expected a positive number of milliseconds, got ${describe(v)}`);
      return v;
    });
  const meta = option('meta', () => {
    const m = options.meta ?? {};
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error(`expected an object of strings, got ${describe(m)}`);
    for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') throw new Error(`meta.${k} must be a string, got ${describe(v)}`);
    return { ...m };
  });
  const clock = option('clock', () => {
    const c = options.clock ?? systemClock;
    if (typeof c?.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.setInterval !== 'function' || typeof c.wallTime !== 'function') {
      throw new Error('expected a Clock with now, wallTime, setTimeout and setInterval');
    }
    return c;
  });
  const logger = option('logger', () => {
    const l = options.logger ?? silentLogger;
    for (const m of ['debug', 'info', 'warn', 'error'] as const) {
      if (typeof l?.[m] !== 'function') throw new Error(`expected a logger with debug, info, warn and error functions (missing ${m})`);
    }
    return l;
  });
  return {
    name: option('name', () => validateNodeName(options.name ?? NODE_DEFAULTS.name)),
    host: option('host', () => validateHost(options.host ?? NODE_DEFAULTS.host)),
    port: option('port', () => validatePort(options.port ?? NODE_DEFAULTS.port, true)),
    meta,
    clock,
    logger,
    callTimeoutMs: positive('callTimeoutMs'),
    shutdownTimeoutMs: positive('shutdownTimeoutMs'),
  };
}
