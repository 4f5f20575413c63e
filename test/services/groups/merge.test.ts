/**
 * Property tests of the group table: the view is the union of the owners' slices, whatever order
 * they arrive in, and every replica that receives each owner's messages in order (some lost,
 * snapshots repeated, a final snapshot after a loss, owners possibly down) ends with the same view.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makePid, pidKey, type NodeId, type Pid } from '../../../src/core/ids.js';
import { GroupTable, type GroupChange, type GroupSlice } from '../../../src/services/groups/table.js';
import { deliverToReplica, replicaFatesArb } from '../replica-streams.js';

const OWNERS: readonly NodeId[] = ['a@h:1', 'b@h:1', 'c@h:1'];
const GROUPS = ['g', 'h', 'k'] as const;

/** The whole view of a table: every group with its members. */
function viewOf(table: GroupTable): Record<string, Pid[]> {
  return Object.fromEntries(table.groups().map((g) => [g, table.members(g)]));
}

/** The view a sequence of change events describes, folded from empty. */
function fold(changes: readonly GroupChange[]): Record<string, string[]> {
  const counts = new Map<string, Map<string, number>>();
  for (const c of changes) {
    const members = counts.get(c.group) ?? new Map<string, number>();
    counts.set(c.group, members);
    for (const pid of c.pids) {
      const n = (members.get(pidKey(pid)) ?? 0) + (c.type === 'join' ? 1 : -1);
      expect(n).toBeGreaterThanOrEqual(0);
      if (n === 0) members.delete(pidKey(pid));
      else members.set(pidKey(pid), n);
    }
    if (members.size === 0) counts.delete(c.group);
  }
  const out: Record<string, string[]> = {};
  for (const [group, members] of counts) out[group] = [...members].flatMap(([k, n]) => Array.from({ length: n }, () => k)).sort();
  return out;
}

function keysOf(view: Record<string, Pid[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(view).map(([g, pids]) => [g, pids.map(pidKey).sort()]));
}

const sliceArb = (owner: NodeId): fc.Arbitrary<GroupSlice[]> =>
  fc.array(
    fc.record({
      group: fc.constantFrom(...GROUPS),
      pids: fc.array(fc.integer({ min: 1, max: 3 }).map((id) => makePid(owner, 1, id)), { maxLength: 4 }),
    }),
    { maxLength: 4 },
  );

describe('groups merge — the view of slices', () => {
  it('groups merge — installing slices is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(fc.tuple(...OWNERS.map(sliceArb)), fc.array(fc.nat(), { maxLength: 12 }), (slices, order) => {
        const reference = new GroupTable();
        OWNERS.forEach((owner, i) => reference.replace(owner, slices[i]!));
        const shuffled = new GroupTable();
        const pending = [...OWNERS.keys(), ...OWNERS.keys()]; // every snapshot twice, in any order
        let k = 0;
        while (pending.length > 0) {
          const [i] = pending.splice((order[k++] ?? 0) % pending.length, 1) as [number];
          shuffled.replace(OWNERS[i]!, slices[i]!);
        }
        expect(viewOf(shuffled)).toEqual(viewOf(reference));
        // The view is the multiset sum of the slices.
        for (const group of GROUPS) {
          const expected = slices.flatMap((s) => s.filter((x) => x.group === group).flatMap((x) => x.pids)).map(pidKey).sort();
          expect(reference.members(group).map(pidKey).sort()).toEqual(expected);
        }
      }),
    );
  });

  it('groups merge — members of other owners in a snapshot are ignored', () => {
    const table = new GroupTable();
    table.replace('a@h:1', [{ group: 'g', pids: [makePid('b@h:1', 1, 1), makePid('a@h:1', 1, 1)] }]);
    expect(table.members('g')).toEqual([makePid('a@h:1', 1, 1)]);
  });
});

type Op = { kind: 'join' | 'leave'; group: string; id: number } | { kind: 'snapshot' };
type Msg = { kind: 'join' | 'leave'; group: string; pid: Pid } | { kind: 'snapshot'; slices: GroupSlice[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('join' as const), group: fc.constantFrom(...GROUPS), id: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), group: fc.constantFrom(...GROUPS), id: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
);

/** An owner runs its history on its own table; it sends a delta per change and its slice on snapshots. */
function runOwner(owner: NodeId, ops: readonly Op[]): { messages: Msg[]; final: GroupSlice[] } {
  const table = new GroupTable();
  const messages: Msg[] = [];
  for (const op of ops) {
    if (op.kind === 'snapshot') {
      messages.push({ kind: 'snapshot', slices: table.slice(owner) });
      continue;
    }
    const pid = makePid(owner, 1, op.id);
    const changes = op.kind === 'join' ? table.join(op.group, pid) : table.leave(op.group, pid);
    if (changes.length > 0) messages.push({ kind: op.kind, group: op.group, pid });
  }
  return { messages, final: table.slice(owner) };
}

function apply(table: GroupTable, owner: NodeId, msg: Msg | 'down'): GroupChange[] {
  if (msg === 'down') return table.drop(owner);
  if (msg.kind === 'snapshot') return table.replace(owner, msg.slices);
  return msg.kind === 'join' ? table.join(msg.group, msg.pid) : table.leave(msg.group, msg.pid);
}

describe('groups merge — table convergence', () => {
  it('groups merge — every replica ends with the owners’ final slices, and its events describe them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb, { maxLength: 14 }), { minLength: OWNERS.length, maxLength: OWNERS.length }),
        fc.array(fc.boolean(), { minLength: OWNERS.length, maxLength: OWNERS.length }),
        fc.array(replicaFatesArb(OWNERS.length, 14, 150), { minLength: 1, maxLength: 4 }),
        (histories, down, replicas) => {
          const owners = OWNERS.map((owner, i) => ({ owner, ...runOwner(owner, histories[i]!) }));
          const truth = new GroupTable();
          owners.forEach(({ owner, final }, i) => {
            if (!down[i]) truth.replace(owner, final);
          });
          const sent = owners.map(({ owner, messages, final }) => ({ owner, messages, resend: { kind: 'snapshot' as const, slices: final } }));
          for (const replica of replicas) {
            const table = new GroupTable();
            const changes: GroupChange[] = [];
            deliverToReplica<Msg>(sent, down, replica, (owner, msg) => changes.push(...apply(table, owner, msg)));
            expect(viewOf(table)).toEqual(viewOf(truth));
            expect(fold(changes)).toEqual(keysOf(viewOf(truth)));
            for (const owner of OWNERS) expect(table.slice(owner)).toEqual(truth.slice(owner));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
