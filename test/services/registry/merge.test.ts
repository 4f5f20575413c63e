/**
 * Property tests of the registry's merge rules: the winner of two claims, and the table every
 * replica builds from each owner's messages.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makePid, type NodeId } from '../../../src/core/ids.js';
import { compareEntries, makeEntry, pickWinner, type Entry } from '../../../src/services/registry/entry.js';
import { RegistryTable, type ViewChange } from '../../../src/services/registry/table.js';
import { deliverToReplica, replicaFatesArb } from '../replica-streams.js';

const OWNERS: readonly NodeId[] = ['a@h:1', 'b@h:1', 'c@h:1'];
const NAMES = ['x', 'y', 'z', 'w'] as const;

/** Entries of one name with small values, so ties in time and node are frequent. */
const entryArb = (name: string = 'x') =>
  fc
    .record({
      owner: fc.constantFrom(...OWNERS),
      incarnation: fc.integer({ min: 0, max: 2 }),
      id: fc.integer({ min: 0, max: 3 }),
      at: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ owner, incarnation, id, at }) => makeEntry(name, makePid(owner, incarnation, id), at));

describe('registry merge — the winner of two claims', () => {
  it('registry merge — pickWinner is commutative', () => {
    fc.assert(
      fc.property(entryArb(), entryArb(), (a, b) => {
        expect(pickWinner(a, b)).toEqual(pickWinner(b, a));
      }),
    );
  });

  it('registry merge — pickWinner is associative', () => {
    fc.assert(
      fc.property(entryArb(), entryArb(), entryArb(), (a, b, c) => {
        expect(pickWinner(pickWinner(a, b), c)).toEqual(pickWinner(a, pickWinner(b, c)));
      }),
    );
  });

  it('registry merge — pickWinner is idempotent', () => {
    fc.assert(
      fc.property(entryArb(), (a) => {
        expect(pickWinner(a, a)).toBe(a);
      }),
    );
  });

  it('registry merge — the order is total: only equal entries compare equal', () => {
    fc.assert(
      fc.property(entryArb(), entryArb(), (a, b) => {
        expect(compareEntries(a, b) === 0).toBe(JSON.stringify(a) === JSON.stringify(b));
        expect(Math.sign(compareEntries(a, b)) + Math.sign(compareEntries(b, a))).toBe(0); // antisymmetric
      }),
    );
  });

  it('registry merge — earliest registration wins, then the lower node id, then the pid', () => {
    const at = (owner: string, id: number, time: number) => makeEntry('x', makePid(owner, 1, id), time);
    expect(pickWinner(at('b@h:1', 1, 5), at('a@h:1', 1, 6)).pid.node).toBe('b@h:1');
    expect(pickWinner(at('b@h:1', 1, 5), at('a@h:1', 1, 5)).pid.node).toBe('a@h:1');
    expect(pickWinner(at('a@h:1', 2, 5), at('a@h:1', 1, 5)).pid.id).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Table convergence: each owner runs a random history of registrations, removals and snapshots;
// each replica receives every owner's messages in order, with some lost and snapshots repeated,
// interleaved at random with the other owners' messages; an owner may end down.

type Op = { kind: 'add'; name: string; id: number; at: number } | { kind: 'remove'; name: string } | { kind: 'snapshot' };
type Msg = { kind: 'add'; entry: Entry } | { kind: 'remove'; name: string; entry: Entry } | { kind: 'snapshot'; entries: Entry[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    name: fc.constantFrom(...NAMES),
    id: fc.integer({ min: 1, max: 3 }),
    at: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), name: fc.constantFrom(...NAMES) }),
  fc.constant({ kind: 'snapshot' as const }),
);

/** What an owner sends for its history, and its slice at the end. */
function runOwner(owner: NodeId, ops: readonly Op[]): { messages: Msg[]; final: Entry[] } {
  const slice = new Map<string, Entry>();
  const messages: Msg[] = [];
  for (const op of ops) {
    if (op.kind === 'add') {
      const entry = makeEntry(op.name, makePid(owner, 1, op.id), op.at);
      slice.set(op.name, entry);
      messages.push({ kind: 'add', entry });
    } else if (op.kind === 'remove') {
      const entry = slice.get(op.name);
      if (entry === undefined) continue;
      slice.delete(op.name);
      messages.push({ kind: 'remove', name: op.name, entry });
    } else {
      messages.push({ kind: 'snapshot', entries: [...slice.values()] });
    }
  }
  return { messages, final: [...slice.values()] };
}

function apply(table: RegistryTable, owner: NodeId, msg: Msg | 'down'): ViewChange[] {
  if (msg === 'down') return table.drop(owner);
  if (msg.kind === 'add') return table.put(msg.entry);
  if (msg.kind === 'remove') return table.remove(owner, msg.name, msg.entry.pid);
  return table.replace(owner, msg.entries);
}

/** The view a sequence of change events describes, folded from empty. */
function fold(changes: readonly ViewChange[]): Entry[] {
  const view = new Map<string, Entry>();
  for (const c of changes) {
    expect(view.get(c.name)).toEqual(c.before);
    if (c.after === undefined) view.delete(c.name);
    else view.set(c.name, c.after);
  }
  return [...view.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

const scenarioArb = fc.record({
  histories: fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: OWNERS.length, maxLength: OWNERS.length }),
  /** Per owner: whether it is down at the end. */
  down: fc.array(fc.boolean(), { minLength: OWNERS.length, maxLength: OWNERS.length }),
  replicas: fc.array(replicaFatesArb(OWNERS.length, 12, 120), { minLength: 1, maxLength: 4 }),
});

describe('registry merge — table convergence', () => {
  it('registry merge — every replica ends with the view of the owners’ final slices, and its events describe it', () => {
    fc.assert(
      fc.property(scenarioArb, ({ histories, down, replicas }) => {
        const owners = OWNERS.map((owner, i) => ({ owner, ...runOwner(owner, histories[i]!) }));
        const truth = new RegistryTable();
        owners.forEach(({ owner, final }, i) => {
          if (!down[i]) truth.replace(owner, final);
        });
        const sent = owners.map(({ owner, messages, final }) => ({ owner, messages, resend: { kind: 'snapshot' as const, entries: final } }));
        for (const replica of replicas) {
          const table = new RegistryTable();
          const changes: ViewChange[] = [];
          deliverToReplica<Msg>(sent, down, replica, (owner, msg) => changes.push(...apply(table, owner, msg)));
          expect(table.view()).toEqual(truth.view());
          expect(fold(changes)).toEqual(truth.view());
          for (const owner of OWNERS) expect(table.slice(owner)).toEqual(truth.slice(owner));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('registry merge — the view does not depend on the order slices arrive in (replace is idempotent)', () => {
    const sliceArb = fc.uniqueArray(entryArb().chain((e) => fc.constantFrom(...NAMES).map((name) => makeEntry(name, e.pid, e.registeredAt))), {
      selector: (e) => `${e.pid.node}/${e.name}`,
      maxLength: 8,
    });
    fc.assert(
      fc.property(sliceArb, fc.array(fc.nat(), { maxLength: 20 }), (entries, order) => {
        const byOwner = OWNERS.map((owner) => ({ owner, entries: entries.filter((e) => e.pid.node === owner) }));
        const reference = new RegistryTable();
        for (const { owner, entries: own } of byOwner) reference.replace(owner, own);
        const shuffled = new RegistryTable();
        const pending = [...byOwner, ...byOwner]; // every snapshot twice
        let k = 0;
        while (pending.length > 0) {
          const [{ owner, entries: own }] = pending.splice((order[k++] ?? 0) % pending.length, 1) as [{ owner: NodeId; entries: Entry[] }];
          shuffled.replace(owner, own);
        }
        expect(shuffled.view()).toEqual(reference.view());
        // The winner of each name is the pickWinner-fold of its claims, in any order.
        for (const entry of reference.view()) {
          const claims = entries.filter((e) => e.name === entry.name);
          expect(claims.reduce(pickWinner)).toEqual(entry);
          expect([...claims].reverse().reduce(pickWinner)).toEqual(entry);
        }
      }),
    );
  });

  it('registry merge — a table files claims under their own node only', () => {
    const table = new RegistryTable();
    const foreign = makeEntry('x', makePid('b@h:1', 1, 1), 0);
    table.replace('a@h:1', [foreign]);
    expect(table.view()).toEqual([]);
    table.put(foreign);
    expect(table.slice('b@h:1')).toEqual([foreign]);
    expect(table.remove('a@h:1', 'x')).toEqual([]);
    expect(table.remove('b@h:1', 'x', makePid('b@h:1', 1, 2))).toEqual([]);
    expect(table.names()).toEqual(['x']);
  });
});
