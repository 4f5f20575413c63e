/**
 * A fake in-memory network for the cluster services: N nodes, each with a `ClusterPort`, a fake
 * `ProcessPort`, a `ManualClock` and a recording logger.
 *
 * Messages between two nodes are queued per direction and delivered in order, only when a test
 * calls `flush()` (first sent, first delivered; or in a random interleaving of the per-pair queues
 * when given a random source). Every body is copied with `structuredClone`, as a wire would.
 * Links can be cut (in-flight messages are lost), partitioned (with `down` events), healed or
 * bounced (with `up` events), flapped (one end alone hears `down` then `up`), and nodes killed. Peer events are delivered synchronously, when the
 * test causes them. Nothing here is shared between two networks.
 */
import { ManualClock } from '../../src/core/clock.js';
import { CohortError } from '../../src/core/errors.js';
import type { Unsubscribe } from '../../src/core/events.js';
import { makePid, samePid, type NodeId, type Pid } from '../../src/core/ids.js';
import type { ExitReason, Exit } from '../../src/process/types.js';
import type { ClusterPort, PeerEvent, ProcessPort } from '../../src/services/ports.js';
import { recordingLogger, type LogLine } from '../helpers/logger.js';

/** One process exit as the fake runtime recorded it. */
export interface RecordedExit {
  readonly pid: Pid;
  readonly reason: ExitReason;
  readonly message: string | undefined;
}

/** A fake process runtime: a set of live pids. */
export class FakeProcesses implements ProcessPort {
  readonly #node: NodeId;
  readonly #incarnation: number;
  #nextId = 1;
  readonly #alive = new Map<number, Pid>();
  readonly #listeners = new Set<(pid: Pid, exit: Exit) => void>();
  /** Every exit, in order. */
  readonly exits: RecordedExit[] = [];

  constructor(node: NodeId, incarnation = 1) {
    this.#node = node;
    this.#incarnation = incarnation;
  }

  /** Starts a process and returns its pid. */
  spawn(): Pid {
    const pid = makePid(this.#node, this.#incarnation, this.#nextId++);
    this.#alive.set(pid.id, pid);
    return pid;
  }

  isAlive(pid: Pid): boolean {
    const live = this.#alive.get(pid.id);
    return live !== undefined && samePid(live, pid);
  }

  onExit(fn: (pid: Pid, exit: Exit) => void): Unsubscribe {
    const entry = (pid: Pid, exit: Exit) => fn(pid, exit);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  exit(pid: Pid, reason: ExitReason, message?: string): void {
    if (!this.isAlive(pid)) return;
    this.#alive.delete(pid.id);
    this.exits.push({ pid, reason, message });
    for (const fn of [...this.#listeners]) fn(pid, message === undefined ? { reason } : { reason, message });
  }

  /** The reasons `pid` exited with (empty while it lives). */
  exitsOf(pid: Pid): ExitReason[] {
    return this.exits.filter((e) => samePid(e.pid, pid)).map((e) => e.reason);
  }

  /** Every live pid. */
  alive(): Pid[] {
    return [...this.#alive.values()];
  }
}

interface Queued {
  readonly seq: number;
  readonly type: string;
  readonly body: unknown;
}

/** One node of the fake network. */
export interface FakeNode {
  readonly id: NodeId;
  readonly cluster: ClusterPort;
  readonly processes: FakeProcesses;
  readonly clock: ManualClock;
  readonly logs: LogLine[];
}

interface NodeState {
  readonly node: FakeNode;
  readonly handlers: Map<string, (from: NodeId, body: unknown) => void>;
  readonly peerListeners: Set<(event: PeerEvent) => void>;
  alive: boolean;
}

/** Options of {@link FakeNetwork}. */
export interface FakeNetworkOptions {
  /** The wall time every node's clock starts at. @default 1_700_000_000_000 */
  readonly wallStart?: number;
}

/** N fake nodes and the links between them. */
export class FakeNetwork {
  readonly #wallStart: number;
  readonly #nodes = new Map<NodeId, NodeState>();
  /** Undirected links that are up, keyed by `a|b` with a < b. */
  readonly #links = new Set<string>();
  /** Per-direction queues, keyed by `from>to`. */
  readonly #queues = new Map<string, Queued[]>();
  #seq = 0;
  /** Messages delivered to a node that had no handler for their type. */
  unhandled = 0;

  constructor(options: FakeNetworkOptions = {}) {
    this.#wallStart = options.wallStart ?? 1_700_000_000_000;
  }

  /**
   * Adds a node named `name` (id `name@127.0.0.1:<n>`), linked to every live node; those nodes
   * (and the new one) hear an `up` event.
   */
  add(name: string): FakeNode {
    const id = `${name}@127.0.0.1:${4000 + this.#nodes.size + 1}`;
    const logger = recordingLogger();
    const clock = new ManualClock({ wallStart: this.#wallStart });
    const handlers = new Map<string, (from: NodeId, body: unknown) => void>();
    const peerListeners = new Set<(event: PeerEvent) => void>();
    const cluster: ClusterPort = {
      id,
      clock,
      logger,
      send: (to, type, body) => this.#send(id, to, type, body),
      handle: (type, fn) => {
        if (handlers.has(type)) throw new CohortError('INVALID_ARGUMENT', `a handler for message type '${type}' is already registered`);
        handlers.set(type, fn);
        return () => {
          if (handlers.get(type) === fn) handlers.delete(type);
        };
      },
      peers: () => this.peersOf(id),
      onPeer: (fn) => {
        const entry = (e: PeerEvent) => fn(e);
        peerListeners.add(entry);
        return () => peerListeners.delete(entry);
      },
    };
    const node: FakeNode = { id, cluster, processes: new FakeProcesses(id), clock, logs: logger.lines };
    const others = [...this.#nodes.values()].filter((s) => s.alive).map((s) => s.node.id);
    this.#nodes.set(id, { node, handlers, peerListeners, alive: true });
    for (const other of others) this.link(id, other);
    return node;
  }

  /** The live nodes linked to `id`, sorted. */
  peersOf(id: NodeId): NodeId[] {
    return [...this.#nodes.keys()].filter((other) => other !== id && this.#links.has(linkKey(id, other))).sort();
  }

  /** Brings the link a–b up (if both nodes live) and tells both ends with an `up` event. */
  link(a: NodeId, b: NodeId): void {
    if (!this.#state(a).alive || !this.#state(b).alive || a === b) return;
    this.#links.add(linkKey(a, b));
    this.#peerEvent(a, { type: 'up', node: b });
    this.#peerEvent(b, { type: 'up', node: a });
  }

  /** Cuts the link a–b silently (messages in flight either way are lost; no events). */
  cut(a: NodeId, b: NodeId): void {
    this.#links.delete(linkKey(a, b));
    this.#queues.delete(`${a}>${b}`);
    this.#queues.delete(`${b}>${a}`);
  }

  /** Cuts every link between `side` and the other live nodes; each side hears `down` for the other. */
  partition(side: readonly NodeId[]): void {
    const others = this.liveIds().filter((id) => !side.includes(id));
    for (const a of side) {
      for (const b of others) {
        if (!this.#links.has(linkKey(a, b))) continue;
        this.cut(a, b);
        this.#peerEvent(a, { type: 'down', node: b });
        this.#peerEvent(b, { type: 'down', node: a });
      }
    }
  }

  /** Brings up every missing link between live nodes, with `up` events on both ends. */
  heal(): void {
    const ids = this.liveIds();
    for (const a of ids) for (const b of ids) if (a < b && !this.#links.has(linkKey(a, b))) this.link(a, b);
  }

  /** The link a–b breaks and comes straight back: in-flight messages are lost, both ends hear `up`. */
  bounce(a: NodeId, b: NodeId): void {
    this.cut(a, b);
    this.link(a, b);
  }

  /**
   * Only `at` hears `peer` go down and come back (its failure detector alone timed out); the
   * link stays and nothing in flight is lost. `peer` hears nothing.
   */
  flap(at: NodeId, peer: NodeId): void {
    this.#peerEvent(at, { type: 'down', node: peer });
    this.#peerEvent(at, { type: 'up', node: peer });
  }

  /** Loses the messages queued from `from` to `to` (without telling anyone). */
  drop(from: NodeId, to: NodeId): number {
    const n = this.#queues.get(`${from}>${to}`)?.length ?? 0;
    this.#queues.delete(`${from}>${to}`);
    return n;
  }

  /** The node crashes: its links go, its queued messages are lost, the others hear `down`. */
  kill(id: NodeId): void {
    const state = this.#state(id);
    for (const other of this.peersOf(id)) {
      this.cut(id, other);
      this.#peerEvent(other, { type: 'down', node: id });
    }
    state.alive = false;
  }

  /** Delivers a message to `to` at once, as if `from` had sent it (for hostile input). */
  inject(from: NodeId, to: NodeId, type: string, body: unknown): void {
    this.#deliver(from, to, type, body);
  }

  /** How many messages are queued. */
  pending(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  /**
   * Delivers queued messages (and those they cause) until none is left, or `limit` were delivered.
   * With `random`, each step picks a random non-empty pair queue; otherwise messages go in the
   * order they were sent. Returns how many were delivered.
   *
   * @throws Error when more than `maxSteps` messages would be delivered (a message storm).
   */
  flush(options: { random?: () => number; maxSteps?: number; limit?: number } = {}): number {
    const maxSteps = options.maxSteps ?? 100_000;
    let delivered = 0;
    for (;;) {
      const keys = [...this.#queues.keys()].filter((k) => (this.#queues.get(k)?.length ?? 0) > 0);
      if (keys.length === 0 || delivered === options.limit) return delivered;
      if (++delivered > maxSteps) throw new Error(`fake network: more than ${maxSteps} messages delivered, a storm?`);
      const key =
        options.random === undefined
          ? keys.reduce((best, k) => (this.#queues.get(k)![0]!.seq < this.#queues.get(best)![0]!.seq ? k : best))
          : keys[Math.floor(options.random() * keys.length)]!;
      const queue = this.#queues.get(key)!;
      const message = queue.shift()!;
      if (queue.length === 0) this.#queues.delete(key);
      const [from, to] = key.split('>') as [NodeId, NodeId];
      this.#deliver(from, to, message.type, message.body);
    }
  }

  /** The ids of the live nodes, sorted. */
  liveIds(): NodeId[] {
    return [...this.#nodes.values()].filter((s) => s.alive).map((s) => s.node.id).sort();
  }

  #send(from: NodeId, to: NodeId, type: string, body: unknown): void {
    if (!this.#state(from).alive) throw new CohortError('NODE_STOPPED', `node ${from} is stopped`);
    if (to === from) throw new CohortError('INVALID_ARGUMENT', 'a node does not send cluster messages to itself');
    if (!this.#links.has(linkKey(from, to))) throw new CohortError('NOCONNECTION', `node ${to} is not connected`, { details: { node: to } });
    const key = `${from}>${to}`;
    let queue = this.#queues.get(key);
    if (queue === undefined) this.#queues.set(key, (queue = []));
    queue.push({ seq: this.#seq++, type, body: structuredClone(body) });
  }

  #deliver(from: NodeId, to: NodeId, type: string, body: unknown): void {
    const state = this.#nodes.get(to);
    if (state === undefined || !state.alive) return;
    const handler = state.handlers.get(type);
    if (handler === undefined) {
      this.unhandled++;
      return;
    }
    handler(from, body);
  }

  #peerEvent(at: NodeId, event: PeerEvent): void {
    const state = this.#state(at);
    if (!state.alive) return;
    for (const fn of [...state.peerListeners]) fn(event);
  }

  #state(id: NodeId): NodeState {
    const state = this.#nodes.get(id);
    if (state === undefined) throw new Error(`fake network: no node ${id}`);
    return state;
  }
}

function linkKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
