/**
 * The replicated state of a distributed supervisor, as pure data with merge rules.
 *
 * - Child specs: id → spec with a version; any member may write one (start or terminate a child),
 *   and the highest version wins everywhere (last writer wins, versions ordered by wall time,
 *   then a counter, then the writer's node id). A terminated child stays as a tombstone so an old
 *   copy of its spec cannot bring it back. Merging is commutative, associative and idempotent.
 * - Where children run: each member owns its slice (the children it runs now, with their pids)
 *   and replaces it as a whole; a member that goes down loses its slice.
 *
 * Nothing here sends, spawns or decides placement (`supervisor.ts` does).
 */
import type { NodeId, Pid } from '../../core/ids.js';
import { isPid } from '../../core/ids.js';

/** The restart types of a distributed child. */
export const DISTRIBUTED_RESTART = Object.freeze(['permanent', 'transient', 'temporary'] as const);
export type DistributedRestart = (typeof DISTRIBUTED_RESTART)[number];

/** A version: wall time (ms), a counter within it, the writer's node id. */
export type Version = readonly [number, number, NodeId];

/** A replicated child spec (or its tombstone). */
export interface SpecEntry {
  readonly id: string;
  readonly behavior: string;
  readonly args: unknown;
  readonly restart: DistributedRestart;
  /** A node the child is pinned to (it runs there while that node is a member). */
  readonly node: NodeId | null;
  readonly v: Version;
  readonly deleted: boolean;
}

/** A child that runs on the member that sends the entry. */
export interface RunningEntry {
  readonly id: string;
  readonly pid: Pid;
  /** When this instance started (wall ms): of two instances the older stays. */
  readonly since: number;
}

/** Orders versions: negative when `a` is older. */
export function compareVersions(a: Version, b: Version): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

/** Child specs by id, merged by version. */
export class SpecTable {
  readonly #specs = new Map<string, SpecEntry>();

  get(id: string): SpecEntry | undefined {
    return this.#specs.get(id);
  }

  /** The live specs (no tombstones), sorted by id. */
  live(): SpecEntry[] {
    return [...this.#specs.values()].filter((s) => !s.deleted).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every entry, tombstones included. */
  all(): SpecEntry[] {
    return [...this.#specs.values()];
  }

  /** Merges entries; returns those that changed the table. */
  merge(entries: readonly SpecEntry[]): SpecEntry[] {
    const changed: SpecEntry[] = [];
    for (const e of entries) {
      const current = this.#specs.get(e.id);
      if (current !== undefined && compareVersions(current.v, e.v) >= 0) continue;
      this.#specs.set(e.id, e);
      changed.push(e);
    }
    return changed;
  }
}

/** Who runs what: one slice per member. */
export class RunningTable {
  readonly #slices = new Map<NodeId, Map<string, RunningEntry>>();

  /** Replaces `node`'s slice; returns the ids whose entry on that node changed. */
  replace(node: NodeId, entries: readonly RunningEntry[]): string[] {
    const before = this.#slices.get(node) ?? new Map<string, RunningEntry>();
    const after = new Map(entries.map((e) => [e.id, e] as const));
    const changed = new Set<string>();
    for (const [id, e] of before) if (after.get(id)?.pid.id !== e.pid.id || after.get(id)?.pid.incarnation !== e.pid.incarnation) changed.add(id);
    for (const id of after.keys()) if (!before.has(id)) changed.add(id);
    if (after.size === 0) this.#slices.delete(node);
    else this.#slices.set(node, after);
    return [...changed];
  }

  /** Forgets one child of `node`'s slice (that instance is on its way out). */
  forget(node: NodeId, id: string): void {
    this.#slices.get(node)?.delete(id);
  }

  /** Forgets `node`'s slice (it left or went down). */
  drop(node: NodeId): string[] {
    return this.replace(node, []);
  }

  /** The instances of `id`, oldest first (then by node id). */
  runners(id: string): { node: NodeId; pid: Pid; since: number }[] {
    const out: { node: NodeId; pid: Pid; since: number }[] = [];
    for (const [node, slice] of this.#slices) {
      const e = slice.get(id);
      if (e !== undefined) out.push({ node, pid: e.pid, since: e.since });
    }
    return out.sort((a, b) => a.since - b.since || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** `node`'s slice. */
  slice(node: NodeId): RunningEntry[] {
    return [...(this.#slices.get(node) ?? new Map<string, RunningEntry>()).values()];
  }
}

/** The messages members exchange (cluster message type `dsup`). */
export type DsupMessage =
  | { readonly sup: string; readonly type: 'specs'; readonly entries: readonly SpecEntry[] }
  | { readonly sup: string; readonly type: 'running'; readonly entries: readonly RunningEntry[] }
  /** Asks for the sender's whole state (a member that just met this one). */
  | { readonly sup: string; readonly type: 'hello' }
  /** The exported state of a child that moves to the receiver (sent before the old instance stops). */
  | { readonly sup: string; readonly type: 'handoff'; readonly id: string; readonly state: unknown }
  /** The receiver holds the handed-off state of `id`: the old instance may stop now. */
  | { readonly sup: string; readonly type: 'handoffAck'; readonly id: string };

export const DSUP_MESSAGE = 'dsup';
export const MAX_ID_LENGTH = 255;

/** Whether a value is an acceptable child id. */
export function isChildId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

/** Reads a `dsup` message from untrusted data, or says what was wrong. */
export function parseDsupMessage(body: unknown, from: NodeId): DsupMessage | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'a dsup message must be an object';
  const b = body as Record<string, unknown>;
  if (typeof b.sup !== 'string' || b.sup.length === 0 || b.sup.length > MAX_ID_LENGTH) return 'a dsup message needs a supervisor name';
  switch (b.type) {
    case 'hello':
      return { sup: b.sup, type: 'hello' };
    case 'handoff':
      return isChildId(b.id) ? { sup: b.sup, type: 'handoff', id: b.id, state: b.state } : 'handoff: a child id is needed';
    case 'handoffAck':
      return isChildId(b.id) ? { sup: b.sup, type: 'handoffAck', id: b.id } : 'handoffAck: a child id is needed';
    case 'specs': {
      if (!Array.isArray(b.entries)) return 'specs: entries must be an array';
      const entries: SpecEntry[] = [];
      for (const raw of b.entries as unknown[]) {
        const e = parseSpec(raw);
        if (typeof e === 'string') return `specs: ${e}`;
        entries.push(e);
      }
      return { sup: b.sup, type: 'specs', entries };
    }
    case 'running': {
      if (!Array.isArray(b.entries)) return 'running: entries must be an array';
      const entries: RunningEntry[] = [];
      for (const raw of b.entries as unknown[]) {
        if (typeof raw !== 'object' || raw === null) return 'running: an entry must be an object';
        const r = raw as Record<string, unknown>;
        if (!isChildId(r.id) || !isPid(r.pid) || r.pid.node !== from || typeof r.since !== 'number' || !Number.isFinite(r.since)) {
          return 'running: an entry needs a child id, a pid of the sender and a start time';
        }
        entries.push({ id: r.id, pid: r.pid, since: r.since });
      }
      return { sup: b.sup, type: 'running', entries };
    }
    default:
      return `unknown dsup message type ${JSON.stringify(String(b.type)).slice(0, 40)}`;
  }
}

function parseSpec(raw: unknown): SpecEntry | string {
  if (typeof raw !== 'object' || raw === null) return 'a spec must be an object';
  const s = raw as Record<string, unknown>;
  if (!isChildId(s.id)) return 'a spec needs an id of 1-255 characters';
  if (typeof s.behavior !== 'string' || s.behavior.length === 0) return `spec ${s.id}: behavior must be a registered behavior name`;
  if (!DISTRIBUTED_RESTART.includes(s.restart as DistributedRestart)) return `spec ${s.id}: restart must be permanent, transient or temporary`;
  if (s.node !== null && typeof s.node !== 'string') return `spec ${s.id}: node must be a node id or null`;
  const v = s.v;
  if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'number' || typeof v[1] !== 'number' || typeof v[2] !== 'string') return `spec ${s.id}: a malformed version`;
  return { id: s.id, behavior: s.behavior, args: s.args, restart: s.restart as DistributedRestart, node: s.node, v: [v[0], v[1], v[2]], deleted: s.deleted === true };
}
