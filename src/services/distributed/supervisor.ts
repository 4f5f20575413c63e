/**
 * A distributed supervisor: children placed across the cluster on a consistent hash ring of the
 * members (the nodes running a supervisor of the same name), restarted on survivors when a node
 * dies (DESIGN decision 10).
 *
 * How it works:
 * - Membership: each member exposes the internal service `$dsup:<name>`, so the replicated
 *   provider table says who the members are, on every node, and drops a member that goes down.
 * - Child specs are replicated to every member (`tables.ts`: last writer wins, tombstones for
 *   terminated children), so they survive the node that started them. Each member also announces
 *   the children it runs.
 * - Every member runs the same reconciliation on the same data: a live spec that runs nowhere is
 *   started by its placement — its pinned node if that is a member, else the ring owner of the
 *   child's own id among the members; a child that runs on several members (a partition healed,
 *   or views disagreed for a moment) keeps the instance on its placement, else the one on the
 *   lowest node id, and the others are stopped. So once membership agrees, exactly one instance of
 *   each child runs.
 * - `rebalance: 'passive'` (default) leaves running children where they are when a member joins;
 *   `'active'` moves the children whose placement changed, and only those: the old instance's
 *   state is exported with `handoff` (if given) and sent to the new instance as its first message,
 *   `{ type: 'handoff', id, state }`, before any other.
 * - Restart types: `permanent` children are restarted whatever their exit; `transient` ones only
 *   after an abnormal exit; `temporary` ones never (their spec is removed when they exit). Restart
 *   intensity applies per supervisor and per node: past `maxRestarts` within `withinMs` the local
 *   member gives up — it leaves, stops its children (the others restart them) and reports
 *   `maxRestarts`.
 * - Strategy: `one_for_one` only. `one_for_all` across machines would stop healthy children on
 *   other nodes for one failure; it is not offered.
 *
 * Not here: the children's own supervision trees (a child may be a supervisor), and an ordering
 * of restarts across nodes.
 */
import type { Clock } from '../../core/clock.js';
import { CohortError, describe } from '../../core/errors.js';
import { Emitter, type Unsubscribe } from '../../core/events.js';
import type { NodeId, Pid } from '../../core/ids.js';
import { childLogger, type Logger } from '../../core/logger.js';
import type { AnyBehavior, CallOf, CastOf, ReplyOf } from '../../process/behavior.js';
import type { ExitReason, ProcessRef } from '../../process/types.js';
import { RestartIntensity } from '../../process/restart-intensity.js';
import type { Channel, PeerEvent } from '../ports.js';
import { HashRing } from '../ring/hash-ring.js';
import type { Rpc } from '../rpc/rpc.js';
import {
  DISTRIBUTED_RESTART,
  isChildId,
  RunningTable,
  SpecTable,
  type DistributedRestart,
  type DsupMessage,
  type SpecEntry,
  type Version,
} from './tables.js';

/** How long a new member waits at most for its peers' answers before it starts children. */
const JOIN_WAIT_MS = 2_000;
/** How long a moving child's old instance waits for the new node to confirm the handoff. */
const HANDOFF_ACK_MS = 3_000;
/** How often an unacknowledged handoff is sent again. */
const HANDOFF_RESEND_MS = 200;

/** Options of `node.distributedSupervisor(name, options)`. */
export interface DistributedSupervisorOptions {
  /** Restarts allowed on one node within `withinMs` before that member gives up. @default 3 */
  readonly maxRestarts?: number;
  /** @default 5000 */
  readonly withinMs?: number;
  /** What a join does to running children: leave them (`passive`) or move those whose owner changed (`active`). @default 'passive' */
  readonly rebalance?: 'passive' | 'active';
  /**
   * With `rebalance: 'active'`, exports a moving child's state on its old node; the result is sent
   * to the new instance as its first message `{ type: 'handoff', id, state }`. It may be async and
   * may call the child (e.g. `node.call(ref, { type: 'export' })`).
   */
  readonly handoff?: (child: { readonly id: string; readonly ref: Pid }) => unknown;
  /** Virtual nodes per member on the ring. @default 128 */
  readonly vnodes?: number;
  /** How long `startChild` waits for the child to run somewhere. @default 5000 */
  readonly startTimeoutMs?: number;
}

/** The defaults of {@link DistributedSupervisorOptions}. */
export const DISTRIBUTED_SUPERVISOR_DEFAULTS = Object.freeze({
  maxRestarts: 3,
  withinMs: 5_000,
  rebalance: 'passive',
  vnodes: 128,
  startTimeoutMs: 5_000,
} as const);

/** A child to start. */
export interface DistributedChildSpec {
  /** Unique in the supervisor; also its key on the ring. */
  readonly id: string;
  /** A behavior registered under this name on every member (`node.behaviors.register`). */
  readonly behavior: string;
  readonly args?: unknown;
  /** @default 'permanent' */
  readonly restart?: DistributedRestart;
}

/** A child as `children()` reports it. */
export interface DistributedChild {
  readonly id: string;
  /** Where it runs, if it runs now. */
  readonly node: NodeId | undefined;
  readonly ref: Pid | undefined;
}

/** What the supervisor reports. */
export interface DistributedSupervisorEvents {
  nodeUp: { readonly node: NodeId };
  nodeDown: { readonly node: NodeId };
  childStarted: { readonly id: string; readonly node: NodeId; readonly ref: Pid };
  childRestarted: { readonly id: string; readonly node: NodeId; readonly ref: Pid };
  childMoved: { readonly id: string; readonly from: NodeId; readonly to: NodeId; readonly ref: Pid };
  childStopped: { readonly id: string; readonly node: NodeId; readonly reason: string };
  maxRestarts: { readonly node: NodeId };
}

/** What the supervisor needs of its node. */
export interface DistributedHost {
  readonly self: NodeId;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rpc: Rpc;
  readonly channel: Channel<DsupMessage>;
  /** The cluster's peers that are up now. */
  peers(): NodeId[];
  /** Peer changes; `up` also after a link to the peer was re-established (what was in flight may be lost). */
  onPeer(fn: (event: PeerEvent) => void): Unsubscribe;
  spawn(behavior: string, args: unknown): Promise<Pid>;
  stop(pid: Pid, reason: ExitReason): Promise<void>;
  monitor(pid: Pid, fn: (reason: ExitReason) => void): () => void;
  call(ref: Pid, message: unknown, timeoutMs?: number): Promise<unknown>;
  cast(ref: Pid, message: unknown): void;
  send(ref: Pid, message: unknown): void;
}

interface LocalChild {
  readonly pid: Pid;
  readonly since: number;
  cancel?: () => void;
  /** Set when this node stops it on purpose: the exit is not a failure. */
  stopping: string | undefined;
  /**
   * The node it moved from, whose instance is on its way out (this one holds its state): until
   * that node reports it gone, this instance is not stopped as a duplicate of it.
   */
  handedOffFrom?: NodeId | undefined;
}

/** A distributed supervisor's member on this node (`node.distributedSupervisor(name)`). */
export class DistributedSupervisor {
  readonly name: string;
  readonly #host: DistributedHost;
  readonly #log: Logger;
  readonly #o: Required<Omit<DistributedSupervisorOptions, 'handoff'>> & Pick<DistributedSupervisorOptions, 'handoff'>;
  readonly #service: string;
  readonly #specs = new SpecTable();
  readonly #running = new RunningTable();
  readonly #local = new Map<string, LocalChild>();
  /** Children being started here (spawn in progress). */
  readonly #starting = new Set<string>();
  /** Children that ran here before and exited: their next start here is a restart. */
  readonly #exited = new Set<string>();
  /** Moves waiting for the new node to confirm it holds the handed-off state. */
  readonly #acks = new Map<string, () => void>();
  /** State handed off by the old node of a child that moves here, until it starts. */
  readonly #handoffs = new Map<string, { readonly state: unknown; readonly from: NodeId }>();
  /** Where each child was last seen running, to report moves. */
  readonly #lastSeen = new Map<string, NodeId>();
  readonly #ring: HashRing;
  readonly #intensity: RestartIntensity;
  readonly #emitter: Emitter<DistributedSupervisorEvents>;
  readonly #unwatch: Unsubscribe;
  readonly #unwatchPeers: Unsubscribe;
  /** Members whose running slice has arrived since they (re)joined: until all have, nothing starts. */
  readonly #heard = new Set<NodeId>();
  /**
   * Peers a new member waits to hear from (each answers `hello` with what it runs, or nothing if
   * it has no such supervisor) before it starts any child: until then it cannot tell an orphan
   * from a child running on a member it has not seen yet.
   */
  readonly #waitingFor: Set<NodeId>;
  #members: NodeId[] = [];
  #counter = 0;
  #scheduled = false;
  #stopped = false;

  /** @internal Use `node.distributedSupervisor(name, options)`. */
  constructor(host: DistributedHost, name: string, options: DistributedSupervisorOptions = {}) {
    this.#host = host;
    this.name = name;
    this.#o = resolveOptions(name, options);
    this.#service = `$dsup:${name}`;
    this.#log = childLogger(host.logger, { supervisor: name });
    this.#ring = new HashRing([], { vnodes: this.#o.vnodes });
    this.#intensity = new RestartIntensity(this.#o.maxRestarts, this.#o.withinMs, host.clock);
    this.#emitter = new Emitter((error, type) => this.#log.warn('a distributed supervisor listener threw', { type, error: String(error) }));
    this.#unwatch = host.rpc.watch(this.#service, (e) => {
      if (e.type === 'added') this.#exchange(e.provider.node);
      if (e.type === 'removed') {
        this.#running.drop(e.provider.node);
        this.#heard.delete(e.provider.node);
      }
      this.#schedule();
    });
    // A link that broke and came back may have lost messages: exchange state again (it is idempotent).
    this.#unwatchPeers = host.onPeer((e) => {
      if (e.type === 'up' && !this.#stopped && this.#members.includes(e.node)) this.#exchange(e.node);
    });
    host.rpc.expose(this.#service, { ping: () => true });
    this.#waitingFor = new Set(host.peers().filter((p) => p !== host.self));
    for (const peer of this.#waitingFor) this.#send(peer, { sup: name, type: 'hello' });
    if (this.#waitingFor.size > 0) {
      // A peer that never answers (it went down meanwhile) does not hold this member back for long.
      host.clock.setTimeout(() => {
        this.#waitingFor.clear();
        this.#schedule();
      }, JOIN_WAIT_MS);
    }
    this.#schedule();
  }

  // -----------------------------------------------------------------------------------------------
  // public API

  /** Listens to member and child changes; returns the unsubscribe function. */
  on<K extends keyof DistributedSupervisorEvents>(type: K, fn: (event: DistributedSupervisorEvents[K]) => void): Unsubscribe {
    return this.#emitter.on(type, fn);
  }

  /** Whether `stop()` has been called (this node left the supervisor). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The members (nodes running this supervisor), sorted. */
  members(): NodeId[] {
    return [...this.#members];
  }

  /**
   * Starts a child on the ring owner of its id (or on `options.node` while that node is a member)
   * and resolves once it runs somewhere, with where.
   *
   * @throws CohortError `ALREADY_STARTED` (a live child has that id), `INVALID_ARGUMENT`,
   *   `TIMEOUT` (not running within `startTimeoutMs`; the spec stays and it may still start),
   *   `NODE_STOPPED`.
   */
  async startChild(spec: DistributedChildSpec, options: { readonly node?: NodeId } = {}): Promise<DistributedChild> {
    this.#open('startChild');
    const checked = checkSpec(spec);
    if (this.#specs.get(checked.id)?.deleted === false) {
      throw new CohortError('ALREADY_STARTED', `distributed supervisor '${this.name}' already has a child '${checked.id}'`, { details: { id: checked.id } });
    }
    this.#write({ ...checked, node: options.node ?? null, deleted: false });
    return this.#waitRunning(checked.id);
  }

  /** Stops a child wherever it runs and forgets its spec. Resolves false when there was none. */
  async terminateChild(id: string): Promise<boolean> {
    this.#open('terminateChild');
    const spec = this.#specs.get(id);
    if (spec === undefined || spec.deleted) return false;
    this.#write({ ...spec, deleted: true });
    const deadline = this.#host.clock.now() + this.#o.startTimeoutMs;
    while (this.#running.runners(id).length > 0 && this.#host.clock.now() < deadline) await this.#tick();
    return true;
  }

  /** Restarts a child where it runs (a new instance with the spec's args). */
  async restartChild(id: string): Promise<DistributedChild> {
    this.#open('restartChild');
    const spec = this.#specs.get(id);
    if (spec === undefined || spec.deleted) throw new CohortError('NOT_FOUND', `distributed supervisor '${this.name}' has no child '${id}'`, { details: { id } });
    const runner = this.#running.runners(id)[0];
    if (runner === undefined) return this.#waitRunning(id);
    await this.#host.stop(runner.pid, 'shutdown').catch(() => {});
    return this.#waitRunning(id, runner.pid);
  }

  /** The node a child belongs on now: its pinned node if a member, else the ring owner. */
  nodeFor(id: string): NodeId | undefined {
    const spec = this.#specs.get(id);
    if (spec?.node != null && this.#members.includes(spec.node)) return spec.node;
    return this.#ring.owner(id);
  }

  /** Whether the child belongs on this node. */
  isLocal(id: string): boolean {
    return this.nodeFor(id) === this.#host.self;
  }

  /**
   * The child's ref, if it runs now (a local read). Name its behavior's type to get a typed ref:
   * `sessions.whereis<typeof session>('user:42')`.
   */
  whereis<B = unknown>(id: string): ProcessRef<B> | undefined {
    return this.#running.runners(id)[0]?.pid;
  }

  /**
   * Calls the child wherever it runs. Name its behavior's type to check the message and type the
   * reply: `await sessions.call<typeof session>('user:42', { type: 'get' })`.
   *
   * @throws CohortError `NOPROC` when it runs nowhere now.
   */
  call<B extends AnyBehavior = never>(id: string, message: CallOf<B>, options?: { readonly timeoutMs?: number }): Promise<ReplyOf<B>>;
  call(id: string, message: unknown, options?: { readonly timeoutMs?: number }): Promise<unknown>;
  call(id: string, message: unknown, options: { readonly timeoutMs?: number } = {}): Promise<unknown> {
    const ref = this.whereis(id);
    if (ref === undefined) return Promise.reject(new CohortError('NOPROC', `child '${id}' of '${this.name}' is not running now`, { details: { id } }));
    return this.#host.call(ref, message, options.timeoutMs);
  }

  /** Casts to the child wherever it runs (typed like `call`). Returns false when it runs nowhere now. */
  cast<B extends AnyBehavior = never>(id: string, message: CastOf<B>): boolean;
  cast(id: string, message: unknown): boolean;
  cast(id: string, message: unknown): boolean {
    const ref = this.whereis(id);
    if (ref === undefined) return false;
    this.#host.cast(ref, message);
    return true;
  }

  /** Every live child with where it runs, sorted by id. */
  children(): DistributedChild[] {
    return this.#specs.live().map((s) => {
      const r = this.#running.runners(s.id)[0];
      return { id: s.id, node: r?.node, ref: r?.pid };
    });
  }

  /** Leaves: other members take over its children; stops the local ones. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    // Temporary children end with their member; the others are taken over.
    for (const id of this.#local.keys()) {
      const spec = this.#specs.get(id);
      if (spec !== undefined && !spec.deleted && spec.restart === 'temporary') this.#write({ ...spec, deleted: true });
    }
    this.#stopped = true;
    await this.#host.rpc.unexpose(this.#service);
    this.#unwatch();
    this.#unwatchPeers();
    const locals = [...this.#local.values()];
    for (const c of locals) c.stopping = 'supervisor stopped';
    await Promise.all(locals.map((c) => this.#host.stop(c.pid, 'shutdown').catch(() => {})));
    this.#local.clear();
    this.#emitter.clear();
  }

  // -----------------------------------------------------------------------------------------------
  // messages

  /** @internal A `dsup` message from another member. */
  receive(from: NodeId, m: DsupMessage): void {
    if (this.#stopped) return;
    switch (m.type) {
      case 'hello':
        this.#sendState(from);
        return;
      case 'specs':
        if (this.#specs.merge(m.entries).length > 0) this.#schedule();
        return;
      case 'running':
        this.#heard.add(from);
        this.#waitingFor.delete(from);
        for (const [id, c] of this.#local) {
          if (c.handedOffFrom === from && !m.entries.some((e) => e.id === id)) c.handedOffFrom = undefined;
        }
        this.#running.replace(from, m.entries);
        this.#schedule();
        return;
      case 'handoff': {
        // An instance may already run here (started before this member heard of the old one):
        // it gets the state now; else the next instance started here gets it first.
        // The sender's instance is on its way out: this one, which now has its state, stays.
        const mine = this.#local.get(m.id);
        if (mine !== undefined && mine.stopping === undefined) {
          this.#host.send(mine.pid, { type: 'handoff', id: m.id, state: m.state });
          mine.handedOffFrom = from;
          this.#running.forget(from, m.id);
          this.#schedule();
        } else this.#handoffs.set(m.id, { state: m.state, from });
        this.#send(from, { sup: this.name, type: 'handoffAck', id: m.id });
        return;
      }
      case 'handoffAck':
        this.#acks.get(m.id)?.();
        return;
    }
  }

  #send(to: NodeId, m: DsupMessage): void {
    if (to !== this.#host.self) this.#host.channel.send(to, m);
  }

  /** Asks `peer` for its state and sends it ours (both idempotent). */
  #exchange(peer: NodeId): void {
    this.#send(peer, { sup: this.name, type: 'hello' });
    this.#sendState(peer);
  }

  #sendState(to: NodeId): void {
    this.#send(to, { sup: this.name, type: 'specs', entries: this.#specs.all() });
    this.#send(to, { sup: this.name, type: 'running', entries: this.#running.slice(this.#host.self) });
  }

  #broadcast(m: DsupMessage): void {
    for (const node of this.#members) this.#send(node, m);
  }

  #write(entry: Omit<SpecEntry, 'v'>): void {
    const now = Math.floor(this.#host.clock.wallTime());
    const v: Version = [now, this.#counter++, this.#host.self];
    const spec: SpecEntry = { ...entry, v };
    this.#specs.merge([spec]);
    this.#broadcast({ sup: this.name, type: 'specs', entries: [spec] });
    this.#schedule();
  }

  #announce(): void {
    const mine = [...this.#local].map(([id, c]) => ({ id, pid: c.pid, since: c.since }));
    this.#running.replace(this.#host.self, mine);
    this.#broadcast({ sup: this.name, type: 'running', entries: mine });
    this.#schedule();
  }

  // -----------------------------------------------------------------------------------------------
  // reconciliation

  #schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (!this.#stopped) this.#reconcile();
    });
  }

  #reconcile(): void {
    const members = this.#host.rpc.providers(this.#service).map((p) => p.node);
    const before = new Set(this.#members);
    this.#members = members;
    for (const n of members) if (!before.has(n)) this.#emitter.emit('nodeUp', { node: n });
    for (const n of before) if (!members.includes(n)) this.#emitter.emit('nodeDown', { node: n });
    this.#ring.setNodes(members);
    const self = this.#host.self;
    // A child that seems to run nowhere may run on a member not heard from yet: wait for it.
    const informed = this.#waitingFor.size === 0 && members.every((n) => n === self || this.#heard.has(n));
    for (const spec of this.#specs.all()) {
      const runners = this.#running.runners(spec.id);
      this.#noteLocation(spec.id, runners);
      const mine = this.#local.get(spec.id);
      if (spec.deleted) {
        if (mine !== undefined) this.#stopLocal(spec.id, mine, 'terminated');
        continue;
      }
      const placement = this.nodeFor(spec.id);
      if (runners.length === 0) {
        if (spec.restart === 'temporary' && this.#lastSeen.has(spec.id) && !this.#starting.has(spec.id)) {
          // It ran and its node went away: a temporary child is not restarted.
          if (placement === self) this.#write({ ...spec, deleted: true });
          continue;
        }
        if (informed && placement === self && mine === undefined && !this.#starting.has(spec.id)) this.#startLocal(spec);
        continue;
      }
      if (mine === undefined) continue;
      if (runners.length > 1) {
        // The oldest instance stays (it has the state); a move then happens by the rules below. An
        // instance that received a handoff stays too: the one it came from is stopping.
        if (runners[0]!.node !== self && mine.handedOffFrom === undefined) this.#stopLocal(spec.id, mine, 'duplicate');
        continue;
      }
      if (this.#o.rebalance === 'active' && placement !== undefined && placement !== self && members.includes(self)) {
        this.#moveLocal(spec.id, mine, placement);
      }
    }
  }

  #noteLocation(id: string, runners: readonly { node: NodeId; pid: Pid }[]): void {
    if (runners.length !== 1) return;
    const now = runners[0]!;
    const last = this.#lastSeen.get(id);
    this.#lastSeen.set(id, now.node);
    if (last !== undefined && last !== now.node && !this.#members.includes(last)) return; // a restart elsewhere, reported by its node
    if (last !== undefined && last !== now.node) this.#emitter.emit('childMoved', { id, from: last, to: now.node, ref: now.pid });
  }

  #startLocal(spec: SpecEntry): void {
    const restart = this.#exited.has(spec.id);
    if (restart && !this.#intensity.record()) {
      this.#log.error('restart intensity exceeded: this member gives up', { maxRestarts: this.#o.maxRestarts, withinMs: this.#o.withinMs });
      this.#emitter.emit('maxRestarts', { node: this.#host.self });
      void this.stop();
      return;
    }
    this.#starting.add(spec.id);
    this.#host.spawn(spec.behavior, spec.args).then(
      (pid) => {
        this.#starting.delete(spec.id);
        const current = this.#specs.get(spec.id);
        if (this.#stopped || current === undefined || current.deleted) {
          void this.#host.stop(pid, 'shutdown').catch(() => {});
          return;
        }
        const handedOff = this.#handoffs.get(spec.id);
        if (handedOff !== undefined) {
          // First in its mailbox: nobody else knows where it runs yet.
          this.#host.send(pid, { type: 'handoff', id: spec.id, state: handedOff.state });
          this.#handoffs.delete(spec.id);
        }
        const child: LocalChild = { pid, since: this.#host.clock.wallTime(), stopping: undefined, handedOffFrom: handedOff?.from };
        child.cancel = this.#host.monitor(pid, (reason) => this.#exitedLocal(spec.id, child, reason));
        this.#local.set(spec.id, child);
        this.#exited.delete(spec.id);
        this.#emitter.emit(restart ? 'childRestarted' : 'childStarted', { id: spec.id, node: this.#host.self, ref: pid });
        this.#announce();
      },
      (error: unknown) => {
        this.#starting.delete(spec.id);
        this.#log.warn('a child failed to start', { id: spec.id, behavior: spec.behavior, error: String(error) });
        // Counts as a restart: a child that cannot start must not spin.
        this.#exited.add(spec.id);
        this.#host.clock.setTimeout(() => this.#schedule(), 100);
      },
    );
  }

  #stopLocal(id: string, child: LocalChild, why: string): void {
    if (child.stopping !== undefined) return;
    child.stopping = why;
    void this.#host.stop(child.pid, 'shutdown').catch(() => {});
  }

  #moveLocal(id: string, child: LocalChild, to: NodeId): void {
    if (child.stopping !== undefined) return;
    child.stopping = 'moved';
    void (async () => {
      let state: unknown;
      if (this.#o.handoff !== undefined) {
        try {
          state = await this.#o.handoff({ id, ref: child.pid });
        } catch (error) {
          this.#log.warn('handoff failed; the child moves without its state', { id, error: String(error) });
        }
      }
      if (this.#o.handoff !== undefined) {
        // Stop the old instance only once the new node holds the state (or after a bound: a move
        // must not hang on a node that went away).
        // A message can be lost with a link that breaks or is replaced (the new node has just
        // joined): the handoff is sent again until acknowledged; receiving it twice is harmless.
        await new Promise<void>((resolve) => {
          const message: DsupMessage = { sup: this.name, type: 'handoff', id, state };
          const resend = this.#host.clock.setInterval(() => this.#send(to, message), HANDOFF_RESEND_MS);
          const timer = this.#host.clock.setTimeout(() => {
            this.#acks.delete(id);
            resend.cancel();
            this.#log.warn('no acknowledgement of a handoff; the child moves anyway', { id, to });
            resolve();
          }, HANDOFF_ACK_MS);
          this.#acks.set(id, () => {
            this.#acks.delete(id);
            timer.cancel();
            resend.cancel();
            resolve();
          });
          this.#send(to, message);
        });
      }
      await this.#host.stop(child.pid, 'shutdown').catch(() => {});
    })();
  }

  #exitedLocal(id: string, child: LocalChild, reason: ExitReason): void {
    if (this.#local.get(id) !== child) return;
    this.#local.delete(id);
    const spec = this.#specs.get(id);
    this.#emitter.emit('childStopped', { id, node: this.#host.self, reason: child.stopping ?? reason });
    if (child.stopping === undefined && spec !== undefined && !spec.deleted) {
      const normal = reason === 'normal' || reason === 'shutdown';
      if (spec.restart === 'temporary' || (spec.restart === 'transient' && normal)) this.#write({ ...spec, deleted: true });
      else this.#exited.add(id);
    }
    this.#announce();
  }

  async #waitRunning(id: string, not?: Pid): Promise<DistributedChild> {
    const deadline = this.#host.clock.now() + this.#o.startTimeoutMs;
    for (;;) {
      const r = this.#running.runners(id).find((x) => not === undefined || x.pid.id !== not.id || x.pid.node !== not.node);
      if (r !== undefined) return { id, node: r.node, ref: r.pid };
      if (this.#host.clock.now() >= deadline) {
        throw new CohortError('TIMEOUT', `child '${id}' of '${this.name}' did not start within ${this.#o.startTimeoutMs} ms; its spec stays and it may still start`, { details: { id } });
      }
      await this.#tick();
    }
  }

  #tick(): Promise<void> {
    // Kept alive: a script awaiting startChild must not exit under it.
    return new Promise((resolve) => this.#host.clock.setTimeout(resolve, 10, { keepAlive: true }));
  }

  #open(op: string): void {
    if (this.#stopped) throw new CohortError('NODE_STOPPED', `${op}: distributed supervisor '${this.name}' is stopped on ${this.#host.self}`);
  }
}

function checkSpec(spec: DistributedChildSpec): Omit<SpecEntry, 'v' | 'node' | 'deleted'> {
  if (typeof spec !== 'object' || spec === null) throw new CohortError('INVALID_ARGUMENT', `startChild: expected a child spec object, got ${describe(spec)}`);
  if (!isChildId(spec.id)) throw new CohortError('INVALID_ARGUMENT', `startChild: id must be a string of 1-255 characters, got ${describe(spec.id)}`);
  if (typeof spec.behavior !== 'string' || spec.behavior.length === 0) {
    throw new CohortError('INVALID_ARGUMENT', `startChild '${spec.id}': behavior must be the name of a behavior registered on every member (node.behaviors.register), got ${describe(spec.behavior)}`);
  }
  const restart = spec.restart ?? 'permanent';
  if (!DISTRIBUTED_RESTART.includes(restart)) throw new CohortError('INVALID_ARGUMENT', `startChild '${spec.id}': restart must be one of ${DISTRIBUTED_RESTART.join(', ')}, got ${describe(restart)}`);
  return { id: spec.id, behavior: spec.behavior, args: spec.args, restart };
}

function resolveOptions(name: string, o: DistributedSupervisorOptions): Required<Omit<DistributedSupervisorOptions, 'handoff'>> & Pick<DistributedSupervisorOptions, 'handoff'> {
  const d = DISTRIBUTED_SUPERVISOR_DEFAULTS;
  const r = {
    maxRestarts: o.maxRestarts ?? d.maxRestarts,
    withinMs: o.withinMs ?? d.withinMs,
    rebalance: o.rebalance ?? d.rebalance,
    vnodes: o.vnodes ?? d.vnodes,
    startTimeoutMs: o.startTimeoutMs ?? d.startTimeoutMs,
    handoff: o.handoff,
  };
  const bad = (what: string, value: unknown) => new CohortError('INVALID_OPTION', `distributed supervisor '${name}': ${what}, got ${describe(value)}`);
  if (!Number.isSafeInteger(r.maxRestarts) || r.maxRestarts < 0) throw bad('maxRestarts must be an integer >= 0', r.maxRestarts);
  if (!(r.withinMs > 0) || !Number.isFinite(r.withinMs)) throw bad('withinMs must be a finite number > 0', r.withinMs);
  if (r.rebalance !== 'passive' && r.rebalance !== 'active') throw bad("rebalance must be 'passive' or 'active'", r.rebalance);
  if (!Number.isSafeInteger(r.vnodes) || r.vnodes < 1) throw bad('vnodes must be an integer >= 1', r.vnodes);
  if (!(r.startTimeoutMs > 0) || !Number.isFinite(r.startTimeoutMs)) throw bad('startTimeoutMs must be a finite number > 0', r.startTimeoutMs);
  if (r.handoff !== undefined && typeof r.handoff !== 'function') throw bad('handoff must be a function', r.handoff);
  return r;
}
