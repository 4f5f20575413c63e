/**
 * One registration of a cluster-wide name, and the rule that picks the winner when two
 * registrations of the same name meet.
 *
 * A registration is plain frozen data: the name, the pid holding it and `registeredAt`, the
 * wall-clock milliseconds stamped by the pid's own node (its owner) at register time. The rule
 * is a total order: the earlier `registeredAt` wins, then the lower owner node id, then the lower
 * pid incarnation and pid id. Every node applies the same order, so every node picks the same
 * winner from the same claims, whatever order they arrived in ({@link pickWinner} is
 * commutative, associative and idempotent).
 *
 * It does not judge whether a clock was right: a node whose wall clock runs early wins more
 * conflicts. It does not validate names against any policy beyond "a non-empty string of at most
 * {@link MAX_NAME_LENGTH} characters".
 */
import { isPid, makePid, type NodeId, type Pid } from '../../core/ids.js';

/** The longest name the registry accepts (in UTF-16 code units). */
export const MAX_NAME_LENGTH = 255;

/** One registration, as held in every node's table and as it travels on the wire. */
export interface Entry {
  readonly name: string;
  readonly pid: Pid;
  /** Wall-clock milliseconds at which the owner node registered the name. */
  readonly registeredAt: number;
}

/** Makes a frozen entry (normalising `-0` to `0`, so equal entries are equal in every sense). */
export function makeEntry(name: string, pid: Pid, registeredAt: number): Entry {
  return Object.freeze({ name, pid: makePid(pid.node, pid.incarnation, pid.id), registeredAt: registeredAt + 0 });
}

/** The node that is the authority for an entry: the node its pid lives on. */
export function ownerOf(entry: Entry): NodeId {
  return entry.pid.node;
}

/** Whether a value is an acceptable registry name. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}

/**
 * Reads an entry from untrusted data (a peer's message). Returns a fresh frozen entry without any
 * extra fields, or a string saying what was wrong.
 */
export function parseEntry(value: unknown): Entry | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'an entry must be an object';
  const v = value as Partial<Record<keyof Entry, unknown>>;
  if (!isName(v.name)) return `an entry's name must be a string of 1-${MAX_NAME_LENGTH} characters`;
  if (!isPid(v.pid)) return `the entry for ${JSON.stringify(v.name)} has no valid pid`;
  if (typeof v.registeredAt !== 'number' || !Number.isFinite(v.registeredAt)) {
    return `the entry for ${JSON.stringify(v.name)} has no finite registeredAt`;
  }
  return makeEntry(v.name, v.pid, v.registeredAt);
}

/** Orders pids by node id, then incarnation, then id. */
export function comparePids(a: Pid, b: Pid): number {
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/**
 * The conflict order: negative when `a` beats `b`. Earlier `registeredAt`, then lower owner node
 * id, then lower incarnation and pid id, then (for a total order over entries of different names)
 * the name. Zero only for entries equal in every field.
 */
export function compareEntries(a: Entry, b: Entry): number {
  if (a.registeredAt !== b.registeredAt) return a.registeredAt < b.registeredAt ? -1 : 1;
  const byPid = comparePids(a.pid, b.pid);
  if (byPid !== 0) return byPid;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/**
 * The merge of two claims on one name: the winner under {@link compareEntries}.
 *
 * @example
 * pickWinner(makeEntry('leader', p1, 10), makeEntry('leader', p2, 5)) // the entry of p2 (earlier)
 */
export function pickWinner(a: Entry, b: Entry): Entry {
  return compareEntries(a, b) <= 0 ? a : b;
}

/** Whether two entries are the same registration (same name, pid and time). */
export function sameEntry(a: Entry, b: Entry): boolean {
  return compareEntries(a, b) === 0;
}
