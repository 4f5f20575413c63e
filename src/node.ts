/**
 * `Node`: one cohort node, the object users hold. It wires the layers together and is the only
 * place that does.
 *
 * A node listens for links from other nodes, joins the cluster through its seeds and discovery,
 * and keeps SWIM membership; it runs processes, supervisors and local names, and reaches the
 * processes of every other node the same way as its own. Every node owns all of its state: many
 * nodes can run in one Node.js process without sharing anything.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from './core/clock.js';
import { CohortError, describe } from './core/errors.js';
import { Emitter, type Unsubscribe } from './core/events.js';
import type { NodeId, Pid } from './core/ids.js';
import { childLogger, type Logger } from './core/logger.js';
import { Cluster } from './cluster/cluster.js';
import { secretKeys } from './transport/handshake.js';
import { resolveNodeOptions, type NodeOptions, type ResolvedNodeOptions } from './node-options.js';

export { NODE_DEFAULTS, type NodeOptions } from './node-options.js';
import type { AnyBehavior, ArgsOf, CallOf, CallOptions, CastOf, ReplyOf, SpawnOptions } from './process/behavior.js';
import { assertBehavior } from './process/behaviors.js';
import type { SupervisorSpec } from './process/child-spec.js';
import { DynamicSupervisor, type DynamicSupervisorOptions } from './process/dynamic-supervisor.js';
import { ProcessRuntime, RUNTIME_DEFAULTS, type Down } from './process/runtime.js';
import { checkTimeout } from './process/process-errors.js';
import { RemoteProcesses } from './remote/remote.js';
import { Groups } from './services/groups/groups.js';
import type { ClusterPort, PeerEvent, ProcessPort } from './services/ports.js';
import { Registry } from './services/registry/registry.js';
import { AlgorithmRegistry } from './services/balancer/algorithms/index.js';
import type { Balancer, BalancerOptions } from './services/balancer/balancer.js';
import { Rpc } from './services/rpc/rpc.js';
import { DistributedSupervisor, type DistributedHost, type DistributedSupervisorOptions } from './services/distributed/supervisor.js';
import { DSUP_MESSAGE, parseDsupMessage, type DsupMessage } from './services/distributed/tables.js';
import { channel } from './services/ports.js';
import type { Handlers, ServiceTarget } from './services/rpc/types.js';
import { Supervisor } from './process/supervisor.js';
import type { Exit, ExitReason, ProcessRef } from './process/types.js';


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

/** The events of a node: cluster membership changes and the life of its processes. */
export interface NodeEvents {
  nodeUp: { readonly node: NodeId };
  nodeDown: { readonly node: NodeId; readonly reason: 'left' | 'failed' };
  suspect: { readonly node: NodeId };
  /** A suspected node refuted the suspicion: it is alive. */
  alive: { readonly node: NodeId };
  /** A process of this node started. */
  processStart: { readonly pid: Pid; readonly name: string | undefined };
  /** A process of this node ended. */
  processExit: { readonly pid: Pid; readonly exit: Exit };
  /**
   * A cast or message was not delivered: no such process, it failed validation, or its node was
   * not reachable when it was sent.
   */
  messageDropped: { readonly target: Pid | string; readonly kind: 'call' | 'cast' | 'info'; readonly why: string };
  /**
   * Messages queued for a node were never written (casts, messages, and cluster traffic alike):
   * its link broke, and calls among them fail with `NOCONNECTION` on their own; or they were
   * queued before the link was up and turned out larger than that node's `maxFrameBytes`, and
   * calls among them fail with `TIMEOUT`.
   */
  undelivered: { readonly node: NodeId; readonly count: number };
  /** The node has stopped. */
  stopped: { readonly node: NodeId };
}

/** Options of `node.spawn`. */
export interface NodeSpawnOptions extends SpawnOptions {
  /**
   * Registers `name` in the cluster-wide registry (`node.registry`) instead of as a local name;
   * spawn fails with `NAME_TAKEN` (and the new process is stopped again) when it is taken.
   * @default false
   */
  global?: boolean;
  /**
   * The node to start the process on (default: this node). Another node can start only behaviors
   * registered there by name, with args that survive the codec.
   */
  on?: NodeId;
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
  /**
   * Cluster-wide names: replicated to every node, read from a local table.
   * @example await node.registry.register('leader', ref); node.registry.whereis('leader');
   */
  readonly registry: Registry;
  /**
   * Process groups (pg semantics): replicated to every node, read from a local table.
   * @example node.groups.join('workers', ref); node.groups.broadcast('workers', { type: 'tick' });
   */
  readonly groups: Groups;
  /**
   * Services: `expose` handlers under a name on this node, `call`/`cast` them on a chosen node,
   * `callAny`/`castAny` a random provider; the replicated provider table (`providers`,
   * `services`, `watch`). See also {@link Node.balancer}.
   */
  readonly rpc: Rpc;
  /** The selection algorithms balancers of this node may name: built-ins, and `register`ed ones. */
  readonly algorithms: AlgorithmRegistry;
  readonly clock: Clock;
  readonly logger: Logger;

  readonly #runtime: ProcessRuntime;
  readonly #cluster: Cluster;
  readonly #remote: RemoteProcesses;
  readonly #events: Emitter<NodeEvents>;
  readonly #callTimeoutMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #distributed = new Map<string, DistributedSupervisor>();
  readonly #dsupHost: DistributedHost;
  #stopping: Promise<void> | undefined;

  private constructor(options: ResolvedNodeOptions, cluster: Cluster, incarnation: number) {
    this.clock = options.clock;
    this.id = cluster.id;
    this.incarnation = incarnation;
    this.#cluster = cluster;
    this.logger = childLogger(options.logger, { node: this.id });
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
    this.#remote = new RemoteProcesses({
      cluster,
      runtime: this.#runtime,
      clock: this.clock,
      logger: this.logger,
      whereis: (name) => this.registry.whereis(name),
      registerGlobal: (name, pid) => this.registry.register(name, pid),
      onUndelivered: (node, count) => this.#events.emit('undelivered', { node, count }),
    });
    this.#runtime.route(this.#remote);
    const clusterPort = portOf(cluster, this.clock, this.logger);
    const processPort: ProcessPort = {
      isAlive: (pid) => this.#runtime.isAlive(pid),
      onExit: (fn) => this.#runtime.events.on('exit', (e) => fn(e.pid, e.exit)),
      exit: (pid, reason, message) => this.#runtime.kill(pid, reason, message),
    };
    this.registry = new Registry({ cluster: clusterPort, processes: processPort });
    this.groups = new Groups({ cluster: clusterPort, processes: processPort, send: (pid, message) => this.#runtime.send(pid, message) });
    this.algorithms = new AlgorithmRegistry();
    this.rpc = new Rpc({
      cluster: clusterPort,
      callTimeoutMs: options.callTimeoutMs,
      drainTimeoutMs: options.drainTimeoutMs,
      algorithms: this.algorithms,
      random: options.random,
    });
    const dsupChannel = channel<DsupMessage>(clusterPort, DSUP_MESSAGE, this.logger, 'distributed supervisor');
    this.#dsupHost = {
      self: this.id,
      clock: this.clock,
      logger: this.logger,
      rpc: this.rpc,
      channel: dsupChannel,
      peers: () => clusterPort.peers(),
      onPeer: (fn) => clusterPort.onPeer(fn),
      spawn: (behavior, args) => this.#runtime.spawn(behavior, args),
      stop: (pid, reason) => this.#runtime.stop(pid, reason),
      monitor: (pid, fn) => {
        const ref = this.#runtime.monitor(pid, { kind: 'callback', fn: (down) => fn(down.reason) });
        return () => void this.#runtime.demonitor(ref);
      },
      call: (ref, message, timeoutMs) => this.#runtime.call(ref, message, { timeoutMs: timeoutMs ?? this.#callTimeoutMs }),
      cast: (ref, message) => this.#runtime.cast(ref, message),
      send: (ref, message) => this.#runtime.send(ref, message),
    };
    clusterPort.handle(DSUP_MESSAGE, (from, body) => {
      const m = parseDsupMessage(body, from);
      if (typeof m === 'string') {
        this.logger.warn('ignored a malformed distributed supervisor message', { from, problem: m });
        return;
      }
      const sup = this.#distributed.get(m.sup);
      if (sup !== undefined) sup.receive(from, m);
      // Not a member: say so, so that a new member does not wait for this node.
      else if (m.type === 'hello') dsupChannel.send(from, { sup: m.sup, type: 'running', entries: [] });
    });
    this.#runtime.events.on('spawn', (e) => this.#events.emit('processStart', e));
    this.#runtime.events.on('exit', (e) => this.#events.emit('processExit', e));
    this.#runtime.events.on('dropped', (e) => this.#events.emit('messageDropped', { target: e.pid, kind: e.kind, why: e.why }));
    cluster.events.on('nodeUp', (e) => this.#events.emit('nodeUp', { node: e.node }));
    cluster.events.on('nodeDown', (e) => this.#events.emit('nodeDown', { node: e.node, reason: e.reason }));
    cluster.events.on('suspect', (e) => this.#events.emit('suspect', { node: e.node }));
    cluster.events.on('alive', (e) => this.#events.emit('alive', { node: e.node }));
  }

  /**
   * Starts a node.
   *
   * @throws CohortError `INVALID_OPTION` naming the option and what was expected.
   */
  static async start(options: NodeOptions = {}): Promise<Node> {
    const o = resolveNodeOptions(options);
    // Above every earlier run of the same node id: pids and membership records of older runs lose.
    const incarnation = Math.floor(o.clock.wallTime()) * 1000 + randomInt(1000);
    const cluster = await Cluster.start({
      name: o.name,
      host: o.host,
      port: o.port,
      advertiseHost: o.advertiseHost,
      instance: incarnation.toString(36),
      incarnation,
      meta: o.meta,
      streams: o.transport,
      keys: o.secret === undefined ? undefined : secretKeys(o.secret),
      encrypt: o.encryption,
      codec: o.codec,
      maxFrameBytes: o.maxFrameBytes,
      maxQueueBytes: o.maxQueueBytes,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      connectTimeoutMs: o.connectTimeoutMs,
      discovery: o.discovery,
      discoveryIntervalMs: o.discoveryIntervalMs,
      membership: o.membership,
      clock: o.clock,
      random: o.random,
      logger: o.logger,
    });
    return new Node(o, cluster, incarnation);
  }

  /** The members of the cluster, this node first: `{ id, status, incarnation, meta }`. */
  members(): Member[] {
    return this.#cluster.members().map((m) => ({ id: m.id, status: m.status, incarnation: m.incarnation, meta: m.meta }));
  }

  /** Updates this node's meta; other nodes see it through membership. */
  updateMeta(meta: Record<string, string>): void {
    this.#cluster.updateMeta(meta);
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
   * for its `init`, here or on the node given as `on` (which runs only behaviors registered there
   * by name: no code travels).
   *
   * @returns a ref typed by the behavior
   * @throws CohortError `UNKNOWN_BEHAVIOR`, `BAD_REQUEST` (args fail the schema), `INIT_FAILED`,
   *   `NAME_TAKEN`, `TIMEOUT` (init slower than `timeoutMs`; a process started after it is stopped
   *   again), `NOCONNECTION` (the node `on` is not reachable), `NODE_STOPPED`.
   * @example
   * const ref = await node.spawn(counter, 0, { name: 'c1' });
   * const far = await node.spawn('counter', 0, { on: 'app2@10.0.0.2:4369' });
   */
  spawn<B extends AnyBehavior>(behavior: B, args: ArgsOf<B>, options?: NodeSpawnOptions): Promise<ProcessRef<B>>;
  /** By registered name, typed when the behavior's type is named: `node.spawn<typeof room>('room', 'lobby', { on })`. */
  spawn<B extends AnyBehavior = never>(behavior: string, args: [B] extends [never] ? never : ArgsOf<B>, options?: NodeSpawnOptions): Promise<ProcessRef<B>>;
  spawn(behavior: string, args?: unknown, options?: NodeSpawnOptions): Promise<ProcessRef>;
  async spawn(behavior: AnyBehavior | string, args?: unknown, options: NodeSpawnOptions = {}): Promise<ProcessRef> {
    const { on, global, ...local } = options;
    if (on === undefined || on === this.id) {
      if (typeof behavior !== 'string') assertBehavior(behavior, 'spawn: the behavior');
      if (global !== true || local.name === undefined) return this.#runtime.spawn(behavior, args, local);
      const { name, ...rest } = local;
      const pid = await this.#runtime.spawn(behavior, args, rest);
      try {
        await this.registry.register(name, pid);
      } catch (error) {
        await this.#runtime.stop(pid, 'shutdown').catch(() => {});
        throw error;
      }
      return pid;
    }
    if (typeof behavior !== 'string') {
      throw new CohortError('INVALID_ARGUMENT', `spawn on ${on}: pass the name of a behavior registered on that node, not a behavior object (no code travels between nodes)`);
    }
    if (local.link !== undefined && (local.link.node !== this.id || !this.#runtime.isAlive(local.link))) {
      throw new CohortError('INVALID_ARGUMENT', `spawn on ${on}: 'link' must be a live process of this node`);
    }
    const timeoutMs = checkTimeout(local.timeoutMs, RUNTIME_DEFAULTS.initTimeoutMs, 'spawn timeoutMs');
    return this.#remote.spawn(on, behavior, args, { ...local, global: global === true, timeoutMs });
  }

  /**
   * Calls a process, on this node or another, by ref or by name (local first, then global), and
   * waits for its reply.
   *
   * Outcomes: the reply; the callee threw (`REMOTE_ERROR` with the thrown error's name, message and
   * code when it runs on another node; `PROCESS_EXITED` with the error as `cause` here); or the call
   * failed: `BAD_REQUEST` (the message fails the schema), `PROCESS_EXITED` (it ended before
   * replying), `NOPROC` (no such process), `NOCONNECTION` (its node is not reachable, or went down
   * while the call waited), `TIMEOUT` (no reply within `timeoutMs`). After `TIMEOUT` or
   * `NOCONNECTION` the work may or may not have happened. The deadline travels with the call: the
   * callee skips a call whose caller has given up.
   *
   * @example const n = await node.call(ref, { type: 'get' }, { timeoutMs: 1000 });
   */
  call<B>(target: ProcessRef<B> | string, message: CallOf<B>, options: CallOptions = {}): Promise<ReplyOf<B>> {
    const timeoutMs = options.timeoutMs ?? this.#callTimeoutMs;
    return this.#runtime.call(target, message, { timeoutMs }) as Promise<ReplyOf<B>>;
  }

  /**
   * Sends a cast. Never throws: a cast to a process that is gone, or to a node that is not
   * reachable, is dropped and reported as a `messageDropped` event; casts lost with a broken link,
   * or too large for the other node's `maxFrameBytes`, are counted in an `undelivered` event.
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

  // --- services -------------------------------------------------------------------------------

  /**
   * A balancer of a service: calls go to a provider chosen by `algorithm` (default
   * `round-robin`), with in-flight tracking, failover to another provider on a retryable failure,
   * a circuit breaker per provider and a bounded wait while there is none.
   *
   * @throws CohortError `INVALID_OPTION` (an unknown algorithm name lists the known ones).
   * @example
   * const math = node.balancer(mathRef, { algorithm: 'power-of-two', filter: /^worker/ });
   * await math.call('add', [1, 2], { timeoutMs: 2000 }); // 3
   */
  balancer<H extends Handlers>(service: ServiceTarget<H>, options: BalancerOptions = {}): Balancer<H> {
    return this.rpc.balancer(service, options);
  }

  /**
   * Joins (or starts) the distributed supervisor `name`: its members are the nodes that call this
   * with the same name; its children are placed on a hash ring of the members and restarted on
   * survivors when a member dies. One per name per node.
   *
   * @throws CohortError `INVALID_ARGUMENT` (a bad name, or one already started here),
   *   `INVALID_OPTION`, `NODE_STOPPED`.
   * @example
   * const sessions = await node.distributedSupervisor('sessions');
   * await sessions.startChild({ id: 'user:42', behavior: 'session', args: { user: 42 } });
   * await sessions.call('user:42', { type: 'get' });
   */
  async distributedSupervisor(name: string, options: DistributedSupervisorOptions = {}): Promise<DistributedSupervisor> {
    if (this.#stopping !== undefined) throw new CohortError('NODE_STOPPED', `node ${this.id} is stopped`);
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw new CohortError('INVALID_ARGUMENT', `distributedSupervisor: the name must be a string of 1-200 characters, got ${describe(name)}`);
    }
    if (this.#distributed.get(name)?.stopped === false) throw new CohortError('INVALID_ARGUMENT', `distributed supervisor '${name}' is already started on ${this.id}`);
    const sup = new DistributedSupervisor(this.#dsupHost, name, options);
    this.#distributed.set(name, sup);
    return sup;
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /**
   * Stops the node: every top-level process (supervisors first stop their children) in reverse
   * start order, then any left; calls still waiting fail with `NODE_STOPPED`. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      // Hand distributed children over to the other members, then withdraw every exposed service
      // everywhere and let the calls it runs finish (drainTimeoutMs).
      await Promise.all([...this.#distributed.values()].map((d) => d.stop()));
      await this.rpc.drain();
      // Leave first, so the cluster sees this node gone at once rather than after a timeout.
      await this.#cluster.stop();
      this.rpc.close();
      this.#remote.close();
      this.registry.close();
      this.groups.close();
      await this.#runtime.close(this.#shutdownTimeoutMs);
      this.#events.emit('stopped', { node: this.id });
      this.#events.clear();
    })();
    return this.#stopping;
  }
}

/** The cluster as the services see it: peers come up on `nodeUp` and on a re-established link. */
function portOf(cluster: Cluster, clock: Clock, logger: Logger): ClusterPort {
  return {
    id: cluster.id,
    clock,
    logger,
    send: (to, type, body, lane, listener) => cluster.send(to, type, body, lane, listener),
    handle: (type, fn) => cluster.handle(type, fn),
    peers: () => cluster.members().filter((m) => m.id !== cluster.id && cluster.isUp(m.id)).map((m) => m.id),
    onPeer: (fn: (event: PeerEvent) => void) => {
      const offs = [
        cluster.events.on('nodeUp', ({ node }) => fn({ type: 'up', node })),
        cluster.events.on('linkUp', ({ node }) => {
          if (cluster.isUp(node)) fn({ type: 'up', node });
        }),
        cluster.events.on('nodeDown', ({ node }) => fn({ type: 'down', node })),
        cluster.events.on('linkDown', ({ node }) => fn({ type: 'lost', node })),
      ];
      return () => {
        for (const off of offs) off();
      };
    },
  };
}
