/**
 * The group table one node holds: which processes of which nodes are in which groups.
 *
 * Membership is a multiset per group: a process that joined twice is listed twice, and a leave
 * removes one of its joins. Every member is filed under its pid's node (its owner), so a node's
 * slice is exactly the memberships of its own processes, and {@link GroupTable.replace} swaps a
 * whole slice for a snapshot. The view (`members`) is the union of all slices in pid order, so it
 * depends only on the slices held, never on the order changes arrived in.
 *
 * Every mutation returns the changes it caused as events (`join` / `leave`, one per group and kind,
 * with each pid repeated once per instance), so the service can report them. The table does no
 * I/O and does not validate untrusted data; `messages.ts` does.
 */
import { pidKey, type NodeId, type Pid } from '../../core/ids.js';
import { comparePids } from '../registry/entry.js';

/** A change of one group: `pids` joined or left it (a pid is repeated once per instance). */
export interface GroupChange {
  readonly type: 'join' | 'leave';
  readonly group: string;
  readonly pids: readonly Pid[];
}

/** One group's members of one owner, as a snapshot lists them (a pid repeated once per join). */
export interface GroupSlice {
  readonly group: string;
  readonly pids: readonly Pid[];
}

interface Member {
  readonly pid: Pid;
  count: number;
}

/** The memberships of every owner and the view they make. */
export class GroupTable {
  /** group → pid key → member (count > 0). */
  readonly #groups = new Map<string, Map<string, Member>>();
  /** owner → group → how many distinct pids of that owner are members. */
  readonly #owned = new Map<NodeId, Map<string, number>>();

  /** The members of a group (pid order, a pid once per join); `[]` for an unknown group. */
  members(group: string): Pid[] {
    return expand([...(this.#groups.get(group)?.values() ?? [])]);
  }

  /** The members of a group that live on `owner`. */
  membersOf(owner: NodeId, group: string): Pid[] {
    return expand([...(this.#groups.get(group)?.values() ?? [])].filter((m) => m.pid.node === owner));
  }

  /** The names of the non-empty groups, sorted. */
  groups(): string[] {
    return [...this.#groups.keys()].sort();
  }

  /** How many times `pid` is in `group`. */
  count(group: string, pid: Pid): number {
    return this.#groups.get(group)?.get(pidKey(pid))?.count ?? 0;
  }

  /** The groups `pid` is in, sorted. */
  groupsOf(pid: Pid): string[] {
    const key = pidKey(pid);
    return [...(this.#owned.get(pid.node)?.keys() ?? [])].filter((g) => this.#groups.get(g)?.has(key) === true).sort();
  }

  /** Every membership of `owner`, by group (sorted), as a snapshot carries it. */
  slice(owner: NodeId): GroupSlice[] {
    return [...(this.#owned.get(owner)?.keys() ?? [])].sort().map((group) => ({ group, pids: this.membersOf(owner, group) }));
  }

  /** Adds `n` joins of `pid` to `group`. */
  join(group: string, pid: Pid, n = 1): GroupChange[] {
    if (n <= 0) return [];
    this.#adjust(group, pid, n);
    return [{ type: 'join', group, pids: repeat(pid, n) }];
  }

  /** Removes up to `n` joins of `pid` from `group` (fewer if it has fewer). */
  leave(group: string, pid: Pid, n = 1): GroupChange[] {
    const removed = Math.min(n, this.count(group, pid));
    if (removed <= 0) return [];
    this.#adjust(group, pid, -removed);
    return [{ type: 'leave', group, pids: repeat(pid, removed) }];
  }

  /** Removes `pid` from every group it is in. */
  leaveAll(pid: Pid): GroupChange[] {
    return this.groupsOf(pid).flatMap((group) => this.leave(group, pid, this.count(group, pid)));
  }

  /**
   * Replaces the whole slice of `owner` with `slices`; members of other owners in them are ignored,
   * and a group listed twice adds up. Reports, per group, the pids that left and then those that
   * joined.
   */
  replace(owner: NodeId, slices: readonly GroupSlice[]): GroupChange[] {
    const next = new Map<string, Map<string, Member>>();
    for (const { group, pids } of slices) {
      for (const pid of pids) {
        if (pid.node !== owner) continue;
        let members = next.get(group);
        if (members === undefined) next.set(group, (members = new Map()));
        const member = members.get(pidKey(pid));
        if (member === undefined) members.set(pidKey(pid), { pid, count: 1 });
        else member.count++;
      }
    }
    const changes: GroupChange[] = [];
    const touched = new Set([...(this.#owned.get(owner)?.keys() ?? []), ...next.keys()]);
    for (const group of [...touched].sort()) {
      const before = new Map(
        [...(this.#groups.get(group)?.entries() ?? [])].filter(([, m]) => m.pid.node === owner).map(([k, m]) => [k, m.count]),
      );
      const after = next.get(group) ?? new Map<string, Member>();
      const left: Member[] = [];
      const joined: Member[] = [];
      for (const [key, count] of before) {
        const now = after.get(key)?.count ?? 0;
        if (now < count) left.push({ pid: this.#groups.get(group)!.get(key)!.pid, count: count - now });
      }
      for (const [key, member] of after) {
        const was = before.get(key) ?? 0;
        if (member.count > was) joined.push({ pid: member.pid, count: member.count - was });
      }
      for (const m of left) this.#adjust(group, m.pid, -m.count);
      for (const m of joined) this.#adjust(group, m.pid, m.count);
      if (left.length > 0) changes.push({ type: 'leave', group, pids: expand(left) });
      if (joined.length > 0) changes.push({ type: 'join', group, pids: expand(joined) });
    }
    return changes;
  }

  /** Removes every membership of `owner` (its node went down). */
  drop(owner: NodeId): GroupChange[] {
    return this.replace(owner, []);
  }

  #adjust(group: string, pid: Pid, delta: number): void {
    const key = pidKey(pid);
    let members = this.#groups.get(group);
    if (members === undefined) this.#groups.set(group, (members = new Map()));
    let member = members.get(key);
    if (member === undefined) {
      member = { pid, count: 0 };
      members.set(key, member);
      this.#countOwned(pid.node, group, 1);
    }
    member.count += delta;
    if (member.count <= 0) {
      members.delete(key);
      if (members.size === 0) this.#groups.delete(group);
      this.#countOwned(pid.node, group, -1);
    }
  }

  /** Keeps, per owner and group, how many distinct pids of the owner are members. */
  #countOwned(owner: NodeId, group: string, delta: number): void {
    let owned = this.#owned.get(owner);
    if (owned === undefined) this.#owned.set(owner, (owned = new Map()));
    const n = (owned.get(group) ?? 0) + delta;
    if (n > 0) {
      owned.set(group, n);
    } else {
      owned.delete(group);
      if (owned.size === 0) this.#owned.delete(owner);
    }
  }
}

function repeat(pid: Pid, n: number): Pid[] {
  return Array.from({ length: n }, () => pid);
}

/** Members in pid order, each repeated `count` times. */
function expand(members: readonly Member[]): Pid[] {
  return [...members].sort((a, b) => comparePids(a.pid, b.pid)).flatMap((m) => repeat(m.pid, m.count));
}
