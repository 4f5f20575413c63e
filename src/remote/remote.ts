/**
 * Remote processes: calls, casts, messages, spawns, stops, monitors and links that cross nodes.
 *
 * The runtime hands this layer everything that concerns a pid of another node (it is the
 * runtime's `Router`); this layer also serves the same requests from other nodes on the local
 * runtime. Everything rides the cluster's single authenticated link per node pair, and everything
 * addressed to one process (calls, casts, messages, stops, monitors, links, exit signals, and the
 * downs of the monitors it holds) goes on that process's lane of the link: it arrives in the order
 * it was sent, even when a large message is among it, while a large message to one process does
 * not hold up others. So a process hears everything a remote process it monitors sent it before
 * that process's `$down`.
 *
 * Guarantees:
 * - A remote call settles exactly once, with one of three outcomes: the reply; the callee threw
 *   (`REMOTE_ERROR` with the thrown error's name, message and code); or the call failed (`TIMEOUT`,
 *   `NOCONNECTION`, `NOPROC`, `PROCESS_EXITED`, `BAD_REQUEST`). After `TIMEOUT` or `NOCONNECTION` the
 *   work may or may not have happened.
 * - Calls waiting on a node fail with `NOCONNECTION` as soon as its link breaks or it goes down,
 *   not at their timeout. The caller's remaining time travels with the call: the callee skips a
 *   call whose caller has given up before it was dequeued, and the `from.signal` of one it is
 *   handling aborts when that time is up. When the caller's node goes down or restarts, its calls
 *   end here without an answer (one could reach the new run, which never asked) and their signals
 *   abort with `NOCONNECTION`; request ids start at random, so an answer already on its way is most
 *   unlikely to match a request of the new run.
 * - A cast or message that cannot be handed to the link (the node is down or unknown, the queue is
 *   full) is reported as `dropped`; messages still queued when a link breaks, and those queued
 *   before a link was up that it refused (over the other node's frame limit), are counted and
 *   reported as `undelivered`; a call, spawn or stop refused that way fails then with
 *   `FRAME_TOO_LARGE`, as it does at once when the link is already up. A message already written
 *   to the socket of a node that then dies can be lost without a report, as in any protocol
 *   without acknowledgements.
 * - A remote monitor fires exactly once (or never, after `demonitor`): with the process's exit
 *   reason, with `noproc` when it was not alive, or with `noconnection` when its node goes down or
 *   restarts. Monitors and links survive a broken link while membership keeps the node up: they
 *   are re-sent when the link is back (a down lost with the old link then arrives as `noproc`).
 * - Links propagate exit signals both ways; a node going down sends `noconnection` to every local
 *   process linked to one of its processes.
 *
 * Not here: global names (the registry resolves them for `whereis`) and services.
 */
import type { Clock } from '../core/clock.js';
import { Deadline, Deadlines } from '../core/deadlines.js';
import { IdTable } from '../core/id-table.js';
import { CohortError, toWireError, unreachable, type WireError } from '../core/errors.js';
import type { Events, Unsubscribe } from '../core/events.js';
import { firstRequestId, formatPid, pidKey, type NodeId, type Pid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { RefusalListener } from '../transport/link-manager.js';
import type { MonitorTarget } from '../process/process.js';
import type { Router } from '../process/router.js';
import type { ProcessRuntime } from '../process/runtime.js';
import type { Exit, ExitReason } from '../process/types.js';
import { PROC, REQUEST_ID_AT, encode, encodeCall, encodeOk, isOk, readMessage, type Notice, type RemoteMessage, type Request } from './protocol.js';

/** What this layer needs of the cluster. */
export interface RemoteCluster {
  readonly id: NodeId;
  /**
   * Messages with the same `lane` keep their order even when some are large. `listener` hears of
   * a message that waited for the link and was refused when it came up.
   * @throws CohortError `NOCONNECTION` (node down or unknown), `QUEUE_FULL`, ...
   */
  send(to: NodeId, type: string, body: unknown, lane?: number, listener?: RefusalListener): void;
  handle(type: string, fn: (from: NodeId, body: unknown) => void): Unsubscribe;
  /** Whether membership has the node up (alive or suspect). */
  isUp(node: NodeId): boolean;
  readonly events: Events<{
    nodeDown: { readonly node: NodeId };
    linkUp: { readonly node: NodeId; readonly instance: string; readonly refused: number };
    linkDown: { readonly node: NodeId; readonly unsent: number };
  }>;
}

export interface RemoteOptions {
  readonly cluster: RemoteCluster;
  readonly runtime: ProcessRuntime;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Resolves a global name. */
  readonly whereis: (name: string) => Pid | undefined;
  /** Registers a global name for a local process (for spawn with `global`). */
  readonly registerGlobal: (name: string, pid: Pid) => Promise<void>;
  /** Messages queued for `node` were lost with its link. */
  readonly onUndelivered: (node: NodeId, count: number) => void;
}

/** Options of a remote spawn. */
export interface RemoteSpawnOptions {
  readonly name?: string;
  readonly global?: boolean;
  /** A local pid to link the new process to. */
  readonly link?: Pid;
  readonly timeoutMs: number;
}

/**
 * A request waiting for its answer, and its deadline in one object (nothing else is kept per
 * request while it waits: at many calls in flight, what waits is what the garbage collector copies).
 */
class Pending extends Deadline implements RefusalListener {
  constructor(
    readonly id: number,
    readonly node: NodeId,
    readonly kind: Request['t'],
    /** The pid called or stopped, or the behavior spawned: names the request in errors. */
    readonly subject: Pid | string,
    readonly timeoutMs: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    /** For a spawn with `link`: the local pid to link the new process to. */
    readonly link: Pid | undefined,
    readonly onTimeout: (p: Pending) => void,
    /** The request waited for a link that then refused it (see `RefusalListener`). */
    readonly onRefused: (p: Pending, error: CohortError) => void,
  ) {
    super();
  }

  protected override expire(): void {
    this.onTimeout(this);
  }

  refused(error: CohortError): void {
    this.onRefused(this, error);
  }
}

interface Watch {
  readonly target: Pid;
  readonly notify: MonitorTarget;
}

/**
 * The lane a monitor's down comes back on: the watching process's, which is also the lane of what
 * the watched process sends it, so the down cannot overtake the last of those (a large one, say).
 */
function downLane(notify: MonitorTarget): number | undefined {
  return notify.kind === 'process' ? notify.watcher.id : undefined;
}

interface LinkPair {
  readonly local: Pid;
  readonly remote: Pid;
}

/** How much longer than the stop timeout a remote stop waits for its answer. */
const STOP_GRACE_MS = 1_000;

export class RemoteProcesses implements Router {
  readonly #o: RemoteOptions;
  readonly #cluster: RemoteCluster;
  readonly #runtime: ProcessRuntime;
  readonly #self: NodeId;
  readonly #pending = new IdTable<Pending>();
  /** Monitors held by local watchers on processes of other nodes: ref → target. */
  readonly #watches = new Map<string, Watch>();
  /** Monitors other nodes hold on local processes: node → their ref → the local monitor's ref. */
  readonly #watchers = new Map<NodeId, Map<string, string>>();
  /** Links between local processes and processes of other nodes, by node. */
  readonly #links = new Map<NodeId, Map<string, LinkPair>>();
  /** The run of each node last linked to, to tell a restart from a reconnect. */
  readonly #instances = new Map<NodeId, string>();
  readonly #unsubscribe: Unsubscribe[];
  /** The deadlines of waiting requests; they keep a script alive until the requests settle. */
  readonly #deadlines: Deadlines;
  /** Request ids start at random (see `firstRequestId`). */
  #nextId = firstRequestId();
  #closed = false;

  constructor(options: RemoteOptions) {
    this.#o = options;
    this.#cluster = options.cluster;
    this.#runtime = options.runtime;
    this.#self = options.cluster.id;
    this.#deadlines = new Deadlines(options.clock, { keepAlive: true });
    const c = this.#cluster;
    this.#unsubscribe = [
      c.handle(PROC, (from, body) => this.#receive(from, body)),
      c.events.on('nodeDown', ({ node }) => this.#gone(node, `node ${node} went down`)),
      c.events.on('linkDown', ({ node, unsent }) => this.#linkLost(node, unsent)),
      c.events.on('linkUp', ({ node, instance, refused }) => {
        if (refused > 0) this.#o.onUndelivered(node, refused);
        this.#linkBack(node, instance);
      }),
    ];
  }

  /** How many requests to other nodes wait for an answer. */
  get pending(): number {
    return this.#pending.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Router: requests of local processes for processes of other nodes

  call(target: Pid, message: unknown, timeoutMs: number, from: Pid | undefined): Promise<unknown> {
    return this.#request(target.node, 'call', target, encodeCall(0, target, timeoutMs, message, from), timeoutMs, target.id);
  }

  cast(target: Pid, message: unknown): void {
    this.#notice(target.node, { t: 'cast', to: target, m: message }, target);
  }

  send(target: Pid, message: unknown): void {
    this.#notice(target.node, { t: 'info', to: target, m: message }, target);
  }

  async stop(target: Pid, reason: ExitReason, timeoutMs: number): Promise<void> {
    await this.#request(target.node, 'stop', target, encode({ t: 'stop', i: 0, to: target, r: reason, ms: timeoutMs }), timeoutMs + STOP_GRACE_MS, target.id);
  }

  /**
   * Spawns registered behavior `behavior` on `node` and waits for its `init`.
   *
   * @throws CohortError `UNKNOWN_BEHAVIOR`, `BAD_REQUEST`, `INIT_FAILED`, `NAME_TAKEN`, `TIMEOUT`,
   *   `NOCONNECTION` (from the other node, which stops a process it started when the name is taken
   *   or the caller gave up).
   */
  async spawn(node: NodeId, behavior: string, args: unknown, options: RemoteSpawnOptions): Promise<Pid> {
    const body: Request = { t: 'spawn', i: 0, b: behavior, a: args, ms: options.timeoutMs, n: options.name, g: options.global === true ? true : undefined, l: options.link };
    const pid = await this.#request(node, 'spawn', behavior, encode(body), options.timeoutMs, undefined, options.link);
    return pid as Pid;
  }

  monitor(target: Pid, ref: string, notify: MonitorTarget): void {
    this.#watches.set(ref, { target, notify });
    try {
      this.#cluster.send(target.node, PROC, encode({ t: 'mon', ref, to: target, l: downLane(notify) }), target.id);
    } catch (error) {
      // Fire after monitor() has returned its ref, as a local noproc does.
      queueMicrotask(() => this.#fire(ref, 'noconnection', reasonOf(error)));
    }
  }

  demonitor(ref: string): boolean {
    const watch = this.#watches.get(ref);
    if (watch === undefined) return false;
    this.#watches.delete(ref);
    this.#trySend(watch.target.node, { t: 'demon', ref });
    return true;
  }

  link(local: Pid, remote: Pid): void {
    this.#pairs(remote.node).set(pairKey(local, remote), { local, remote });
    try {
      this.#cluster.send(remote.node, PROC, encode({ t: 'link', from: local, to: remote }), remote.id);
    } catch (error) {
      queueMicrotask(() => this.#unlinkedByFailure(remote.node, local, remote, reasonOf(error)));
    }
  }

  unlink(local: Pid, remote: Pid): void {
    this.#links.get(remote.node)?.delete(pairKey(local, remote));
    this.#trySend(remote.node, { t: 'unlink', from: local, to: remote }, remote.id);
  }

  exit(local: Pid, remote: Pid, exit: Exit): void {
    this.#links.get(remote.node)?.delete(pairKey(local, remote));
    this.#trySend(remote.node, withMessage({ t: 'exit', from: local, to: remote, r: exit.reason }, exit.message), remote.id);
  }

  whereis(name: string): Pid | undefined {
    return this.#o.whereis(name);
  }

  /** Fails every waiting request with `NODE_STOPPED` and stops serving other nodes. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.cancel();
      p.reject(new CohortError('NODE_STOPPED', 'the node stopped before the other node answered'));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // outgoing

  /**
   * Sends request tuple `wire` (numbered here, at `REQUEST_ID_AT`) on `lane` and waits for its
   * answer; `subject` (the pid called or stopped, or the behavior spawned) names it in errors.
   */
  #request(node: NodeId, kind: Request['t'], subject: Pid | string, wire: unknown[], timeoutMs: number, lane: number | undefined, link?: Pid): Promise<unknown> {
    if (this.#closed) return Promise.reject(new CohortError('NODE_STOPPED', `node ${this.#self} is stopped`));
    const id = this.#nextId++;
    wire[REQUEST_ID_AT] = id;
    return new Promise<unknown>((resolve, reject) => {
      const pending = new Pending(id, node, kind, subject, timeoutMs, resolve, reject, link, this.#timedOut, this.#refused);
      try {
        this.#cluster.send(node, PROC, wire, lane, pending);
      } catch (error) {
        reject(unreachable(node, `the ${what(kind, subject, node)} was not sent`, error));
        return;
      }
      this.#pending.set(id, this.#deadlines.start(timeoutMs, pending));
    });
  }

  /** A request queued before its link was up was refused by the link (too large for the other node): it fails now. */
  readonly #refused = (p: Pending, error: CohortError): void => {
    if (this.#take(p.id) === undefined) return;
    p.reject(error);
  };

  /** A request got no answer in time. */
  readonly #timedOut = (p: Pending): void => {
    if (!this.#pending.delete(p.id)) return;
    p.reject(
      new CohortError('TIMEOUT', `${what(p.kind, p.subject, p.node)} got no answer within ${p.timeoutMs} ms; it may or may not have been handled`, {
        details: { node: p.node, timeoutMs: p.timeoutMs },
      }),
    );
  };

  #notice(node: NodeId, body: Notice, target: Pid): void {
    try {
      this.#cluster.send(node, PROC, encode(body), target.id);
    } catch (error) {
      const kind = body.t === 'cast' ? 'cast' : 'info';
      this.#runtime.dropped(target, kind, `node ${node} is not reachable: ${reasonOf(error)}`, error instanceof CohortError ? error : undefined);
    }
  }

  #trySend(node: NodeId, body: RemoteMessage, lane?: number): void {
    this.#sendQuietly(node, body.t, encode(body), lane);
  }

  /** Sends a message tuple; one that cannot go out is logged (its sender handles the loss otherwise). */
  #sendQuietly(node: NodeId, kind: RemoteMessage['t'], wire: unknown[], lane?: number): void {
    try {
      this.#cluster.send(node, PROC, wire, lane);
    } catch (error) {
      this.#o.logger.debug('a remote process message was not sent', { node, kind, error: reasonOf(error) });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // incoming

  #receive(from: NodeId, body: unknown): void {
    if (isOk(body)) {
      this.#take(body[1])?.resolve(body[2]);
      return;
    }
    const m = readMessage(body, from, this.#self);
    if (typeof m === 'string') {
      this.#o.logger.warn('dropped a malformed remote process message', { from, problem: m });
      return;
    }
    switch (m.t) {
      case 'call': {
        const id = m.i;
        this.#runtime.callLocal(m.to, m.m, m.ms, m.f, from, (ok, v) => {
          if (ok) this.#sendQuietly(from, 'ok', encodeOk(id, v));
          else this.#trySend(from, { t: 'err', i: id, e: this.#wireError(v) });
        });
        return;
      }
      case 'spawn':
        this.#serveSpawn(from, m);
        return;
      case 'stop':
        this.#answer(from, m.i, this.#runtime.stop(m.to, m.r, m.ms));
        return;
      case 'ok':
        this.#take(m.i)?.resolve(m.v);
        return;
      case 'err':
        this.#take(m.i)?.reject(CohortError.fromWire(m.e));
        return;
      case 'spawned':
        this.#spawned(from, m.i, m.p);
        return;
      case 'cast':
        this.#runtime.cast(m.to, m.m);
        return;
      case 'info':
        this.#runtime.send(m.to, m.m);
        return;
      case 'mon':
        this.#serveMonitor(from, m.ref, m.to, m.l);
        return;
      case 'demon': {
        const local = this.#watchers.get(from)?.get(m.ref);
        if (local === undefined) return;
        this.#watchers.get(from)!.delete(m.ref);
        this.#runtime.demonitor(local);
        return;
      }
      case 'down':
        this.#fire(m.ref, m.r, m.msg);
        return;
      case 'link':
        if (this.#runtime.linkFromRemote(m.to, m.from)) this.#pairs(from).set(pairKey(m.to, m.from), { local: m.to, remote: m.from });
        else this.#trySend(from, { t: 'exit', from: m.to, to: m.from, r: 'noproc', msg: `${formatPid(m.to)} was not alive when linked` }, m.from.id);
        return;
      case 'unlink':
        this.#links.get(from)?.delete(pairKey(m.to, m.from));
        this.#runtime.unlinkFromRemote(m.to, m.from);
        return;
      case 'exit':
        this.#links.get(from)?.delete(pairKey(m.to, m.from));
        this.#runtime.exitFromRemote(m.to, m.from, m.msg === undefined ? { reason: m.r } : { reason: m.r, message: m.msg });
        return;
    }
  }

  #answer(to: NodeId, id: number, work: Promise<unknown>): void {
    work.then(
      (v) => this.#trySend(to, { t: 'ok', i: id, v }),
      (error: unknown) => this.#trySend(to, { t: 'err', i: id, e: this.#wireError(error) }),
    );
  }

  /** The wire form of what a local request failed with: a handler's own throw is `REMOTE_ERROR`. */
  #wireError(error: unknown): WireError {
    if (error instanceof CohortError && error.code === 'PROCESS_EXITED' && error.details?.handlerThrew === true) {
      const thrown = error.cause;
      const name = thrown instanceof Error ? thrown.name : 'Error';
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      const code = (thrown as { code?: unknown } | undefined)?.code;
      const retryable = thrown instanceof CohortError ? thrown.retryable : false;
      return toWireError(
        new CohortError('REMOTE_ERROR', `${name} thrown by ${formatPid(error.details.pid as Pid)} on ${this.#self}: ${message}`, {
          details: { name, message, ...(typeof code === 'string' ? { code } : {}), pid: error.details.pid },
          retryable,
          node: this.#self,
          cause: error,
        }),
      );
    }
    const wire = toWireError(error);
    if (wire.node === undefined) wire.node = this.#self;
    return wire;
  }

  /** The request waiting under `id`, which no longer waits (its deadline is cancelled), if any. */
  #take(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    p.cancel();
    return p;
  }

  #serveSpawn(from: NodeId, m: Extract<Request, { t: 'spawn' }>): void {
    const work = (async () => {
      const pid = await this.#runtime.spawn(m.b, m.a, { timeoutMs: m.ms, ...(m.n !== undefined && m.g !== true ? { name: m.n } : {}) });
      if (m.n !== undefined && m.g === true) {
        try {
          await this.#o.registerGlobal(m.n, pid);
        } catch (error) {
          await this.#runtime.stop(pid, 'shutdown').catch(() => {});
          throw error;
        }
      }
      if (m.l !== undefined) {
        this.#runtime.linkFromRemote(pid, m.l);
        this.#pairs(from).set(pairKey(pid, m.l), { local: pid, remote: m.l });
      }
      return pid;
    })();
    work.then(
      (p) => this.#trySend(from, { t: 'spawned', i: m.i, p }),
      (error: unknown) => this.#trySend(from, { t: 'err', i: m.i, e: this.#wireError(error) }),
    );
  }

  #spawned(from: NodeId, id: number, pid: Pid): void {
    const p = this.#pending.get(id);
    if (p === undefined || p.kind !== 'spawn') {
      // The caller gave up: the process nobody holds is stopped again.
      this.#o.logger.debug('stopping a remotely spawned process whose caller gave up', { pid: formatPid(pid) });
      this.#trySend(from, { t: 'stop', i: this.#nextId++, to: pid, r: 'shutdown', ms: 5_000 }, pid.id);
      return;
    }
    if (p.link !== undefined) {
      if (this.#runtime.linkFromRemote(p.link, pid)) this.#pairs(from).set(pairKey(p.link, pid), { local: p.link, remote: pid });
      else this.#trySend(from, { t: 'exit', from: p.link, to: pid, r: 'noproc', msg: `${formatPid(p.link)} ended before the spawn finished` }, pid.id);
    }
    this.#take(id)?.resolve(pid);
  }

  /** Monitors local `target` for node `from`'s monitor `ref`; the down goes back on `lane`. */
  #serveMonitor(from: NodeId, ref: string, target: Pid, lane: number | undefined): void {
    let refs = this.#watchers.get(from);
    if (refs?.has(ref) === true) return; // a re-sent monitor that is still in place
    if (refs === undefined) this.#watchers.set(from, (refs = new Map()));
    const local = this.#runtime.monitor(target, {
      kind: 'callback',
      fn: (down) => {
        if (this.#watchers.get(from)?.get(ref) !== local) return;
        this.#watchers.get(from)!.delete(ref);
        this.#trySend(from, withMessage({ t: 'down', ref, r: down.reason }, down.message), lane);
      },
    });
    refs.set(ref, local);
  }

  // ---------------------------------------------------------------------------------------------
  // links coming and going

  /** A monitor of a process of another node fired. */
  #fire(ref: string, reason: ExitReason, message: string | undefined): void {
    const watch = this.#watches.get(ref);
    if (watch === undefined) return;
    this.#watches.delete(ref);
    const down = message === undefined ? { ref, pid: watch.target, reason } : { ref, pid: watch.target, reason, message };
    this.#runtime.notifyDown(watch.notify, down);
  }

  #unlinkedByFailure(node: NodeId, local: Pid, remote: Pid, why: string): void {
    if (this.#links.get(node)?.delete(pairKey(local, remote)) !== true) return;
    this.#runtime.exitFromRemote(local, remote, { reason: 'noconnection', message: `node ${node} is not reachable: ${why}` });
  }

  /** The link to `node` broke: what waits for an answer over it will not get one. */
  #linkLost(node: NodeId, unsent: number): void {
    if (unsent > 0) this.#o.onUndelivered(node, unsent);
    this.#failPending(node, `the link to node ${node} broke`);
    // A node membership never had up (unknown, or never answered) is gone as far as we can tell.
    if (!this.#cluster.isUp(node)) this.#gone(node, `node ${node} is not reachable`);
  }

  /** A link to `node` is up: a new run of it ends everything of the old one; else re-send state. */
  #linkBack(node: NodeId, instance: string): void {
    const before = this.#instances.get(node);
    this.#instances.set(node, instance);
    if (before !== undefined && before !== instance) this.#gone(node, `node ${node} restarted`);
    for (const [ref, watch] of this.#watches) {
      if (watch.target.node === node) this.#trySend(node, { t: 'mon', ref, to: watch.target, l: downLane(watch.notify) }, watch.target.id);
    }
    for (const pair of this.#links.get(node)?.values() ?? []) this.#trySend(node, { t: 'link', from: pair.local, to: pair.remote }, pair.remote.id);
  }

  /** `node` is down (or restarted): everything that depended on it ends with `noconnection`. */
  #gone(node: NodeId, why: string): void {
    this.#failPending(node, why);
    this.#runtime.callersGone(node, why);
    for (const [ref, watch] of this.#watches) {
      if (watch.target.node === node) this.#fire(ref, 'noconnection', why);
    }
    const pairs = this.#links.get(node);
    this.#links.delete(node);
    for (const pair of pairs?.values() ?? []) this.#runtime.exitFromRemote(pair.local, pair.remote, { reason: 'noconnection', message: why });
    const refs = this.#watchers.get(node);
    this.#watchers.delete(node);
    for (const local of refs?.values() ?? []) this.#runtime.demonitor(local);
  }

  #failPending(node: NodeId, why: string): void {
    for (const [id, p] of this.#pending) {
      if (p.node !== node) continue;
      this.#pending.delete(id);
      p.cancel();
      p.reject(new CohortError('NOCONNECTION', `${why}; the ${p.kind} may or may not have been handled`, { details: { node } }));
    }
  }

  #pairs(node: NodeId): Map<string, LinkPair> {
    let pairs = this.#links.get(node);
    if (pairs === undefined) this.#links.set(node, (pairs = new Map()));
    return pairs;
  }
}

function pairKey(local: Pid, remote: Pid): string {
  return `${pidKey(local)}>${pidKey(remote)}`;
}

function withMessage<T extends object>(body: T, message: string | undefined): T & { msg?: string } {
  return message === undefined ? body : { ...body, msg: message };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a request is, for its error messages. */
function what(kind: Request['t'], subject: Pid | string, node: NodeId): string {
  const name = typeof subject === 'string' ? `'${subject}'` : formatPid(subject);
  switch (kind) {
    case 'call':
      return `call to ${name}`;
    case 'stop':
      return `stop of ${name}`;
    case 'spawn':
      return `spawn of ${name} on ${node}`;
  }
}
