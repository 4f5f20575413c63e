/**
 * The registry table one node holds: every node's claims on names, and the view they resolve to.
 *
 * The table keeps one slice per owner node: the names that node says its processes hold. A claim
 * is always filed under its pid's node, never under the node that relayed it, so a slice can only
 * change through its owner's messages (the service enforces who may send what). The view of a
 * name is the winner of its claims under {@link pickWinner}; it depends only on the set of
 * slices, so two tables holding the same slices show the same view whatever order the changes
 * came in.
 *
 * Every mutation returns the changes of the view it caused (names whose winner appeared, changed
 * or disappeared), in name order, so that the service can emit events. The table does no I/O,
 * holds no clock and never throws on well-typed input; it does not validate untrusted data
 * (see `parseEntry`).
 */
import { samePid, type NodeId, type Pid } from '../../core/ids.js';
import { compareEntries, ownerOf, pickWinner, sameEntry, type Entry } from './entry.js';

/** How the view of one name changed. At least one of `before` and `after` is set, and they differ. */
export interface ViewChange {
  readonly name: string;
  readonly before: Entry | undefined;
  readonly after: Entry | undefined;
}

/** The claims of every owner and the view they resolve to. */
export class RegistryTable {
  /** name → owner → that owner's claim on the name. */
  readonly #byName = new Map<string, Map<NodeId, Entry>>();
  /** owner → the names it claims. */
  readonly #byOwner = new Map<NodeId, Set<string>>();

  /** The winning entry of a name, or `undefined` when nobody claims it. */
  resolve(name: string): Entry | undefined {
    const claims = this.#byName.get(name);
    if (claims === undefined) return undefined;
    let best: Entry | undefined;
    for (const entry of claims.values()) best = best === undefined ? entry : pickWinner(best, entry);
    return best;
  }

  /** Every claim on a name, winner first. */
  claims(name: string): Entry[] {
    return [...(this.#byName.get(name)?.values() ?? [])].sort(compareEntries);
  }

  /** Every claimed name, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  /** The view: every name with its winning entry, in name order. */
  view(): Entry[] {
    const out: Entry[] = [];
    for (const name of this.names()) out.push(this.resolve(name)!);
    return out;
  }

  /** The owners with at least one claim, sorted. */
  owners(): NodeId[] {
    return [...this.#byOwner.keys()].sort();
  }

  /** The claims of one owner, in name order. */
  slice(owner: NodeId): Entry[] {
    const names = [...(this.#byOwner.get(owner) ?? [])].sort();
    return names.map((name) => this.#byName.get(name)!.get(owner)!);
  }

  /** The claim of `owner` on `name`, if any. */
  claimOf(owner: NodeId, name: string): Entry | undefined {
    return this.#byName.get(name)?.get(owner);
  }

  /** The names a pid claims (in its owner's slice), sorted. */
  namesOf(pid: Pid): string[] {
    return this.slice(pid.node)
      .filter((entry) => samePid(entry.pid, pid))
      .map((entry) => entry.name);
  }

  /** Files `entry` in its owner's slice, replacing that owner's earlier claim on the name. */
  put(entry: Entry): ViewChange[] {
    return this.#track([entry.name], () => this.#set(entry));
  }

  /**
   * Removes the claim of `owner` on `name` (only when held by `pid`, if given). Nothing happens
   * when there is no such claim.
   */
  remove(owner: NodeId, name: string, pid?: Pid): ViewChange[] {
    const current = this.claimOf(owner, name);
    if (current === undefined || (pid !== undefined && !samePid(current.pid, pid))) return [];
    return this.#track([name], () => this.#delete(owner, name));
  }

  /**
   * Replaces the whole slice of `owner` with `entries`: its claims missing from them are removed.
   * Entries of other owners are ignored; of two entries for one name, the winner is kept.
   */
  replace(owner: NodeId, entries: readonly Entry[]): ViewChange[] {
    const next = new Map<string, Entry>();
    for (const entry of entries) {
      if (ownerOf(entry) !== owner) continue;
      const other = next.get(entry.name);
      next.set(entry.name, other === undefined ? entry : pickWinner(other, entry));
    }
    const touched = new Set([...(this.#byOwner.get(owner) ?? []), ...next.keys()]);
    return this.#track([...touched], () => {
      for (const name of [...(this.#byOwner.get(owner) ?? [])]) if (!next.has(name)) this.#delete(owner, name);
      for (const entry of next.values()) this.#set(entry);
    });
  }

  /** Removes every claim of `owner` (its node went down). */
  drop(owner: NodeId): ViewChange[] {
    return this.replace(owner, []);
  }

  #set(entry: Entry): void {
    const owner = ownerOf(entry);
    let claims = this.#byName.get(entry.name);
    if (claims === undefined) {
      claims = new Map();
      this.#byName.set(entry.name, claims);
    }
    claims.set(owner, entry);
    let names = this.#byOwner.get(owner);
    if (names === undefined) {
      names = new Set();
      this.#byOwner.set(owner, names);
    }
    names.add(entry.name);
  }

  #delete(owner: NodeId, name: string): void {
    const claims = this.#byName.get(name);
    if (claims !== undefined) {
      claims.delete(owner);
      if (claims.size === 0) this.#byName.delete(name);
    }
    const names = this.#byOwner.get(owner);
    if (names !== undefined) {
      names.delete(name);
      if (names.size === 0) this.#byOwner.delete(owner);
    }
  }

  /** Runs `mutate` and reports how the view of `names` changed. */
  #track(names: readonly string[], mutate: () => void): ViewChange[] {
    const before = new Map(names.map((name) => [name, this.resolve(name)]));
    mutate();
    const changes: ViewChange[] = [];
    for (const name of [...before.keys()].sort()) {
      const was = before.get(name);
      const now = this.resolve(name);
      if (was === undefined && now === undefined) continue;
      if (was !== undefined && now !== undefined && sameEntry(was, now)) continue;
      changes.push({ name, before: was, after: now });
    }
    return changes;
  }
}
