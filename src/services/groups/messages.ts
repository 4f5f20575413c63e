/**
 * The groups service's messages between nodes, and their validation.
 *
 * All travel as cluster message type {@link GROUPS_MESSAGE} (`'groups'`); the body is a
 * discriminated union on `type`. A node sends them only about its own processes: `join` and
 * `leave` deltas (a pid repeated once per instance), and `snapshot`, its whole slice. Bodies from
 * peers are untrusted: {@link parseGroupsMessage} checks every field and returns fresh data (no
 * extra keys survive) or a string saying what was wrong; it never throws.
 */
import { isPid, makePid, type Pid } from '../../core/ids.js';
import type { GroupSlice } from './table.js';

/** The cluster message type of every groups message. */
export const GROUPS_MESSAGE = 'groups';

/** The longest group name accepted (in UTF-16 code units). */
export const MAX_GROUP_LENGTH = 255;

/** The most pids one message may carry in all. */
export const MAX_MESSAGE_PIDS = 1_000_000;

/** Processes of the sender joined (`join`) or left (`leave`) a group, once per listed pid. */
export interface DeltaMessage {
  readonly type: 'join' | 'leave';
  readonly group: string;
  readonly pids: readonly Pid[];
}

/**
 * Every membership of the sender's processes, replacing what the receiver holds for the sender.
 * With `reply`, the receiver answers with its own snapshot.
 */
export interface GroupsSnapshotMessage {
  readonly type: 'snapshot';
  readonly groups: readonly GroupSlice[];
  readonly reply: boolean;
}

/** Any groups message body. */
export type GroupsMessage = DeltaMessage | GroupsSnapshotMessage;

/** Whether a value is an acceptable group name. */
export function isGroupName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_GROUP_LENGTH;
}

/** Reads a groups message from untrusted data, or says what was wrong with it. */
export function parseGroupsMessage(body: unknown): GroupsMessage | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'a groups message must be an object';
  const b = body as Record<string, unknown>;
  const budget = { left: MAX_MESSAGE_PIDS };
  switch (b.type) {
    case 'join':
    case 'leave': {
      const slice = parseSlice(b, budget);
      return typeof slice === 'string' ? `${b.type}: ${slice}` : { type: b.type, group: slice.group, pids: slice.pids };
    }
    case 'snapshot': {
      if (!Array.isArray(b.groups)) return 'snapshot: groups must be an array';
      const groups: GroupSlice[] = [];
      for (const raw of b.groups as unknown[]) {
        const slice = parseSlice(raw, budget);
        if (typeof slice === 'string') return `snapshot: ${slice}`;
        groups.push(slice);
      }
      return { type: 'snapshot', groups, reply: b.reply === true };
    }
    default:
      return `unknown groups message type ${JSON.stringify(typeof b.type === 'string' ? b.type.slice(0, 40) : b.type)}`;
  }
}

function parseSlice(value: unknown, budget: { left: number }): GroupSlice | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a group entry must be an object';
  const v = value as Record<string, unknown>;
  if (!isGroupName(v.group)) return `a group name must be a string of 1-${MAX_GROUP_LENGTH} characters`;
  if (!Array.isArray(v.pids)) return `the pids of group ${JSON.stringify(v.group)} must be an array`;
  budget.left -= v.pids.length;
  if (budget.left < 0) return `more than ${MAX_MESSAGE_PIDS} pids`;
  const pids: Pid[] = [];
  for (const pid of v.pids as unknown[]) {
    if (!isPid(pid)) return `group ${JSON.stringify(v.group)} lists something that is not a pid`;
    pids.push(makePid(pid.node, pid.incarnation, pid.id));
  }
  return { group: v.group, pids };
}
