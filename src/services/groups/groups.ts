/**
 * Process groups with OTP `pg` semantics, replicated to every node.
 *
 * A group is a named multiset of processes from any nodes: a process may join a group several
 * times (it is listed that many times) and each leave removes one join. Each node is the authority
 * for the memberships of its own processes: it broadcasts `join` and `leave` deltas, removes a
 * process from every group when it exits, and sends each peer that comes up (joins, or its link
 * comes back) a snapshot of its whole slice, asking for the peer's in return; the receiver puts it
 * in place of what it held for that node. A node that goes down loses all its memberships on every other node. A message from
 * a node can only change that node's own memberships.
 *
 * Guarantees: lookups (`members`, `localMembers`, `groups`) read the local table, no network;
 * once messages stop, all connected nodes list the same members in the same (pid) order. Every
 * change of the local view is reported to watchers.
 *
 * Not guaranteed: a lookup may be stale by one message delay; `broadcast` is fire-and-forget
 * (delivery is that of the `send` function given). It relies on the port delivering each peer's
 * messages in order (or not at all, followed by an `up` event).
 */
import { CohortError } from '../../core/errors.js';
import { Emitter, type Unsubscribe } from '../../core/events.js';
import { formatPid, isPid, pidKey, type NodeId, type Pid } from '../../core/ids.js';
import { childLogger, type Logger } from '../../core/logger.js';
import { channel, type Channel, type ClusterPort, type PeerEvent, type ProcessPort } from '../ports.js';
import { comparePids } from '../registry/entry.js';
import { GROUPS_MESSAGE, isGroupName, MAX_GROUP_LENGTH, parseGroupsMessage, type GroupsMessage } from './messages.js';
import { GroupTable, type GroupChange } from './table.js';

/** A change of a group as watchers see it: `pids` joined or left (once per instance). */
export type GroupEvent = GroupChange;

/** Options of the {@link Groups} service. */
export interface GroupsOptions {
  /** How the service talks to other nodes. */
  readonly cluster: ClusterPort;
  /** How the service sees this node's processes. */
  readonly processes: ProcessPort;
  /** Delivers a message to a process of any node; used by {@link Groups.broadcast}. */
  readonly send: (pid: Pid, message: unknown) => void;
}

/** The process groups of one node. */
export class Groups {
  readonly #cluster: ClusterPort;
  readonly #processes: ProcessPort;
  readonly #sendTo: (pid: Pid, message: unknown) => void;
  readonly #self: NodeId;
  readonly #log: Logger;
  readonly #channel: Channel<GroupsMessage>;
  readonly #table = new GroupTable();
  readonly #emitter: Emitter<{ change: GroupEvent }>;
  readonly #subscriptions: Unsubscribe[];
  #closed = false;

  /**
   * Starts the groups service of a node: handles `'groups'` messages, follows peers and local
   * exits, and asks the peers already up for their memberships.
   *
   * @throws CohortError `INVALID_ARGUMENT` when the port already has a `'groups'` handler.
   * @example
   * const groups = new Groups({ cluster: clusterPort, processes: processPort, send: (pid, m) => node.send(pid, m) });
   */
  constructor(options: GroupsOptions) {
    if (typeof options.send !== 'function') throw new CohortError('INVALID_ARGUMENT', 'Groups: options.send must be a function');
    this.#cluster = options.cluster;
    this.#processes = options.processes;
    this.#sendTo = options.send;
    this.#self = options.cluster.id;
    this.#log = childLogger(options.cluster.logger, { service: 'groups' });
    this.#channel = channel(options.cluster, GROUPS_MESSAGE, this.#log, 'groups');
    this.#emitter = new Emitter((error) => this.#log.warn('group watcher threw', { error: String(error) }));
    this.#subscriptions = [
      this.#cluster.handle(GROUPS_MESSAGE, (from, body) => this.#receive(from, body)),
      this.#cluster.onPeer((event) => this.#guard('peer event', () => this.#peer(event))),
      this.#processes.onExit((pid) => this.#guard('process exit', () => this.#exited(pid))),
    ];
    for (const peer of this.#cluster.peers()) this.#sendSnapshot(peer, true);
  }

  /**
   * Adds a live process of this node to `group` (once more, if it is already in it) and
   * broadcasts the join. The process leaves every group when it exits.
   *
   * @throws CohortError `INVALID_ARGUMENT` for a bad group name or pid, or a pid of another node
   *   (join it on its own node); `NOPROC` when the process is not alive; `NODE_STOPPED` after
   *   {@link close}.
   * @example
   * node.groups.join('workers', ref);
   */
  join(group: string, ref: Pid): void {
    this.#checkLocal('join', group, ref);
    if (!this.#processes.isAlive(ref)) {
      throw new CohortError('NOPROC', `join: no live process ${formatPid(ref)} to add to group ${JSON.stringify(group)}`, {
        details: { group, pid: ref },
      });
    }
    this.#commit(this.#table.join(group, ref));
  }

  /**
   * Removes one join of a process of this node from `group` and broadcasts it.
   *
   * @returns `true` when a join was removed, `false` when the process is not in the group (a
   *   process that exited has already left every group, so leaving then returns `false`).
   * @throws CohortError `INVALID_ARGUMENT` for a bad group name or pid, or a pid of another node;
   *   `NODE_STOPPED` after {@link close}.
   * @example
   * node.groups.leave('workers', ref); // true
   */
  leave(group: string, ref: Pid): boolean {
    this.#checkLocal('leave', group, ref);
    const changes = this.#table.leave(group, ref);
    this.#commit(changes);
    return changes.length > 0;
  }

  /**
   * The members of a group on every node, from the local table: pid order, a process once per
   * join; `[]` for an empty or unknown group.
   *
   * @throws CohortError `INVALID_ARGUMENT` for a bad group name.
   * @example
   * node.groups.members('workers'); // [pid1, pid2, pid2]
   */
  members(group: string): Pid[] {
    checkGroup('members', group);
    return this.#table.members(group);
  }

  /**
   * The members of a group that live on this node.
   *
   * @throws CohortError `INVALID_ARGUMENT` for a bad group name.
   * @example
   * node.groups.localMembers('workers');
   */
  localMembers(group: string): Pid[] {
    checkGroup('localMembers', group);
    return this.#table.membersOf(this.#self, group);
  }

  /**
   * The names of the groups that have members, sorted.
   *
   * @example
   * node.groups.groups(); // ['cache', 'workers']
   */
  groups(): string[] {
    return this.#table.groups();
  }

  /**
   * Sends `message` once to every distinct member of `group` (a process that joined twice gets it
   * once) through the `send` function given. Fire-and-forget: a failing send is logged and the
   * others still go.
   *
   * @returns how many processes it was handed to.
   * @throws CohortError `INVALID_ARGUMENT` for a bad group name.
   * @example
   * node.groups.broadcast('workers', { type: 'reload' }); // 3
   */
  broadcast(group: string, message: unknown): number {
    checkGroup('broadcast', group);
    const seen = new Set<string>();
    let sent = 0;
    for (const pid of this.#table.members(group)) {
      const key = pidKey(pid);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        this.#sendTo(pid, message);
        sent++;
      } catch (error) {
        this.#log.warn('group broadcast could not send to a member', { group, pid: formatPid(pid), error: String(error) });
      }
    }
    return sent;
  }

  /**
   * Calls `fn` for every change of `group` (every group when `undefined`) in this node's view,
   * from now on: `{ type: 'join' | 'leave', group, pids }`.
   *
   * @returns the unsubscribe function.
   * @throws CohortError `INVALID_ARGUMENT` for a bad group name or a non-function.
   * @example
   * const off = node.groups.watch('workers', (e) => console.log(e.type, e.pids.length));
   */
  watch(group: string | undefined, fn: (event: GroupEvent) => void): Unsubscribe {
    if (group !== undefined) checkGroup('watch', group);
    if (typeof fn !== 'function') throw new CohortError('INVALID_ARGUMENT', 'watch: the listener must be a function');
    return this.#emitter.on('change', (event) => {
      if (group === undefined || event.group === group) fn(event);
    });
  }

  /**
   * Stops following the cluster and local processes, and removes every watcher. Peers drop this
   * node's memberships when they see it go down; nothing is broadcast. Calling it twice does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#subscriptions) off();
    this.#emitter.clear();
  }

  #checkLocal(op: string, group: string, ref: Pid): void {
    if (this.#closed) throw new CohortError('NODE_STOPPED', `the groups service of node ${this.#self} is closed`);
    checkGroup(op, group);
    if (!isPid(ref)) throw new CohortError('INVALID_ARGUMENT', `${op}: expected a pid for group ${JSON.stringify(group)}`, { details: { group } });
    if (ref.node !== this.#self) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `${op}: ${formatPid(ref)} belongs to node ${ref.node}; a node changes the groups of its own processes only, so ${op} there`,
        { details: { group, pid: ref } },
      );
    }
  }

  /** Broadcasts and reports local changes. */
  #commit(changes: readonly GroupChange[]): void {
    for (const change of changes) this.#channel.broadcast({ type: change.type, group: change.group, pids: change.pids });
    this.#emit(changes);
  }

  /** Handles a message from a peer; nothing a peer sends can throw out of here. */
  #receive(from: NodeId, body: unknown): void {
    this.#guard('message', () => {
      if (this.#closed) return;
      if (from === this.#self) {
        this.#log.warn('ignored a groups message claiming to come from this node');
        return;
      }
      const message = parseGroupsMessage(body);
      if (typeof message === 'string') {
        this.#log.warn('ignored a malformed groups message', { from, reason: message });
        return;
      }
      this.#apply(from, message);
    });
  }

  #apply(from: NodeId, message: GroupsMessage): void {
    if (message.type === 'snapshot') {
      const groups = message.groups.map(({ group, pids }) => ({ group, pids: this.#own(from, pids) }));
      this.#emit(this.#table.replace(from, groups));
      if (message.reply) this.#sendSnapshot(from, false);
      return;
    }
    const counts = new Map<string, { pid: Pid; n: number }>();
    for (const pid of this.#own(from, message.pids)) {
      const c = counts.get(pidKey(pid));
      if (c === undefined) counts.set(pidKey(pid), { pid, n: 1 });
      else c.n++;
    }
    const changes: GroupChange[] = [];
    for (const { pid, n } of counts.values()) {
      changes.push(...(message.type === 'join' ? this.#table.join(message.group, pid, n) : this.#table.leave(message.group, pid, n)));
    }
    this.#emit(coalesce(changes));
  }

  /** The pids the sender owns; the others are dropped with a warning. */
  #own(from: NodeId, pids: readonly Pid[]): Pid[] {
    const own = pids.filter((pid) => pid.node === from);
    if (own.length < pids.length) this.#log.warn('ignored group members the sender does not own', { from, ignored: pids.length - own.length });
    return own;
  }

  #peer(event: PeerEvent): void {
    if (this.#closed || event.node === this.#self) return;
    // Ask for the peer's slice too: the peer may have dropped ours (it saw this node down) and
    // have no reason of its own to send it again, or may not see this node up yet.
    if (event.type === 'up') this.#sendSnapshot(event.node, true);
    else if (event.type === 'down') this.#emit(this.#table.drop(event.node));
  }

  #exited(pid: Pid): void {
    if (this.#closed || pid.node !== this.#self) return;
    this.#commit(this.#table.leaveAll(pid));
  }

  #emit(changes: readonly GroupChange[]): void {
    for (const change of changes) this.#emitter.emit('change', change);
  }

  #sendSnapshot(to: NodeId, reply: boolean): void {
    this.#channel.send(to, { type: 'snapshot', groups: this.#table.slice(this.#self), reply });
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log.error(`groups: ${what} failed`, { error: String(error) });
    }
  }
}

function checkGroup(op: string, group: unknown): asserts group is string {
  if (!isGroupName(group)) {
    const shown = typeof group === 'string' ? JSON.stringify(group.slice(0, 40)) : typeof group;
    throw new CohortError('INVALID_ARGUMENT', `${op}: invalid group name ${shown}: expected a string of 1-${MAX_GROUP_LENGTH} characters`);
  }
}

/** Merges changes of the same group and kind into one (pids in pid order). */
function coalesce(changes: readonly GroupChange[]): GroupChange[] {
  const merged = new Map<string, { type: GroupChange['type']; group: string; pids: Pid[] }>();
  for (const c of changes) {
    const key = `${c.type}\u0000${c.group}`;
    const m = merged.get(key);
    if (m === undefined) merged.set(key, { type: c.type, group: c.group, pids: [...c.pids] });
    else m.pids.push(...c.pids);
  }
  return [...merged.values()].map((m) => ({ type: m.type, group: m.group, pids: m.pids.sort(comparePids) }));
}
