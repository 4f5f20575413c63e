/**
 * The process runtime of one node: its process table, local names, links and monitors.
 *
 * Every node owns one runtime and nothing is shared between runtimes, so two nodes in one
 * Node.js process are fully independent.
 *
 * Guarantees:
 * - `call` settles exactly once: with the reply, with the error the process answered (e.g.
 *   `BAD_REQUEST`), with `PROCESS_EXITED` when the process ends before replying, with `NOPROC` when
 *   there is no such process, or with `TIMEOUT`. After a timeout the process may still handle the
 *   call if it had already started; a call whose caller gave up before it was dequeued is skipped,
 *   and the `from.signal` of one being handled aborts at that timeout.
 * - Messages from one sender to one process arrive in the order they were sent.
 * - A monitor fires exactly once (or never, after `demonitor`); monitoring a process that is not
 *   alive fires at once with `noproc`.
 * - A link propagates an abnormal exit to the other side, which is killed with the same reason
 *   (its `terminate` does not run) unless it traps exits, in which case it receives an `$exit`
 *   message. A `normal` exit only reaches processes that trap exits.
 *
 * Pids of other nodes, and names this node has not registered (global names), go to the
 * `Router` given with `route` (the remote layer); without one they are refused with `NOCONNECTION`
 * and `NOPROC`.
 */
import { CohortError, describe } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { Deadline, Deadlines } from '../core/deadlines.js';
import { IdTable } from '../core/id-table.js';
import { Emitter, type Events } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { formatPid, isPid, makePid, pidKey, type NodeId, type Pid } from '../core/ids.js';
import type { AnyBehavior, CallOptions, SpawnOptions } from './behavior.js';
import { BehaviorRegistry } from './behaviors.js';
import { ProcessCell, type CellHost, type Envelope, type MonitorTarget } from './process.js';
import type { Exit, ExitReason, From } from './types.js';
import { validate } from './validate.js';
import { processContext } from './context.js';
import { checkTimeout, noproc } from './process-errors.js';
import type { Router } from './router.js';

/** Defaults of the runtime, in one place. */
export const RUNTIME_DEFAULTS = Object.freeze({
  callTimeoutMs: 5_000,
  initTimeoutMs: 5_000,
  stopTimeoutMs: 5_000,
});

/** What the runtime reports. */
export interface RuntimeEvents {
  /** A process started. */
  spawn: { readonly pid: Pid; readonly name: string | undefined };
  /** A process ended. */
  exit: { readonly pid: Pid; readonly exit: Exit };
  /** A cast or message was dropped: the process was gone, or the message failed validation. */
  dropped: { readonly pid: Pid | string; readonly kind: Envelope['kind']; readonly why: string; readonly error?: CohortError };
}

/** A down notification as a callback monitor receives it. */
export interface Down {
  readonly ref: string;
  readonly pid: Pid;
  readonly reason: ExitReason;
  readonly message?: string;
}

export interface RuntimeOptions {
  readonly node: NodeId;
  readonly incarnation: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly behaviors?: BehaviorRegistry;
}

/** How a call is answered: `ok` with the reply, or not with the error. */
export type CallDone = (ok: boolean, value: unknown) => void;

/** A call waiting for its reply, and its deadline in one object (see `Deadline`). */
class PendingCall extends Deadline {
  /** Why the caller stopped waiting, once it has. */
  #gaveUp: CohortError | undefined;
  /** Made on the first read of `signal` only: most handlers never look. */
  #controller: AbortController | undefined;

  constructor(
    readonly tag: number,
    /** The process that owes the reply. */
    readonly cell: ProcessCell,
    readonly timeoutMs: number,
    readonly done: CallDone,
    readonly onTimeout: (p: PendingCall) => void,
    /** The node the caller is on, for a call served for another node. */
    readonly origin: NodeId | undefined,
  ) {
    super();
  }

  protected override expire(): void {
    this.onTimeout(this);
  }

  /** Aborted, with the reason the caller stopped waiting (`TIMEOUT`, `NOCONNECTION`), once it has. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#gaveUp !== undefined) this.#controller.abort(this.#gaveUp);
    }
    return this.#controller.signal;
  }

  /** The caller gave up: aborts the signal, if one was handed out. */
  giveUp(reason: CohortError): void {
    this.#gaveUp = reason;
    this.#controller?.abort(reason);
  }
}

/** What `handleCall` gets as `from`: the caller, the call's tag, and the signal of its caller giving up. */
class CallFrom implements From {
  readonly #call: PendingCall;

  constructor(
    readonly pid: Pid | undefined,
    readonly tag: number,
    call: PendingCall,
  ) {
    this.#call = call;
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }
}

const NAME_MAX = 255;
/** Deadlines of awaited operations keep a script alive until they settle. */
const KEEP_ALIVE = Object.freeze({ keepAlive: true });

export class ProcessRuntime implements CellHost {
  readonly node: NodeId;
  readonly incarnation: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly behaviors: BehaviorRegistry;
  readonly #events: Emitter<RuntimeEvents>;
  readonly events: Events<RuntimeEvents>;

  readonly #cells = new Map<number, ProcessCell>();
  readonly #names = new Map<string, ProcessCell>();
  readonly #pending = new IdTable<PendingCall>();
  /** The deadlines of waiting calls; they keep a script alive until the calls settle. */
  readonly #deadlines: Deadlines;
  /** Every live monitor: ref → the ids of the watched cell and, for process monitors, the watcher. */
  readonly #monitorIndex = new Map<string, { target: number; watcher: number | undefined }>();
  #nextId = 1;
  #nextTag = 1;
  #nextRef = 1;
  #closed = false;
  #router: Router | undefined;

  constructor(options: RuntimeOptions) {
    this.node = options.node;
    this.incarnation = options.incarnation;
    this.clock = options.clock;
    this.logger = options.logger;
    this.behaviors = options.behaviors ?? new BehaviorRegistry();
    this.#deadlines = new Deadlines(options.clock, KEEP_ALIVE);
    this.#events = new Emitter<RuntimeEvents>((error, type) =>
      this.logger.warn('runtime event listener threw', { type, error: String(error) }),
    );
    this.events = this.#events;
  }

  /** Routes what concerns processes of other nodes (and global names) through `router`. */
  route(router: Router): void {
    this.#router = router;
  }

  /** How many processes are alive. */
  get size(): number {
    return this.#cells.size;
  }

  /** How many calls made through this runtime still wait for a reply. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /** The pids of every live process, oldest first. */
  pids(): Pid[] {
    return [...this.#cells.values()].map((c) => c.pid);
  }

  /** Whether `pid` names a live process of this runtime. */
  isAlive(target: Pid | string): boolean {
    return this.#lookup(target) !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // spawn

  /**
   * Starts a process and waits for its `init`.
   *
   * @throws CohortError `UNKNOWN_BEHAVIOR`, `INVALID_ARGUMENT` (bad behavior or options), `NAME_TAKEN`,
   *   `BAD_REQUEST` (args fail the behavior's schema), `INIT_FAILED` (init threw), `TIMEOUT` (init too
   *   slow; the process is discarded), `NODE_STOPPED`.
   */
  async spawn(behaviorOrName: AnyBehavior | string, args: unknown, options: SpawnOptions = {}): Promise<Pid> {
    this.#assertOpen();
    const behavior = this.behaviors.resolve(behaviorOrName);
    const label = typeof behaviorOrName === 'string' ? `'${behaviorOrName}'` : 'behavior';
    const initTimeoutMs = checkTimeout(options.timeoutMs, RUNTIME_DEFAULTS.initTimeoutMs, 'spawn timeoutMs');
    if (options.name !== undefined) this.#checkName(options.name);
    let parent: ProcessCell | undefined;
    if (options.link !== undefined) {
      parent = this.#lookup(options.link);
      if (parent === undefined) throw noproc(this, options.link, 'cannot link a new process to it');
    }
    let initArgs = args;
    const argsSchema = behavior.schemas?.args;
    if (argsSchema !== undefined) {
      const checked = await validate(argsSchema, args, `args of ${label}`);
      if (!checked.ok) throw checked.error;
      initArgs = checked.value;
    }
    // The name may have been taken while async validation ran.
    if (options.name !== undefined) this.#checkName(options.name);
    this.#assertOpen();

    const cell = new ProcessCell(makePid(this.node, this.incarnation, this.#nextId++), behavior, this);
    cell.ctx = processContext(this, cell);
    this.#cells.set(cell.pid.id, cell);
    if (options.name !== undefined) {
      cell.name = options.name;
      this.#names.set(options.name, cell);
    }
    if (parent !== undefined) {
      this.#linkCells(cell, parent);
      cell.parent = parent.pid;
    }

    let state: unknown;
    try {
      state = await this.#withTimeout(
        Promise.resolve().then(() => behavior.init(initArgs, cell.ctx)),
        initTimeoutMs,
        () => new CohortError('TIMEOUT', `init of ${label} did not finish within ${initTimeoutMs} ms; the process was discarded`, {
          details: { timeoutMs: initTimeoutMs },
        }),
      );
    } catch (error) {
      this.#unlinkAll(cell);
      cell.discard();
      if (error instanceof CohortError && error.code === 'TIMEOUT') throw error;
      throw new CohortError('INIT_FAILED', `init of ${label} failed: ${error instanceof Error ? error.message : describe(error)}`, {
        cause: error,
      });
    }
    if (!cell.alive) {
      // Killed during init (e.g. by a linked process): report it like a failed init.
      throw new CohortError('INIT_FAILED', `${label} was killed while its init ran`, { details: { pid: cell.pid } });
    }
    cell.started(state);
    this.#events.emit('spawn', { pid: cell.pid, name: cell.name });
    return cell.pid;
  }

  // ---------------------------------------------------------------------------------------------
  // messages

  /**
   * Calls a process and awaits its reply. See the module header for the outcomes.
   *
   * @param from - the calling process, when called from a handler
   */
  call(target: Pid | string, message: unknown, options: CallOptions = {}, from?: Pid): Promise<unknown> {
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(options.timeoutMs, RUNTIME_DEFAULTS.callTimeoutMs, 'call timeoutMs');
    } catch (error) {
      return Promise.reject(error);
    }
    const found = this.#resolve(target);
    if (found === undefined) return Promise.reject(noproc(this, target, 'the call was not delivered'));
    if (!(found instanceof ProcessCell)) return this.#router!.call(found, message, timeoutMs, from);
    const cell = found;
    if (from !== undefined && cell.pid.id === from.id && from.node === this.node) {
      return Promise.reject(
        new CohortError('INVALID_ARGUMENT', `process ${formatPid(from)} called itself; a process cannot wait for its own reply`),
      );
    }
    return new Promise<unknown>((resolve, reject) => this.#enqueueCall(cell, message, timeoutMs, from, (ok, v) => (ok ? resolve(v) : reject(v))));
  }

  /**
   * Calls a process of this node and answers through `done` instead of a promise (the remote
   * layer serves calls from other nodes this way). Settles like `call`.
   */
  callLocal(target: Pid, message: unknown, timeoutMs: number, from: Pid | undefined, origin: NodeId, done: CallDone): void {
    const cell = this.#lookup(target);
    if (cell === undefined) done(false, noproc(this, target, 'the call was not delivered'));
    else this.#enqueueCall(cell, message, timeoutMs, from, done, origin);
  }

  /**
   * The callers on node `origin` no longer wait: it went down, or it restarted. Their calls end
   * here without an answer (one sent now could reach a new run of that node, which never asked),
   * a call not yet dequeued is skipped, and a handler at work on one sees `from.signal` abort with
   * `NOCONNECTION`.
   */
  callersGone(origin: NodeId, why: string): void {
    for (const [tag, call] of this.#pending) {
      if (call.origin !== origin) continue;
      this.#take(tag);
      call.giveUp(new CohortError('NOCONNECTION', `the caller's node ${origin} no longer waits: ${why}`, { details: { node: origin } }));
    }
  }

  #enqueueCall(cell: ProcessCell, message: unknown, timeoutMs: number, from: Pid | undefined, done: CallDone, origin?: NodeId): void {
    const tag = this.#nextTag++;
    const call = new PendingCall(tag, cell, timeoutMs, done, this.#timedOut, origin);
    this.#pending.set(tag, this.#deadlines.start(timeoutMs, call));
    cell.deliver({ kind: 'call', message, from: new CallFrom(from, tag, call) });
  }

  /** A call got no reply in time. */
  readonly #timedOut = (p: PendingCall): void => {
    if (this.#take(p.tag) === undefined) return;
    const error = new CohortError('TIMEOUT', `call to ${formatPid(p.cell.pid)} got no reply within ${p.timeoutMs} ms; it may or may not have been handled`, {
      details: { pid: p.cell.pid, timeoutMs: p.timeoutMs },
    });
    p.done(false, error);
    // Last: the handler's abort listeners run now, after the caller has its answer.
    p.giveUp(error);
  };

  /** Casts to a process. A cast to a process that is gone is dropped and reported as `dropped`. */
  cast(target: Pid | string, message: unknown): void {
    this.#deliver(target, { kind: 'cast', message });
  }

  /** Sends a message to a process's `handleInfo`. Dropped (and reported) when the process is gone. */
  send(target: Pid | string, message: unknown): void {
    this.#deliver(target, { kind: 'info', message });
  }

  /** Replies to a deferred call. Replying twice, or after the caller gave up, does nothing. */
  reply(from: From, value: unknown): void {
    this.settle(from.tag, true, value);
  }

  /**
   * Stops a process: it finishes the message it is handling, runs `terminate`, and ends. If it has
   * not ended after `timeoutMs` it is killed.
   *
   * @throws CohortError `NOPROC` when there is no such process.
   */
  async stop(target: Pid | string, reason: ExitReason = 'normal', timeoutMs?: number): Promise<void> {
    const ms = checkTimeout(timeoutMs, RUNTIME_DEFAULTS.stopTimeoutMs, 'stop timeoutMs');
    const found = this.#resolve(target);
    if (found === undefined) throw noproc(this, target, 'it cannot be stopped');
    if (!(found instanceof ProcessCell)) return this.#router!.stop(found, reason, ms);
    const cell = found;
    cell.requestStop({ reason });
    const timer = this.clock.setTimeout(
      () => cell.kill({ reason, message: `killed: did not stop within ${ms} ms` }),
      ms,
      KEEP_ALIVE,
    );
    await cell.done;
    timer.cancel();
  }

  /** Ends a process at once, without `terminate`. Does nothing when it is already gone. */
  kill(target: Pid | string, reason: ExitReason = 'shutdown', message?: string): void {
    this.#lookup(target)?.kill(message === undefined ? { reason } : { reason, message });
  }

  // ---------------------------------------------------------------------------------------------
  // links and monitors

  /** Links two local processes. If `b` is not alive, `a` receives a `noproc` exit signal. */
  link(a: Pid, b: Pid): void {
    const ca = this.#lookup(a);
    if (ca === undefined) throw noproc(this, a, 'cannot link from it');
    const cb = this.#resolve(b);
    if (cb !== undefined && !(cb instanceof ProcessCell)) {
      if (ca.links.has(pidKey(cb))) return;
      ca.links.set(pidKey(cb), cb);
      this.#router!.link(a, cb);
      return;
    }
    if (cb === undefined) {
      this.#exitSignal(ca, b, { reason: 'noproc', message: `${formatPid(b)} was not alive when linked` });
      return;
    }
    if (ca === cb) return;
    this.#linkCells(ca, cb);
  }

  /** Removes a link in both directions. */
  unlink(a: Pid, b: Pid): void {
    const ca = this.#lookup(a);
    const cb = this.#lookup(b);
    const wasLinked = ca?.links.delete(pidKey(b)) === true;
    cb?.links.delete(pidKey(a));
    if (wasLinked && isPid(b) && b.node !== this.node) this.#router?.unlink(a, b);
  }

  /**
   * Monitors `target`. The watcher is told once when it ends, or at once with `noproc` when it is
   * not alive. Returns the monitor's ref.
   */
  monitor(target: Pid | string, notify: MonitorTarget): string {
    const ref = `${this.incarnation.toString(36)}.m${this.#nextRef++}`;
    const found = this.#resolve(target);
    const watcher = notify.kind === 'process' ? this.#lookup(notify.watcher) : undefined;
    if (found !== undefined && !(found instanceof ProcessCell)) {
      watcher?.watching.set(ref, pidKey(found));
      this.#router!.monitor(found, ref, notify);
      return ref;
    }
    const cell = found;
    if (cell === undefined) {
      const pid = typeof target === 'string' ? makePid(this.node, this.incarnation, 0) : target;
      const down: Down = {
        ref,
        pid,
        reason: 'noproc',
        message: typeof target === 'string' ? `no process is registered as '${target}'` : `${formatPid(target)} is not alive`,
      };
      queueMicrotask(() => this.#notify(notify, down));
      return ref;
    }
    cell.monitors.set(ref, notify);
    watcher?.watching.set(ref, pidKey(cell.pid));
    this.#monitorIndex.set(ref, { target: cell.pid.id, watcher: watcher?.pid.id });
    return ref;
  }

  /** Cancels a monitor. Returns whether it was still active. */
  demonitor(ref: string): boolean {
    const entry = this.#monitorIndex.get(ref);
    if (entry === undefined) return this.#router?.demonitor(ref) ?? false;
    this.#monitorIndex.delete(ref);
    this.#cells.get(entry.target)?.monitors.delete(ref);
    if (entry.watcher !== undefined) this.#cells.get(entry.watcher)?.watching.delete(ref);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // names

  /**
   * Registers a local name for a live process.
   *
   * @throws CohortError `NAME_TAKEN`, `NOPROC`, `INVALID_ARGUMENT` (bad name, or the process has a name).
   */
  register(name: string, target: Pid): void {
    this.#checkName(name);
    const cell = this.#lookup(target);
    if (cell === undefined) throw noproc(this, target, `it cannot be registered as '${name}'`);
    if (cell.name !== undefined) {
      throw new CohortError('INVALID_ARGUMENT', `${formatPid(cell.pid)} is already registered as '${cell.name}'`);
    }
    cell.name = name;
    this.#names.set(name, cell);
  }

  /** Removes a local name. Returns whether it was registered. */
  unregister(name: string): boolean {
    const cell = this.#names.get(name);
    if (cell === undefined) return false;
    this.#names.delete(name);
    cell.name = undefined;
    return true;
  }

  /** The pid registered under a local name, if any. */
  whereis(name: string): Pid | undefined {
    return this.#names.get(name)?.pid;
  }

  /** Every local name, sorted. */
  registered(): string[] {
    return [...this.#names.keys()].sort();
  }

  // ---------------------------------------------------------------------------------------------
  // shutdown

  /**
   * Stops every process: top-level ones (not linked to a parent) in reverse start order, each with
   * reason `shutdown` and `timeoutMs` to finish; supervisors stop their own children. Whatever is
   * left is killed. After it, spawn fails with `NODE_STOPPED`.
   */
  async close(timeoutMs: number = RUNTIME_DEFAULTS.stopTimeoutMs): Promise<void> {
    this.#closed = true;
    const roots = [...this.#cells.values()].filter((c) => c.parent === undefined || !this.isAlive(c.parent)).reverse();
    for (const cell of roots) {
      if (cell.alive) await this.stop(cell.pid, 'shutdown', timeoutMs).catch(() => {});
    }
    for (const cell of [...this.#cells.values()].reverse()) cell.kill({ reason: 'shutdown', message: 'node stopped' });
    for (const [tag] of this.#pending) {
      this.#take(tag)!.done(false, new CohortError('NODE_STOPPED', 'the node stopped before the call was answered'));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // CellHost

  isWaiting(tag: number): boolean {
    return this.#pending.has(tag);
  }

  settle(tag: number, ok: boolean, value: unknown): void {
    this.#take(tag)?.done(ok, value);
  }

  /**
   * Takes waiting call `tag` out of the table, out of what its process owes, and off its deadline
   * (if it has not fired); `undefined` when it no longer waits. Every way a call ends goes through
   * here, and then answers (or gives up on) it.
   */
  #take(tag: number): PendingCall | undefined {
    const call = this.#pending.get(tag);
    if (call === undefined) return undefined;
    this.#pending.delete(tag);
    call.cell.owed.delete(tag);
    call.cancel();
    return call;
  }

  dropped(pid: Pid | string, kind: Envelope['kind'], why: string, error?: CohortError): void {
    this.logger.debug('message dropped', { pid: typeof pid === 'string' ? pid : formatPid(pid), kind, why });
    this.#events.emit('dropped', error === undefined ? { pid, kind, why } : { pid, kind, why, error });
  }

  exited(cell: ProcessCell, exit: Exit): void {
    this.#cells.delete(cell.pid.id);
    if (cell.name !== undefined && this.#names.get(cell.name) === cell) this.#names.delete(cell.name);
    for (const [ref] of cell.watching) this.demonitor(ref);
    for (const [ref, notify] of cell.monitors) {
      this.#monitorIndex.delete(ref);
      const down: Down = exit.message === undefined ? { ref, pid: cell.pid, reason: exit.reason } : { ref, pid: cell.pid, reason: exit.reason, message: exit.message };
      this.#notify(notify, down);
    }
    cell.monitors.clear();
    const linked = [...cell.links.values()];
    cell.links.clear();
    for (const pid of linked) {
      if (pid.node !== this.node) {
        this.#router?.exit(cell.pid, pid, exit);
        continue;
      }
      const other = this.#lookup(pid);
      if (other === undefined) continue;
      other.links.delete(pidKey(cell.pid));
      this.#exitSignal(other, cell.pid, exit);
    }
    this.#events.emit('exit', { pid: cell.pid, exit });
  }

  // ---------------------------------------------------------------------------------------------
  // internals

  #deliver(target: Pid | string, entry: Envelope): void {
    const found = this.#resolve(target);
    if (found !== undefined && !(found instanceof ProcessCell)) {
      if (entry.kind === 'cast') this.#router!.cast(found, entry.message);
      else this.#router!.send(found, entry.message);
      return;
    }
    const cell = found;
    if (cell === undefined || !cell.deliver(entry)) {
      this.dropped(target, entry.kind, 'no such process');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // what the router reports

  /** Delivers the down of a monitor set up through the router. */
  notifyDown(notify: MonitorTarget, down: Down): void {
    this.#notify(notify, down);
  }

  /** A process of another node linked itself to local `local`; false when `local` is not alive. */
  linkFromRemote(local: Pid, remote: Pid): boolean {
    const cell = this.#lookup(local);
    if (cell === undefined) return false;
    cell.links.set(pidKey(remote), remote);
    return true;
  }

  /** A process of another node removed its link to local `local`. */
  unlinkFromRemote(local: Pid, remote: Pid): void {
    this.#lookup(local)?.links.delete(pidKey(remote));
  }

  /**
   * A process of another node linked to local `local` ended (or its node went down): `local` gets
   * the exit signal. Returns whether the link was still there.
   */
  exitFromRemote(local: Pid, remote: Pid, exit: Exit): boolean {
    const cell = this.#lookup(local);
    if (cell === undefined || !cell.links.delete(pidKey(remote))) return false;
    this.#exitSignal(cell, remote, exit);
    return true;
  }

  #notify(notify: MonitorTarget, down: Down): void {
    if (notify.kind === 'callback') {
      try {
        notify.fn(down);
      } catch (error) {
        this.logger.warn('monitor callback threw', { ref: down.ref, error: String(error) });
      }
      return;
    }
    const watcher = this.#lookup(notify.watcher);
    watcher?.watching.delete(down.ref);
    watcher?.deliver({ kind: 'info', message: { type: '$down', ...down } });
  }

  #exitSignal(target: ProcessCell, from: Pid, exit: Exit): void {
    if (target.trapExit) {
      const message = exit.message === undefined ? { type: '$exit', pid: from, reason: exit.reason } : { type: '$exit', pid: from, reason: exit.reason, message: exit.message };
      target.deliver({ kind: 'info', message });
      return;
    }
    if (exit.reason === 'normal') return;
    target.kill({
      reason: exit.reason,
      message: `linked process ${formatPid(from)} exited (${exit.reason}${exit.message !== undefined ? `: ${exit.message}` : ''})`,
    });
  }

  #linkCells(a: ProcessCell, b: ProcessCell): void {
    a.links.set(pidKey(b.pid), b.pid);
    b.links.set(pidKey(a.pid), a.pid);
  }

  #unlinkAll(cell: ProcessCell): void {
    for (const pid of cell.links.values()) this.#lookup(pid)?.links.delete(pidKey(cell.pid));
    cell.links.clear();
  }

  /**
   * A local cell, or the pid of a process of another node when a router is set (also for a name
   * this node does not know but the router does), or undefined.
   */
  #resolve(target: Pid | string): ProcessCell | Pid | undefined {
    if (typeof target === 'string') {
      const cell = this.#names.get(target);
      if (cell !== undefined || this.#router === undefined) return cell;
      const pid = this.#router.whereis(target);
      return pid === undefined ? undefined : this.#resolve(pid);
    }
    if (isPid(target) && target.node !== this.node && this.#router !== undefined) return target;
    return this.#lookup(target);
  }

  #lookup(target: Pid | string): ProcessCell | undefined {
    if (typeof target === 'string') return this.#names.get(target);
    if (!isPid(target)) return undefined;
    if (target.node !== this.node || target.incarnation !== this.incarnation) return undefined;
    const cell = this.#cells.get(target.id);
    return cell?.alive === true ? cell : undefined;
  }

  #checkName(name: unknown): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX) {
      throw new CohortError('INVALID_ARGUMENT', `invalid process name ${describe(name)}: expected a non-empty string of at most ${NAME_MAX} characters`);
    }
    const holder = this.#names.get(name);
    if (holder !== undefined) {
      throw new CohortError('NAME_TAKEN', `the name '${name}' is already registered to ${formatPid(holder.pid)}`, {
        details: { name, pid: holder.pid },
      });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new CohortError('NODE_STOPPED', `node ${this.node} is stopped; it cannot start processes`);
  }

  #withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => CohortError): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(onTimeout()), ms, KEEP_ALIVE);
      work.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e);
        },
      );
    });
  }

}
