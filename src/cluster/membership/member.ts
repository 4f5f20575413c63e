/**
 * Members and the SWIM precedence rules that decide which of two records about one member wins.
 *
 * A member record is `{ id, incarnation, status, meta }`. Only the member itself ever raises its
 * incarnation (to refute a suspicion, to change its meta, or to leave); other nodes only change
 * the status they hold for it. {@link compareMembers} orders two records about the same member:
 *
 * - a higher incarnation always wins (a refutation, a meta change or a new run overrides any older
 *   claim, including `dead` and `left`, so a member that comes back with a higher incarnation is
 *   alive again);
 * - at the same incarnation, `alive` < `suspect` < `dead` < `left`: a suspicion beats the `alive`
 *   it is about, a death beats a suspicion (memberlist's and SWIM's rules), and an intentional
 *   `left` beats a `dead` declared at the same incarnation;
 * - records equal in both are ordered by their meta (a canonical string), a tie that honest nodes
 *   never produce but that keeps the order total.
 *
 * Because the order is total, {@link merge} (keep the greater) is a join: commutative, associative
 * and idempotent, so every node that has seen the same set of records holds the same one,
 * whatever the order they arrived in. What this module does not decide: how a node refutes claims
 * about itself, or that a full-state sync softens `dead` to `suspect` (see `swim.ts`).
 */
import { CohortError, describe } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';

/** The statuses of a member, by name. */
export const MEMBER_STATUS = Object.freeze({
  /** Answering probes (as far as this node knows). */
  alive: 'alive',
  /** A probe went unanswered; it becomes `dead` after the suspicion timeout unless it refutes. */
  suspect: 'suspect',
  /** Declared failed. It is alive again only with a higher incarnation (a refutation or a new run). */
  dead: 'dead',
  /** Left on purpose. Like `dead`, only a higher incarnation brings it back. */
  left: 'left',
} as const);

/** A member's status. See {@link MEMBER_STATUS}. */
export type MemberStatus = (typeof MEMBER_STATUS)[keyof typeof MEMBER_STATUS];

/** Small key/value facts that travel with a member's record. */
export type MemberMeta = Readonly<Record<string, string>>;

/** One member of the cluster as one node sees it. Records are frozen plain data. */
export interface Member {
  readonly id: NodeId;
  /** Raised only by the member itself; orders records about it. A non-negative safe integer. */
  readonly incarnation: number;
  readonly status: MemberStatus;
  readonly meta: MemberMeta;
}

/** The precedence of statuses at equal incarnation. */
const STATUS_RANK: Readonly<Record<MemberStatus, number>> = Object.freeze({ alive: 0, suspect: 1, dead: 2, left: 3 });

/** Every status, in precedence order. */
export const MEMBER_STATUSES: readonly MemberStatus[] = Object.freeze(['alive', 'suspect', 'dead', 'left']);

/** Whether a value is one of the {@link MEMBER_STATUSES}. */
export function isMemberStatus(value: unknown): value is MemberStatus {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(STATUS_RANK, value);
}

/** Whether a member counts as up (`alive` or `suspect`): it is probed and counted in the cluster size. */
export function isUp(member: Member | undefined): boolean {
  return member !== undefined && (member.status === 'alive' || member.status === 'suspect');
}

/** The most keys a member's meta may have. */
export const MAX_META_KEYS = 32;
/** The most bytes a member's meta may take: the UTF-8 lengths of all keys and values, summed. */
export const MAX_META_BYTES = 1024;
/** The longest meta key, in characters. */
const MAX_META_KEY_LENGTH = 128;

/**
 * Why `meta` is not acceptable, or `undefined` when it is: a plain object with at most
 * {@link MAX_META_KEYS} string values, non-empty keys of at most 128 characters (never
 * `__proto__`), and at most {@link MAX_META_BYTES} bytes of keys and values in UTF-8.
 */
export function metaProblem(meta: unknown): string | undefined {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return `meta must be an object, got ${describe(meta)}`;
  const proto = Object.getPrototypeOf(meta) as unknown;
  if (proto !== Object.prototype && proto !== null) return `meta must be a plain object, got ${describe(meta)}`;
  const keys = Object.keys(meta);
  if (keys.length > MAX_META_KEYS) return `meta has ${keys.length} keys; at most ${MAX_META_KEYS} are allowed`;
  let bytes = 0;
  for (const key of keys) {
    if (key.length === 0 || key.length > MAX_META_KEY_LENGTH || key === '__proto__') {
      return `meta key ${describe(key)} is not allowed; expected 1-${MAX_META_KEY_LENGTH} characters, not __proto__`;
    }
    const value = (meta as Record<string, unknown>)[key];
    if (typeof value !== 'string') return `meta value of ${describe(key)} must be a string, got ${describe(value)}`;
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_META_BYTES) return `meta takes more than ${MAX_META_BYTES} bytes (keys and values in UTF-8)`;
  }
  return undefined;
}

/**
 * Checks meta given by a user and returns a frozen copy.
 *
 * @throws CohortError with `code` (`INVALID_OPTION` or `INVALID_ARGUMENT`) saying what was wrong.
 */
export function checkMeta(meta: unknown, code: 'INVALID_OPTION' | 'INVALID_ARGUMENT', name: string): MemberMeta {
  const problem = metaProblem(meta);
  if (problem !== undefined) {
    throw new CohortError(code, `invalid ${name}: ${problem}`, { details: { option: name } });
  }
  return freezeMeta(meta as Record<string, string>);
}

/** A frozen copy of meta that was already checked. `Object.fromEntries` defines own properties only. */
export function freezeMeta(meta: Readonly<Record<string, string>>): MemberMeta {
  return Object.freeze(Object.fromEntries(Object.keys(meta).map((k) => [k, meta[k] as string])));
}

/** Makes a frozen member record. */
export function makeMember(id: NodeId, incarnation: number, status: MemberStatus, meta: MemberMeta): Member {
  return Object.freeze({ id, incarnation, status, meta });
}

/** A record equal to `member` with another status (same incarnation and meta). */
export function withStatus(member: Member, status: MemberStatus): Member {
  return member.status === status ? member : makeMember(member.id, member.incarnation, status, member.meta);
}

/** A canonical string of meta: entries sorted by key. Equal meta gives equal strings. */
export function metaKey(meta: MemberMeta): string {
  const keys = Object.keys(meta).sort();
  return JSON.stringify(keys.map((k) => [k, meta[k]]));
}

/** Whether two metas hold the same entries. */
export function sameMeta(a: MemberMeta, b: MemberMeta): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** Whether two records are equal in every field. */
export function sameMember(a: Member, b: Member): boolean {
  return a.id === b.id && a.incarnation === b.incarnation && a.status === b.status && sameMeta(a.meta, b.meta);
}

/**
 * Orders two records about the same member: negative when `a` loses to `b`, positive when `a`
 * wins, 0 when they are equal. See the module header for the rules.
 *
 * @throws CohortError `INVALID_ARGUMENT` when the records are about different members.
 */
export function compareMembers(a: Member, b: Member): number {
  if (a.id !== b.id) {
    throw new CohortError('INVALID_ARGUMENT', `cannot compare records of different members ${describe(a.id)} and ${describe(b.id)}`);
  }
  if (a.incarnation !== b.incarnation) return a.incarnation < b.incarnation ? -1 : 1;
  const rank = STATUS_RANK[a.status] - STATUS_RANK[b.status];
  if (rank !== 0) return rank;
  if (sameMeta(a.meta, b.meta)) return 0;
  const ma = metaKey(a.meta);
  const mb = metaKey(b.meta);
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}

/** Whether `incoming` wins over `local`: it is news. Anything wins over no record at all. */
export function supersedes(incoming: Member, local: Member | undefined): boolean {
  return local === undefined || compareMembers(incoming, local) > 0;
}

/**
 * The record to keep when `incoming` arrives and `local` is held (or none): the greater of the
 * two. Returns `local` itself (same object) when `incoming` brings nothing new.
 *
 * @example
 * merge(alive(b, 3), suspect(b, 3)) // suspect(b, 3): a suspicion beats alive at equal incarnation
 * merge(dead(b, 3), alive(b, 4))    // alive(b, 4): a refutation or a new run beats an old death
 */
export function merge(local: Member | undefined, incoming: Member): Member {
  return supersedes(incoming, local) ? incoming : (local as Member);
}
