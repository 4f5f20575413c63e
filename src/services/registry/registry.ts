/**
 * The global registry: cluster-wide unique names for processes, readable on every node from a
 * local table.
 *
 * Each node is the authority for the names of its own processes. `register` commits on the
 * process's node and broadcasts the entry; when a name is dropped there (unregister, the process
 * exits, it loses a conflict) the owner broadcasts that too. When a peer comes up (joins, or its
 * link comes back) each side sends it a snapshot of everything it owns and asks for the peer's in
 * return; the receiver replaces the sender's slice with it, which heals whatever was lost while the
 * link was down, also when only one side saw the other go down. When a peer
 * goes down its names disappear. A message from a node can only change that node's own slice.
 *
 * Guarantees: every node resolves the same claims to the same owner (earliest `registeredAt`,
 * then lowest node id, then pid; see `entry.ts`), so once messages stop, all connected nodes show
 * the same names. The loser of a conflict is settled by its own node: its process is exited with
 * reason `name_conflict`, or, if it was registered with `onConflict`, the callback runs instead
 * and the process keeps running without the name.
 *
 * Not guaranteed: a name is not locked cluster-wide before it is granted (two nodes can grant it
 * at once; the conflict rule settles it afterwards, as OTP `global` does after a netsplit). Lookups
 * may be stale by one message delay. It relies on the port delivering each peer's messages in order
 * (or not at all, followed by an `up` event).
 */
import type { Clock } from '../../core/clock.js';
import { CohortError } from '../../core/errors.js';
import { Emitter, type Events, type Listener, type Unsubscribe } from '../../core/events.js';
import { formatPid, isPid, samePid, type NodeId, type Pid } from '../../core/ids.js';
import { childLogger, type Logger } from '../../core/logger.js';
import { channel, type Channel, type ClusterPort, type PeerEvent, type ProcessPort } from '../ports.js';
import { isName, makeEntry, MAX_NAME_LENGTH, sameEntry, type Entry } from './entry.js';
import { parseRegistryMessage, REGISTRY_MESSAGE, type RegistryMessage } from './messages.js';
import { RegistryTable, type ViewChange } from './table.js';

/** Two registrations of one name met; `winner` keeps it. */
export interface NameConflict {
  readonly name: string;
  readonly winner: Pid;
  readonly loser: Pid;
}

/** Options of {@link Registry.register}. */
export interface RegisterOptions {
  /**
   * Called (on the loser's node) instead of exiting the process when this registration loses a
   * conflict; the process keeps running without the name. @default undefined: the process exits
   * with reason `name_conflict`.
   */
  readonly onConflict?: (conflict: NameConflict) => void;
}

/** The events of a {@link Registry}, by name. Each payload carries its name as `type`. */
export interface RegistryEvents {
  /** A name now resolves to `pid` on this node (registered here or elsewhere, or won a conflict). */
  registered: { readonly type: 'registered'; readonly name: string; readonly pid: Pid; readonly registeredAt: number };
  /** A name no longer resolves to `pid` on this node. */
  unregistered: { readonly type: 'unregistered'; readonly name: string; readonly pid: Pid };
  /** A registration of this node lost a conflict (emitted on the loser's node only). */
  conflict: { readonly type: 'conflict' } & NameConflict;
}

/** Any registry event. */
export type RegistryEvent = RegistryEvents[keyof RegistryEvents];

/** Options of the {@link Registry} service. */
export interface RegistryOptions {
  /** How the registry talks to other nodes. */
  readonly cluster: ClusterPort;
  /** How the registry sees and ends this node's processes. */
  readonly processes: ProcessPort;
}

/** The global registry of one node. */
export class Registry implements Events<RegistryEvents> {
  readonly #cluster: ClusterPort;
  readonly #processes: ProcessPort;
  readonly #self: NodeId;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #channel: Channel<RegistryMessage>;
  readonly #table = new RegistryTable();
  /** The `onConflict` callbacks of this node's registrations, by name. */
  readonly #hooks = new Map<string, { readonly pid: Pid; readonly onConflict: (c: NameConflict) => void }>();
  readonly #emitter: Emitter<RegistryEvents>;
  readonly #subscriptions: Unsubscribe[];
  #closed = false;

  /**
   * Starts the registry of a node: handles `'registry'` messages, follows peers and local exits,
   * and asks the peers already up for their names.
   *
   * @throws CohortError `INVALID_ARGUMENT` when the port already has a `'registry'` handler.
   * @example
   * const registry = new Registry({ cluster: clusterPort, processes: processPort });
   */
  constructor(options: RegistryOptions) {
    this.#cluster = options.cluster;
    this.#processes = options.processes;
    this.#self = options.cluster.id;
    this.#clock = options.cluster.clock;
    this.#log = childLogger(options.cluster.logger, { service: 'registry' });
    this.#channel = channel(options.cluster, REGISTRY_MESSAGE, this.#log, 'registry');
    this.#emitter = new Emitter((error, type) => this.#log.warn('registry event listener threw', { type, error: String(error) }));
    this.#subscriptions = [
      this.#cluster.handle(REGISTRY_MESSAGE, (from, body) => this.#receive(from, body)),
      this.#cluster.onPeer((event) => this.#guard('peer event', () => this.#peer(event))),
      this.#processes.onExit((pid) => this.#guard('process exit', () => this.#exited(pid))),
    ];
    for (const peer of this.#cluster.peers()) this.#sendSnapshot(peer, true);
  }

  /**
   * Registers `name` for a live process of this node and broadcasts it to every peer.
   *
   * Resolves once the name is in this node's table and the broadcast is sent. Registering a name
   * the same process already holds resolves without change. If another node granted the same name
   * at about the same time, the conflict rule decides later (see {@link RegisterOptions}).
   *
   * @throws CohortError `INVALID_ARGUMENT` for a bad name or pid, or a pid of another node (register
   *   it on its own node); `NOPROC` when the process is not alive; `NAME_TAKEN` when the name is
   *   held by another process (details: `name`, `pid`); `NODE_STOPPED` after {@link close}.
   * @example
   * await node.registry.register('leader', ref);
   * await node.registry.register('cache', ref, { onConflict: ({ winner }) => log(`lost to ${winner}`) });
   */
  async register(name: string, ref: Pid, options: RegisterOptions = {}): Promise<void> {
    this.#open();
    checkName(name);
    if (!isPid(ref)) throw new CohortError('INVALID_ARGUMENT', `register: expected a pid for ${JSON.stringify(name)}`, { details: { name } });
    const onConflict = options.onConflict;
    if (onConflict !== undefined && typeof onConflict !== 'function') {
      throw new CohortError('INVALID_ARGUMENT', 'register: options.onConflict must be a function');
    }
    if (ref.node !== this.#self) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `register: ${formatPid(ref)} belongs to node ${ref.node}; a node registers only its own processes, so register it there`,
        { details: { name, pid: ref } },
      );
    }
    if (!this.#processes.isAlive(ref)) {
      throw new CohortError('NOPROC', `register: no live process ${formatPid(ref)} to register as ${JSON.stringify(name)}`, {
        details: { name, pid: ref },
      });
    }
    const changes: ViewChange[] = [];
    const current = this.#table.resolve(name);
    if (current !== undefined && current.pid.node === this.#self && !this.#processes.isAlive(current.pid)) {
      // A local holder that died without its exit being seen: drop it rather than refuse forever.
      changes.push(...this.#dropLocal(name, current.pid));
    } else if (current !== undefined && samePid(current.pid, ref)) {
      if (onConflict !== undefined) this.#hooks.set(name, { pid: ref, onConflict });
      return;
    } else if (current !== undefined) {
      throw new CohortError('NAME_TAKEN', `the name ${JSON.stringify(name)} is already registered to ${formatPid(current.pid)}`, {
        details: { name, pid: current.pid },
      });
    }
    const entry = makeEntry(name, ref, this.#clock.wallTime());
    changes.push(...this.#table.put(entry));
    if (onConflict !== undefined) this.#hooks.set(name, { pid: ref, onConflict });
    this.#channel.broadcast({ type: 'add', entry });
    this.#emitChanges(changes);
  }

  /**
   * Drops a name cluster-wide. On the owner's node the name is removed at once and the removal
   * broadcast; on any other node the owner is asked to remove it (only if the same process still
   * holds it), and this node's table follows when the owner's broadcast arrives. A request lost
   * with a broken link is lost: the caller may retry.
   *
   * @returns `true` when the name was registered (removed here, or its owner asked), `false` when
   *   this node's table does not hold it.
   * @throws CohortError `INVALID_ARGUMENT` for a bad name; `NODE_STOPPED` after {@link close}.
   * @example
   * node.registry.unregister('leader'); // true
   */
  unregister(name: string): boolean {
    this.#open();
    checkName(name);
    const entry = this.#table.resolve(name);
    if (entry === undefined) return false;
    if (entry.pid.node === this.#self) {
      this.#emitChanges(this.#dropLocal(name, entry.pid));
    } else {
      this.#channel.send(entry.pid.node, { type: 'unregister', name, pid: entry.pid });
    }
    return true;
  }

  /**
   * The pid a name resolves to in this node's table (no network), or `undefined`.
   *
   * @throws CohortError `INVALID_ARGUMENT` when `name` is not a string.
   * @example
   * const leader = node.registry.whereis('leader');
   */
  whereis(name: string): Pid | undefined {
    if (typeof name !== 'string') throw new CohortError('INVALID_ARGUMENT', `whereis: expected a name string, got ${typeof name}`);
    return this.#table.resolve(name)?.pid;
  }

  /**
   * Every registered name in this node's table, sorted.
   *
   * @example
   * node.registry.names(); // ['cache', 'leader']
   */
  names(): string[] {
    return this.#table.names();
  }

  /**
   * Every registration in this node's table (name, pid, registeredAt), in name order.
   *
   * @example
   * for (const { name, pid } of node.registry.entries()) console.log(name, formatPid(pid));
   */
  entries(): Entry[] {
    return this.#table.view();
  }

  /**
   * Calls `fn` for every `type` event from now on; returns the unsubscribe function.
   *
   * @example
   * const off = node.registry.on('conflict', ({ name, winner }) => log(name, winner));
   */
  on<K extends keyof RegistryEvents & string>(type: K, fn: Listener<RegistryEvents[K]>): Unsubscribe {
    return this.#emitter.on(type, fn);
  }

  /** Like {@link on}, for the next event only. */
  once<K extends keyof RegistryEvents & string>(type: K, fn: Listener<RegistryEvents[K]>): Unsubscribe {
    return this.#emitter.once(type, fn);
  }

  /**
   * Stops following the cluster and local processes, and removes every listener. Peers drop this
   * node's names when they see it go down; nothing is broadcast. Calling it twice does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#subscriptions) off();
    this.#emitter.clear();
    this.#hooks.clear();
  }

  #open(): void {
    if (this.#closed) throw new CohortError('NODE_STOPPED', `the registry of node ${this.#self} is closed`);
  }

  /** Handles a message from a peer; nothing a peer sends can throw out of here. */
  #receive(from: NodeId, body: unknown): void {
    this.#guard('message', () => {
      if (this.#closed) return;
      if (from === this.#self) {
        this.#log.warn('ignored a registry message claiming to come from this node');
        return;
      }
      const message = parseRegistryMessage(body);
      if (typeof message === 'string') {
        this.#log.warn('ignored a malformed registry message', { from, reason: message });
        return;
      }
      this.#apply(from, message);
    });
  }

  #apply(from: NodeId, message: RegistryMessage): void {
    switch (message.type) {
      case 'add': {
        if (message.entry.pid.node !== from) return this.#ignore(from, message, message.entry.pid, 'the sender does not own');
        return this.#settle(this.#table.put(message.entry), [message.entry.name]);
      }
      case 'remove': {
        if (message.pid.node !== from) return this.#ignore(from, message, message.pid, 'the sender does not own');
        return this.#emitChanges(this.#table.remove(from, message.name, message.pid));
      }
      case 'snapshot': {
        const own = message.entries.filter((entry) => entry.pid.node === from);
        if (own.length < message.entries.length) {
          this.#log.warn('ignored snapshot entries the sender does not own', { from, ignored: message.entries.length - own.length });
        }
        this.#settle(this.#table.replace(from, own), own.map((entry) => entry.name));
        if (message.reply) this.#sendSnapshot(from, false);
        return;
      }
      case 'unregister': {
        if (message.pid.node !== this.#self) return this.#ignore(from, message, message.pid, 'this node does not own');
        return this.#emitChanges(this.#dropLocal(message.name, message.pid));
      }
    }
  }

  #ignore(from: NodeId, message: RegistryMessage, pid: Pid, why: string): void {
    this.#log.warn(`ignored a registry '${message.type}' about a process ${why}`, { from, pid: formatPid(pid) });
  }

  /**
   * After remote claims arrived: every name of `names` where this node holds a claim that no
   * longer wins is given up (removed and broadcast), then events are emitted and the losers are
   * exited (or their `onConflict` called).
   */
  #settle(changes: ViewChange[], names: readonly string[]): void {
    const all = [...changes];
    const lost: { conflict: NameConflict; onConflict: ((c: NameConflict) => void) | undefined }[] = [];
    for (const name of new Set(names)) {
      const mine = this.#table.claimOf(this.#self, name);
      const winner = this.#table.resolve(name);
      if (mine === undefined || winner === undefined || sameEntry(mine, winner)) continue;
      const hook = this.#hooks.get(name);
      const onConflict = hook !== undefined && samePid(hook.pid, mine.pid) ? hook.onConflict : undefined;
      all.push(...this.#dropLocal(name, mine.pid));
      lost.push({ conflict: { name, winner: winner.pid, loser: mine.pid }, onConflict });
    }
    this.#emitChanges(all);
    for (const { conflict } of lost) this.#emitter.emit('conflict', { type: 'conflict', ...conflict });
    for (const { conflict, onConflict } of lost) {
      const { name, winner, loser } = conflict;
      this.#log.info('a registration lost a name conflict', { name, winner: formatPid(winner), loser: formatPid(loser) });
      if (onConflict !== undefined) {
        this.#guard('onConflict callback', () => onConflict(conflict));
      } else if (this.#processes.isAlive(loser)) {
        const why = `lost the global name ${JSON.stringify(name)} to ${formatPid(winner)}`;
        this.#guard('exit of a conflict loser', () => this.#processes.exit(loser, 'name_conflict', why));
      }
    }
  }

  /** Removes this node's claim on `name` (if `pid` holds it) and broadcasts the removal. */
  #dropLocal(name: string, pid: Pid): ViewChange[] {
    const mine = this.#table.claimOf(this.#self, name);
    if (mine === undefined || !samePid(mine.pid, pid)) return [];
    const hook = this.#hooks.get(name);
    if (hook !== undefined && samePid(hook.pid, pid)) this.#hooks.delete(name);
    const changes = this.#table.remove(this.#self, name, pid);
    this.#channel.broadcast({ type: 'remove', name, pid });
    return changes;
  }

  #peer(event: PeerEvent): void {
    if (this.#closed || event.node === this.#self) return;
    // Ask for the peer's slice too: the peer may have dropped ours (it saw this node down) and
    // have no reason of its own to send it again, or may not see this node up yet.
    if (event.type === 'up') this.#sendSnapshot(event.node, true);
    else if (event.type === 'down') this.#emitChanges(this.#table.drop(event.node));
  }

  #exited(pid: Pid): void {
    if (this.#closed || pid.node !== this.#self) return;
    const changes: ViewChange[] = [];
    for (const name of this.#table.namesOf(pid)) changes.push(...this.#dropLocal(name, pid));
    this.#emitChanges(changes);
  }

  #emitChanges(changes: readonly ViewChange[]): void {
    for (const { name, before, after } of changes) {
      if (before !== undefined) this.#emitter.emit('unregistered', { type: 'unregistered', name, pid: before.pid });
      if (after !== undefined) {
        this.#emitter.emit('registered', { type: 'registered', name, pid: after.pid, registeredAt: after.registeredAt });
      }
    }
  }

  #sendSnapshot(to: NodeId, reply: boolean): void {
    this.#channel.send(to, { type: 'snapshot', entries: this.#table.slice(this.#self), reply });
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log.error(`registry: ${what} failed`, { error: String(error) });
    }
  }
}

function checkName(name: unknown): asserts name is string {
  if (!isName(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new CohortError('INVALID_ARGUMENT', `invalid registry name ${shown}: expected a string of 1-${MAX_NAME_LENGTH} characters`);
  }
}
