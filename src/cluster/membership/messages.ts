/**
 * The membership messages and their validation.
 *
 * Five messages, discriminated on `type`:
 *
 * | type       | sent by                                   | answered with                  |
 * |------------|-------------------------------------------|--------------------------------|
 * | `ping`     | a prober (or a ping-req relay) to target  | `ack` with the same `seq`      |
 * | `ack`      | the pinged member, or a relay             | —                              |
 * | `ping-req` | a prober whose direct ping timed out      | relay pings target, acks back  |
 * | `sync`     | a joiner, or the periodic push-pull       | `sync` with `reply: false`     |
 * | `gossip`   | a leaving member, to several members      | —                              |
 *
 * Every message but `sync` carries at most a few piggybacked member records (`gossip`), so its
 * size is bounded by the piggyback cap times the largest record (meta is at most 1 KiB). `sync`
 * carries the sender's whole member list: the only message whose size grows with the cluster.
 *
 * Messages arrive from the network, so {@link parseMessage} checks every field and returns a
 * fresh, frozen copy built only from the fields it checked (unknown fields are dropped, never
 * trusted). It never throws: a malformed message yields a reason instead.
 */
import { describe } from '../../core/errors.js';
import { isNodeId, type NodeId } from '../../core/ids.js';
import { freezeMeta, isMemberStatus, makeMember, metaProblem, type Member } from './member.js';

/** A direct probe. `target` is who the sender meant to reach: a member that is not it drops the ping. */
export interface PingMessage {
  readonly type: 'ping';
  readonly seq: number;
  readonly target: NodeId;
  readonly gossip: readonly Member[];
}

/** The answer to a `ping` (or, from a relay, to a `ping-req`), echoing its `seq`. */
export interface AckMessage {
  readonly type: 'ack';
  readonly seq: number;
  readonly gossip: readonly Member[];
}

/** Asks the receiver to ping `target` and to send an `ack` with this `seq` back if it answers. */
export interface PingReqMessage {
  readonly type: 'ping-req';
  readonly seq: number;
  readonly target: NodeId;
  readonly gossip: readonly Member[];
}

/** Push-pull: the sender's full member list. `reply: true` asks for the receiver's list back. */
export interface SyncMessage {
  readonly type: 'sync';
  readonly reply: boolean;
  readonly members: readonly Member[];
}

/** One-way gossip, used to announce a leave to several members at once. */
export interface GossipMessage {
  readonly type: 'gossip';
  readonly gossip: readonly Member[];
}

/** Every membership message. */
export type MembershipMessage = PingMessage | AckMessage | PingReqMessage | SyncMessage | GossipMessage;

/** The message types, by name. */
export const MESSAGE_TYPE = Object.freeze({
  ping: 'ping',
  ack: 'ack',
  pingReq: 'ping-req',
  sync: 'sync',
  gossip: 'gossip',
} as const);

/**
 * The most piggybacked records accepted in one message. Larger than any sane `maxPiggyback` so that
 * peers configured differently still interoperate; a message with more is dropped.
 */
export const MAX_GOSSIP_PER_MESSAGE = 64;
/** The most members accepted in one `sync`. */
export const MAX_SYNC_MEMBERS = 16_384;

/** What {@link parseMessage} returns. */
export type ParseResult = { readonly ok: true; readonly message: MembershipMessage } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): ParseResult => ({ ok: false, reason });

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Checks one member record from the wire; returns a frozen copy or a reason. */
export function parseMember(value: unknown): Member | string {
  if (!isPlainObject(value)) return `a member record must be an object, got ${describe(value)}`;
  const { id, incarnation, status, meta } = value;
  if (!isNodeId(id)) return `member id ${describe(id)} is not a node id`;
  // Below MAX_SAFE_INTEGER, so that refuting (incarnation + 1) stays exact.
  if (!isSeq(incarnation) || incarnation >= Number.MAX_SAFE_INTEGER) {
    return `incarnation of ${id} must be a safe integer >= 0, got ${describe(incarnation)}`;
  }
  if (!isMemberStatus(status)) return `status of ${id} must be alive, suspect, dead or left, got ${describe(status)}`;
  const problem = metaProblem(meta);
  if (problem !== undefined) return `${id}: ${problem}`;
  return makeMember(id, incarnation, status, freezeMeta(meta as Record<string, string>));
}

function parseMembers(value: unknown, max: number, field: string): Member[] | string {
  if (!Array.isArray(value)) return `${field} must be an array, got ${describe(value)}`;
  if (value.length > max) return `${field} has ${value.length} records; at most ${max} are accepted`;
  const out: Member[] = [];
  const seen = new Set<NodeId>();
  for (const item of value as unknown[]) {
    const m = parseMember(item);
    if (typeof m === 'string') return `${field}: ${m}`;
    if (seen.has(m.id)) return `${field} names ${m.id} twice`;
    seen.add(m.id);
    out.push(m);
  }
  return out;
}

/**
 * Validates a message that came from the network. Never throws.
 *
 * @returns `{ ok: true, message }` with a frozen copy holding only known fields, or
 *   `{ ok: false, reason }` saying what was wrong.
 * @example
 * const parsed = parseMessage(decoded);
 * if (!parsed.ok) logger.warn('dropped membership message', { reason: parsed.reason });
 */
export function parseMessage(value: unknown): ParseResult {
  try {
    return parseUnsafe(value);
  } catch (error) {
    // A getter or proxy that throws: hostile, but never our caller's problem.
    return fail(`unreadable message: ${describe(error)}`);
  }
}

function parseUnsafe(value: unknown): ParseResult {
  if (!isPlainObject(value)) return fail(`a message must be an object, got ${describe(value)}`);
  const type = value.type;
  switch (type) {
    case 'ping':
    case 'ping-req': {
      if (!isSeq(value.seq)) return fail(`${type}.seq must be an integer >= 0, got ${describe(value.seq)}`);
      if (!isNodeId(value.target)) return fail(`${type}.target must be a node id, got ${describe(value.target)}`);
      const gossip = parseMembers(value.gossip, MAX_GOSSIP_PER_MESSAGE, `${type}.gossip`);
      if (typeof gossip === 'string') return fail(gossip);
      return { ok: true, message: Object.freeze({ type, seq: value.seq, target: value.target, gossip: Object.freeze(gossip) }) };
    }
    case 'ack': {
      if (!isSeq(value.seq)) return fail(`ack.seq must be an integer >= 0, got ${describe(value.seq)}`);
      const gossip = parseMembers(value.gossip, MAX_GOSSIP_PER_MESSAGE, 'ack.gossip');
      if (typeof gossip === 'string') return fail(gossip);
      return { ok: true, message: Object.freeze({ type, seq: value.seq, gossip: Object.freeze(gossip) }) };
    }
    case 'sync': {
      if (typeof value.reply !== 'boolean') return fail(`sync.reply must be a boolean, got ${describe(value.reply)}`);
      const members = parseMembers(value.members, MAX_SYNC_MEMBERS, 'sync.members');
      if (typeof members === 'string') return fail(members);
      return { ok: true, message: Object.freeze({ type, reply: value.reply, members: Object.freeze(members) }) };
    }
    case 'gossip': {
      const gossip = parseMembers(value.gossip, MAX_GOSSIP_PER_MESSAGE, 'gossip.gossip');
      if (typeof gossip === 'string') return fail(gossip);
      return { ok: true, message: Object.freeze({ type, gossip: Object.freeze(gossip) }) };
    }
    default:
      return fail(`unknown message type ${describe(type)}`);
  }
}
