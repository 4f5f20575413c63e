/**
 * SWIM-style cluster membership: who is in the cluster, who is suspected, who failed or left.
 *
 * A pure, transport-agnostic state machine: the node gives it a `MembershipIO` to send through, a
 * `Clock` and a `random`, and feeds it incoming messages with `handle(from, message)`. See
 * `swim.ts` for the protocol and its guarantees, `member.ts` for the precedence rules.
 */
export { Membership, type MembershipState } from './swim.js';
export {
  MEMBERSHIP_DEFAULTS,
  resolveMembershipOptions,
  type MembershipIO,
  type MembershipOptions,
  type ResolvedMembershipOptions,
} from './options.js';
export {
  MAX_META_BYTES,
  MAX_META_KEYS,
  MEMBER_STATUS,
  MEMBER_STATUSES,
  compareMembers,
  isUp,
  merge,
  supersedes,
  type Member,
  type MemberMeta,
  type MemberStatus,
} from './member.js';
export { transitionEvents, type MembershipEvent, type MembershipEvents } from './member-list.js';
export { GossipQueue, retransmitLimit } from './gossip-queue.js';
export {
  MAX_GOSSIP_PER_MESSAGE,
  MAX_SYNC_MEMBERS,
  MESSAGE_TYPE,
  parseMessage,
  type AckMessage,
  type GossipMessage,
  type MembershipMessage,
  type ParseResult,
  type PingMessage,
  type PingReqMessage,
  type SyncMessage,
} from './messages.js';
