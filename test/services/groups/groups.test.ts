/**
 * The groups service between fake nodes: membership, watch and broadcast, partitions and healing,
 * hostile input and lifecycle.
 */
import { describe, expect, it } from 'vitest';
import type { Pid } from '../../../src/core/ids.js';
import { Groups, type GroupEvent } from '../../../src/services/groups/groups.js';
import { GROUPS_MESSAGE } from '../../../src/services/groups/messages.js';
import { thrown } from '../../helpers/errors.js';
import { FakeNetwork, type FakeNode } from '../fake-network.js';

interface Started {
  net: FakeNetwork;
  nodes: FakeNode[];
  groups: Groups[];
  /** Messages handed to `send`, per node. */
  sent: { pid: Pid; message: unknown }[][];
}

/** `n` linked nodes (ids a@…, b@…, c@… in that order), each with a groups service, settled. */
function start(n = 3): Started {
  const net = new FakeNetwork();
  const nodes = ['a', 'b', 'c', 'd'].slice(0, n).map((name) => net.add(name));
  const sent = nodes.map(() => [] as { pid: Pid; message: unknown }[]);
  const groups = nodes.map(
    (node, i) => new Groups({ cluster: node.cluster, processes: node.processes, send: (pid, message) => void sent[i]!.push({ pid, message }) }),
  );
  net.flush();
  return { net, nodes, groups, sent };
}

function watchAll(groups: Groups, group?: string): GroupEvent[] {
  const events: GroupEvent[] = [];
  groups.watch(group, (e) => events.push(e));
  return events;
}

describe('Groups — membership', () => {
  it('groups — a join is visible on every node; a process joined twice is listed twice and leave removes one', () => {
    const { net, nodes, groups } = start();
    const [a, b] = nodes as [FakeNode, FakeNode];
    const pa = a.processes.spawn();
    const pb = b.processes.spawn();
    groups[0]!.join('workers', pa);
    groups[0]!.join('workers', pa);
    groups[1]!.join('workers', pb);
    expect(groups[0]!.members('workers')).toEqual([pa, pa]); // local commit before delivery
    net.flush();
    for (const g of groups) expect(g.members('workers')).toEqual([pa, pa, pb]);
    expect(groups[0]!.localMembers('workers')).toEqual([pa, pa]);
    expect(groups[2]!.localMembers('workers')).toEqual([]);
    expect(groups[2]!.groups()).toEqual(['workers']);
    expect(groups[0]!.leave('workers', pa)).toBe(true);
    net.flush();
    for (const g of groups) expect(g.members('workers')).toEqual([pa, pb]);
    expect(groups[0]!.leave('workers', pa)).toBe(true);
    expect(groups[0]!.leave('workers', pa)).toBe(false);
    groups[1]!.leave('workers', pb);
    net.flush();
    for (const g of groups) {
      expect(g.members('workers')).toEqual([]);
      expect(g.groups()).toEqual([]);
    }
  });

  it('groups — a process may be in several groups; members of an unknown group is empty', () => {
    const { net, nodes, groups } = start(2);
    const pa = nodes[0]!.processes.spawn();
    groups[0]!.join('one', pa);
    groups[0]!.join('two', pa);
    net.flush();
    expect(groups[1]!.groups()).toEqual(['one', 'two']);
    expect(groups[1]!.members('three')).toEqual([]);
  });

  it('groups — only live processes of this node may join or leave (INVALID_ARGUMENT, NOPROC)', () => {
    const { nodes, groups } = start(2);
    const remote = thrown(() => groups[0]!.join('g', nodes[1]!.processes.spawn()));
    expect(remote.code).toBe('INVALID_ARGUMENT');
    expect(remote.message).toMatch(/belongs to node b@.*join there/);
    expect(thrown(() => groups[0]!.leave('g', nodes[1]!.processes.spawn())).code).toBe('INVALID_ARGUMENT');
    const dead = nodes[0]!.processes.spawn();
    nodes[0]!.processes.exit(dead, 'normal');
    const noproc = thrown(() => groups[0]!.join('g', dead));
    expect(noproc.code).toBe('NOPROC');
    expect(noproc.details).toEqual({ group: 'g', pid: dead });
    expect(groups[0]!.leave('g', dead)).toBe(false);
    const pid = nodes[0]!.processes.spawn();
    expect(thrown(() => groups[0]!.join('', pid)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => groups[0]!.join('g'.repeat(256), pid)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => groups[0]!.join('g', { id: 1 } as unknown as Pid)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => groups[0]!.members(5 as unknown as string)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => groups[0]!.watch('g', 'fn' as unknown as () => void)).code).toBe('INVALID_ARGUMENT');
    expect(groups[0]!.groups()).toEqual([]);
  });

  it('groups — a process that exits leaves every group on every node, with leave events', () => {
    const { net, nodes, groups } = start();
    const pa = nodes[0]!.processes.spawn();
    const other = nodes[0]!.processes.spawn();
    groups[0]!.join('one', pa);
    groups[0]!.join('one', pa);
    groups[0]!.join('two', pa);
    groups[0]!.join('two', other);
    net.flush();
    const onC = watchAll(groups[2]!);
    nodes[0]!.processes.exit(pa, 'error', 'boom');
    net.flush();
    for (const g of groups) {
      expect(g.groups()).toEqual(['two']);
      expect(g.members('two')).toEqual([other]);
    }
    expect(onC).toEqual([
      { type: 'leave', group: 'one', pids: [pa, pa] },
      { type: 'leave', group: 'two', pids: [pa] },
    ]);
  });

  it('groups — a node that goes down loses its members on the other nodes, with leave events', () => {
    const { net, nodes, groups } = start();
    const pa = nodes[0]!.processes.spawn();
    const pc = nodes[2]!.processes.spawn();
    groups[0]!.join('g', pa);
    groups[2]!.join('g', pc);
    groups[2]!.join('g', pc);
    net.flush();
    const onB = watchAll(groups[1]!, 'g');
    net.kill(nodes[2]!.id);
    expect(groups[0]!.members('g')).toEqual([pa]);
    expect(groups[1]!.members('g')).toEqual([pa]);
    expect(onB).toEqual([{ type: 'leave', group: 'g', pids: [pc, pc] }]);
  });

  it('groups — a node that alone saw a peer go down and come back gets the peer\'s members again', () => {
    const { net, nodes, groups } = start(2);
    const pb = nodes[1]!.processes.spawn();
    groups[1]!.join('g', pb);
    net.flush();
    net.flap(nodes[0]!.id, nodes[1]!.id);
    expect(groups[0]!.members('g')).toEqual([]);
    net.flush();
    expect(groups[0]!.members('g')).toEqual([pb]);
    expect(groups[1]!.members('g')).toEqual([pb]);
  });
});

describe('Groups — watch and broadcast', () => {
  it('groups — watch reports joins and leaves of one group or of all, until unsubscribed', () => {
    const { net, nodes, groups } = start(2);
    const onlyG = watchAll(groups[1]!, 'g');
    const all: GroupEvent[] = [];
    const off = groups[1]!.watch(undefined, (e) => all.push(e));
    const pa = nodes[0]!.processes.spawn();
    groups[0]!.join('g', pa);
    groups[0]!.join('h', pa);
    net.flush();
    off();
    groups[0]!.leave('g', pa);
    net.flush();
    expect(onlyG).toEqual([
      { type: 'join', group: 'g', pids: [pa] },
      { type: 'leave', group: 'g', pids: [pa] },
    ]);
    expect(all).toEqual([
      { type: 'join', group: 'g', pids: [pa] },
      { type: 'join', group: 'h', pids: [pa] },
    ]);
  });

  it('groups — local changes are reported to local watchers too', () => {
    const { nodes, groups } = start(1);
    const events = watchAll(groups[0]!);
    const pid = nodes[0]!.processes.spawn();
    groups[0]!.join('g', pid);
    groups[0]!.leave('g', pid);
    expect(events.map((e) => e.type)).toEqual(['join', 'leave']);
  });

  it('groups — broadcast sends once to every distinct member on every node; a failing send does not stop the others', () => {
    const net = new FakeNetwork();
    const nodes = ['a', 'b'].map((name) => net.add(name));
    const got: Pid[] = [];
    const gb = new Groups({ cluster: nodes[1]!.cluster, processes: nodes[1]!.processes, send: () => undefined });
    const ga = new Groups({
      cluster: nodes[0]!.cluster,
      processes: nodes[0]!.processes,
      send: (pid, message) => {
        if (pid.id === 1 && pid.node === nodes[0]!.id) throw new Error('mailbox gone');
        expect(message).toEqual({ type: 'news' });
        got.push(pid);
      },
    });
    const [pa1, pa2] = [nodes[0]!.processes.spawn(), nodes[0]!.processes.spawn()];
    const pb = nodes[1]!.processes.spawn();
    ga.join('room', pa1);
    ga.join('room', pa2);
    ga.join('room', pa2);
    gb.join('room', pb);
    net.flush();
    expect(ga.broadcast('room', { type: 'news' })).toBe(2);
    expect(got).toEqual([pa2, pb]);
    expect(nodes[0]!.logs.some((l) => l.level === 'warn' && /could not send/.test(l.message))).toBe(true);
    expect(ga.broadcast('empty', { type: 'news' })).toBe(0);
  });
});

describe('Groups — partitions and healing', () => {
  it('groups — partition, changes on both sides, heal: every node converges to the same members', () => {
    const { net, nodes, groups } = start();
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
    const pa = a.processes.spawn();
    const pb = b.processes.spawn();
    groups[0]!.join('g', pa);
    groups[1]!.join('g', pb);
    net.flush();
    net.partition([a.id]);
    expect(groups[0]!.members('g')).toEqual([pa]);
    expect(groups[2]!.members('g')).toEqual([pb]);
    const pa2 = a.processes.spawn();
    groups[0]!.join('g', pa2);
    groups[0]!.leave('g', pa);
    const pc = c.processes.spawn();
    groups[2]!.join('g', pc);
    net.flush();
    net.heal();
    net.flush();
    for (const g of groups) expect(g.members('g')).toEqual([pa2, pb, pc]);
  });

  it('groups — deltas lost on a broken link are healed by the snapshot sent when it comes back', () => {
    const { net, nodes, groups } = start(2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    const old = a.processes.spawn();
    groups[0]!.join('g', old);
    net.flush();
    const onB = watchAll(groups[1]!);
    groups[0]!.leave('g', old);
    const fresh = a.processes.spawn();
    groups[0]!.join('g', fresh);
    groups[0]!.join('h', fresh);
    expect(net.drop(a.id, b.id)).toBe(3);
    net.bounce(a.id, b.id);
    net.flush();
    expect(groups[1]!.members('g')).toEqual([fresh]);
    expect(groups[1]!.groups()).toEqual(['g', 'h']);
    expect(onB).toEqual([
      { type: 'leave', group: 'g', pids: [old] },
      { type: 'join', group: 'g', pids: [fresh] },
      { type: 'join', group: 'h', pids: [fresh] },
    ]);
  });

  it('groups — a service started after its peers are up asks them for their members', () => {
    const net = new FakeNetwork();
    const a = net.add('a');
    const ga = new Groups({ cluster: a.cluster, processes: a.processes, send: () => undefined });
    const pid = a.processes.spawn();
    ga.join('g', pid);
    const b = net.add('b');
    net.flush();
    const gb = new Groups({ cluster: b.cluster, processes: b.processes, send: () => undefined });
    net.flush();
    expect(gb.members('g')).toEqual([pid]);
  });
});

describe('Groups — hostile input', () => {
  it('groups — a node cannot change the memberships of processes it does not own', () => {
    const { net, nodes, groups } = start();
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
    const pa = a.processes.spawn();
    groups[0]!.join('g', pa);
    net.flush();
    const forged = { node: a.id, incarnation: 1, id: 77 };
    net.inject(b.id, c.id, GROUPS_MESSAGE, { type: 'leave', group: 'g', pids: [pa] });
    net.inject(b.id, c.id, GROUPS_MESSAGE, { type: 'join', group: 'g', pids: [forged] });
    net.inject(b.id, c.id, GROUPS_MESSAGE, { type: 'snapshot', groups: [{ group: 'h', pids: [forged] }] });
    net.inject(c.id, c.id, GROUPS_MESSAGE, { type: 'join', group: 'g', pids: [c.processes.spawn()] });
    expect(groups[2]!.members('g')).toEqual([pa]);
    expect(groups[2]!.groups()).toEqual(['g']);
    expect(c.logs.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(4);
  });

  it.each([
    ['null', null],
    ['a number', 1],
    ['an unknown type', { type: 'wipe' }],
    ['join without pids', { type: 'join', group: 'g' }],
    ['join with an empty group', { type: 'join', group: '', pids: [] }],
    ['join with a non-pid', { type: 'join', group: 'g', pids: [{ node: 'b', id: 1 }] }],
    ['snapshot without groups', { type: 'snapshot' }],
    ['snapshot with a bad slice', { type: 'snapshot', groups: [{ group: 'g', pids: 'all' }] }],
  ])('groups — a malformed message (%s) is logged and changes nothing', (_label, body) => {
    const { net, nodes, groups } = start(2);
    const pb = nodes[1]!.processes.spawn();
    groups[1]!.join('kept', pb);
    net.flush();
    expect(() => net.inject(nodes[1]!.id, nodes[0]!.id, GROUPS_MESSAGE, body)).not.toThrow();
    expect(groups[0]!.members('kept')).toEqual([pb]);
    expect(groups[0]!.groups()).toEqual(['kept']);
    expect(nodes[0]!.logs.some((l) => l.level === 'warn' && /malformed/.test(l.message))).toBe(true);
  });
});

describe('Groups — lifecycle', () => {
  it('groups — close stops handling, removes watchers and refuses changes with NODE_STOPPED', () => {
    const { net, nodes, groups } = start(2);
    const events = watchAll(groups[1]!);
    groups[1]!.close();
    groups[1]!.close();
    groups[0]!.join('g', nodes[0]!.processes.spawn());
    net.flush();
    expect(groups[1]!.members('g')).toEqual([]);
    expect(events).toEqual([]);
    expect(thrown(() => groups[1]!.join('g', nodes[1]!.processes.spawn())).code).toBe('NODE_STOPPED');
  });

  it('groups — send must be a function', () => {
    const net = new FakeNetwork();
    const a = net.add('a');
    const bad = { cluster: a.cluster, processes: a.processes, send: undefined as unknown as () => void };
    expect(thrown(() => new Groups(bad)).code).toBe('INVALID_ARGUMENT');
  });
});
