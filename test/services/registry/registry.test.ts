/**
 * The registry service between fake nodes: registration, removal, conflicts, healing after lost
 * messages, hostile input and lifecycle.
 */
import { describe, expect, it } from 'vitest';
import { formatPid, type Pid } from '../../../src/core/ids.js';
import { Registry, type NameConflict, type RegistryEvent } from '../../../src/services/registry/registry.js';
import { REGISTRY_MESSAGE } from '../../../src/services/registry/messages.js';
import { rejection, thrown } from '../../helpers/errors.js';
import { FakeNetwork, type FakeNode } from '../fake-network.js';

interface Started {
  net: FakeNetwork;
  nodes: FakeNode[];
  registries: Registry[];
}

/** `n` linked nodes (ids a@…, b@…, c@… in that order), each with a registry, settled. */
function start(n = 3): Started {
  const net = new FakeNetwork();
  const nodes = ['a', 'b', 'c', 'd', 'e'].slice(0, n).map((name) => net.add(name));
  const registries = nodes.map((node) => new Registry({ cluster: node.cluster, processes: node.processes }));
  net.flush();
  return { net, nodes, registries };
}

function whereisEverywhere(registries: readonly Registry[], name: string): (Pid | undefined)[] {
  return registries.map((r) => r.whereis(name));
}

function record(registry: Registry): RegistryEvent[] {
  const events: RegistryEvent[] = [];
  registry.on('registered', (e) => events.push(e));
  registry.on('unregistered', (e) => events.push(e));
  registry.on('conflict', (e) => events.push(e));
  return events;
}

describe('Registry — registration', () => {
  it('registry — a registered name is visible on every node once messages are delivered', async () => {
    const { net, nodes, registries } = start();
    const pid = nodes[0]!.processes.spawn();
    const onC = record(registries[2]!);
    await registries[0]!.register('leader', pid);
    expect(registries[0]!.whereis('leader')).toEqual(pid); // committed locally before any delivery
    expect(registries[1]!.whereis('leader')).toBeUndefined();
    net.flush();
    expect(whereisEverywhere(registries, 'leader')).toEqual([pid, pid, pid]);
    expect(registries.map((r) => r.names())).toEqual([['leader'], ['leader'], ['leader']]);
    expect(onC).toEqual([{ type: 'registered', name: 'leader', pid, registeredAt: nodes[0]!.clock.wallTime() }]);
  });

  it('registry — entries carry the wall time the owner stamped', async () => {
    const { net, nodes, registries } = start(2);
    await nodes[0]!.clock.advance(1234);
    const pid = nodes[0]!.processes.spawn();
    await registries[0]!.register('x', pid);
    net.flush();
    expect(registries[1]!.entries()).toEqual([{ name: 'x', pid, registeredAt: 1_700_000_001_234 }]);
  });

  it('registry — a pid may hold several names', async () => {
    const { net, nodes, registries } = start(2);
    const pid = nodes[0]!.processes.spawn();
    await registries[0]!.register('one', pid);
    await registries[0]!.register('two', pid);
    net.flush();
    expect(registries[1]!.names()).toEqual(['one', 'two']);
  });

  it('registry — a name held by another process is refused at once with NAME_TAKEN (details: name, pid)', async () => {
    const { net, nodes, registries } = start();
    const holder = nodes[0]!.processes.spawn();
    await registries[0]!.register('leader', holder);
    const local = await rejection(registries[0]!.register('leader', nodes[0]!.processes.spawn()));
    expect(local.code).toBe('NAME_TAKEN');
    expect(local.details).toEqual({ name: 'leader', pid: holder });
    expect(local.message).toContain(formatPid(holder));
    net.flush();
    const remote = await rejection(registries[1]!.register('leader', nodes[1]!.processes.spawn()));
    expect(remote.code).toBe('NAME_TAKEN');
    expect(remote.details).toEqual({ name: 'leader', pid: holder });
  });

  it('registry — registering the same name for the same process again changes nothing', async () => {
    const { net, nodes, registries } = start(2);
    const pid = nodes[0]!.processes.spawn();
    await registries[0]!.register('x', pid);
    net.flush();
    const events = record(registries[1]!);
    await registries[0]!.register('x', pid);
    expect(net.flush()).toBe(0);
    expect(events).toEqual([]);
  });

  it('registry — only a live process of this node can be registered (INVALID_ARGUMENT, NOPROC)', async () => {
    const { nodes, registries } = start(2);
    const remote = await rejection(registries[0]!.register('x', nodes[1]!.processes.spawn()));
    expect(remote.code).toBe('INVALID_ARGUMENT');
    expect(remote.message).toMatch(/belongs to node b@.*register it there/);
    const dead = nodes[0]!.processes.spawn();
    nodes[0]!.processes.exit(dead, 'normal');
    const noproc = await rejection(registries[0]!.register('x', dead));
    expect(noproc.code).toBe('NOPROC');
    expect(noproc.details).toEqual({ name: 'x', pid: dead });
    const pid = nodes[0]!.processes.spawn();
    expect((await rejection(registries[0]!.register('', pid))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(registries[0]!.register('n'.repeat(256), pid))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(registries[0]!.register(7 as unknown as string, pid))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(registries[0]!.register('x', { node: 'a' } as unknown as Pid))).code).toBe('INVALID_ARGUMENT');
    const badHook = { onConflict: 'exit' } as unknown as { onConflict: () => void };
    expect((await rejection(registries[0]!.register('x', pid, badHook))).code).toBe('INVALID_ARGUMENT');
    expect(registries[0]!.names()).toEqual([]);
    expect(thrown(() => registries[0]!.whereis(1 as unknown as string)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('Registry — removal', () => {
  it('registry — unregister on the owner propagates to every node', async () => {
    const { net, nodes, registries } = start();
    const pid = nodes[0]!.processes.spawn();
    await registries[0]!.register('x', pid);
    net.flush();
    const onB = record(registries[1]!);
    expect(registries[0]!.unregister('x')).toBe(true);
    expect(registries[0]!.whereis('x')).toBeUndefined();
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([undefined, undefined, undefined]);
    expect(onB).toEqual([{ type: 'unregistered', name: 'x', pid }]);
    expect(registries[0]!.unregister('x')).toBe(false);
  });

  it('registry — unregister on another node asks the owner, and every node drops the name', async () => {
    const { net, nodes, registries } = start();
    const pid = nodes[0]!.processes.spawn();
    await registries[0]!.register('x', pid);
    net.flush();
    expect(registries[2]!.unregister('x')).toBe(true);
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([undefined, undefined, undefined]);
    expect(nodes[0]!.processes.isAlive(pid)).toBe(true);
  });

  it('registry — a forwarded unregister does nothing when another process holds the name by then', async () => {
    const { net, nodes, registries } = start();
    const first = nodes[0]!.processes.spawn();
    await registries[0]!.register('x', first);
    net.flush();
    registries[2]!.unregister('x'); // in flight to a, about `first`
    nodes[0]!.processes.exit(first, 'normal');
    const second = nodes[0]!.processes.spawn();
    await registries[0]!.register('x', second);
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([second, second, second]);
  });

  it('registry — the exit of a process drops all its names everywhere', async () => {
    const { net, nodes, registries } = start();
    const pid = nodes[1]!.processes.spawn();
    const other = nodes[1]!.processes.spawn();
    await registries[1]!.register('one', pid);
    await registries[1]!.register('two', pid);
    await registries[1]!.register('three', other);
    net.flush();
    nodes[1]!.processes.exit(pid, 'error', 'boom');
    expect(registries[1]!.names()).toEqual(['three']);
    net.flush();
    expect(registries.map((r) => r.names())).toEqual([['three'], ['three'], ['three']]);
  });

  it('registry — a node that goes down loses its names on the other nodes', async () => {
    const { net, nodes, registries } = start();
    await registries[2]!.register('c-name', nodes[2]!.processes.spawn());
    await registries[0]!.register('a-name', nodes[0]!.processes.spawn());
    net.flush();
    const onA = record(registries[0]!);
    net.kill(nodes[2]!.id);
    expect(registries[0]!.names()).toEqual(['a-name']);
    expect(registries[1]!.names()).toEqual(['a-name']);
    expect(onA).toEqual([expect.objectContaining({ type: 'unregistered', name: 'c-name' })]);
  });

  it('registry — a node that alone saw a peer go down and come back gets the peer\'s names again', async () => {
    const { net, nodes, registries } = start();
    const pc = nodes[2]!.processes.spawn();
    await registries[2]!.register('c-name', pc);
    net.flush();
    net.flap(nodes[0]!.id, nodes[2]!.id);
    expect(registries[0]!.names()).toEqual([]);
    net.flush();
    expect(registries[0]!.whereis('c-name')).toEqual(pc);
    expect(registries[2]!.whereis('c-name')).toEqual(pc);
  });
});

describe('Registry — conflicts', () => {
  it('registry — concurrent registrations at the same time: the lower node id wins everywhere, the loser exits', async () => {
    const { net, nodes, registries } = start();
    const onB = record(registries[1]!);
    const pa = nodes[0]!.processes.spawn();
    const pb = nodes[1]!.processes.spawn();
    await registries[1]!.register('x', pb);
    await registries[0]!.register('x', pa);
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([pa, pa, pa]);
    expect(nodes[1]!.processes.exitsOf(pb)).toEqual(['name_conflict']);
    expect(nodes[1]!.processes.exits[0]!.message).toContain(formatPid(pa));
    expect(nodes[0]!.processes.isAlive(pa)).toBe(true);
    expect(onB).toContainEqual({ type: 'conflict', name: 'x', winner: pa, loser: pb });
    expect(onB.filter((e) => e.type === 'conflict')).toHaveLength(1);
  });

  it('registry — concurrent registrations: the earlier registration wins even from a higher node id', async () => {
    const { net, nodes, registries } = start();
    await nodes[0]!.clock.advance(5); // a's registration is 5 ms later
    const pa = nodes[0]!.processes.spawn();
    const pc = nodes[2]!.processes.spawn();
    await registries[0]!.register('x', pa);
    await registries[2]!.register('x', pc);
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([pc, pc, pc]);
    expect(nodes[0]!.processes.exitsOf(pa)).toEqual(['name_conflict']);
    expect(nodes[2]!.processes.exits).toEqual([]);
  });

  it('registry — onConflict is called instead of exiting, and the process keeps running without the name', async () => {
    const { net, nodes, registries } = start();
    const seen: NameConflict[] = [];
    const pa = nodes[0]!.processes.spawn();
    const pb = nodes[1]!.processes.spawn();
    await registries[0]!.register('x', pa);
    await registries[1]!.register('x', pb, { onConflict: (c) => seen.push(c) });
    net.flush();
    expect(seen).toEqual([{ name: 'x', winner: pa, loser: pb }]);
    expect(nodes[1]!.processes.isAlive(pb)).toBe(true);
    expect(nodes[1]!.processes.exits).toEqual([]);
    expect(whereisEverywhere(registries, 'x')).toEqual([pa, pa, pa]);
  });

  it('registry — an onConflict that throws is logged; the process still keeps running', async () => {
    const { net, nodes, registries } = start(2);
    const pa = nodes[0]!.processes.spawn();
    const pb = nodes[1]!.processes.spawn();
    await registries[0]!.register('x', pa);
    await registries[1]!.register('x', pb, {
      onConflict: () => {
        throw new Error('hook failed');
      },
    });
    net.flush();
    expect(nodes[1]!.processes.isAlive(pb)).toBe(true);
    expect(nodes[1]!.logs.some((l) => l.level === 'error' && /onConflict/.test(l.message))).toBe(true);
  });

  it('registry — a loser holding other names loses them too when it exits', async () => {
    const { net, nodes, registries } = start(2);
    const pa = nodes[0]!.processes.spawn();
    const pb = nodes[1]!.processes.spawn();
    await registries[1]!.register('other', pb);
    await registries[0]!.register('x', pa);
    await registries[1]!.register('x', pb);
    net.flush();
    expect(registries.map((r) => r.names())).toEqual([['x'], ['x']]);
  });

  it('registry — partition, the same name registered on both sides, heal: one owner everywhere', async () => {
    const { net, nodes, registries } = start();
    net.partition([nodes[0]!.id]);
    await nodes[0]!.clock.advance(10);
    const pa = nodes[0]!.processes.spawn();
    const pc = nodes[2]!.processes.spawn();
    await registries[0]!.register('x', pa); // later
    await registries[2]!.register('x', pc); // earlier
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([pa, pc, pc]);
    net.heal();
    net.flush();
    expect(whereisEverywhere(registries, 'x')).toEqual([pc, pc, pc]);
    expect(nodes[0]!.processes.exitsOf(pa)).toEqual(['name_conflict']);
    expect(nodes[2]!.processes.isAlive(pc)).toBe(true);
  });

  it('registry — messages lost on a broken link are healed by the snapshot sent when it comes back', async () => {
    const { net, nodes, registries } = start(2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    const stale = a.processes.spawn();
    await registries[0]!.register('stale', stale);
    net.flush();
    registries[0]!.unregister('stale');
    await registries[0]!.register('fresh', a.processes.spawn());
    expect(net.drop(a.id, b.id)).toBe(2);
    net.flush();
    expect(registries[1]!.names()).toEqual(['stale']);
    net.bounce(a.id, b.id);
    net.flush();
    expect(registries[1]!.names()).toEqual(['fresh']);
  });

  it('registry — a registry started after its peers are up asks them for their names', async () => {
    const net = new FakeNetwork();
    const a = net.add('a');
    const ra = new Registry({ cluster: a.cluster, processes: a.processes });
    const pid = a.processes.spawn();
    await ra.register('x', pid);
    const b = net.add('b'); // linked to a before b's registry exists: a's snapshot finds no handler
    net.flush();
    const rb = new Registry({ cluster: b.cluster, processes: b.processes });
    net.flush();
    expect(rb.whereis('x')).toEqual(pid);
  });
});

describe('Registry — hostile input', () => {
  it('registry — a node cannot add or remove names of processes it does not own', async () => {
    const { net, nodes, registries } = start();
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode];
    const pa = a.processes.spawn();
    await registries[0]!.register('x', pa);
    net.flush();
    const forged = { node: a.id, incarnation: 1, id: 99 };
    net.inject(b.id, c.id, REGISTRY_MESSAGE, { type: 'remove', name: 'x', pid: pa });
    net.inject(b.id, c.id, REGISTRY_MESSAGE, { type: 'add', entry: { name: 'y', pid: forged, registeredAt: 0 } });
    net.inject(b.id, c.id, REGISTRY_MESSAGE, { type: 'snapshot', entries: [{ name: 'z', pid: forged, registeredAt: 0 }] });
    net.inject(b.id, a.id, REGISTRY_MESSAGE, { type: 'unregister', name: 'x', pid: { ...pa, id: 42 } });
    net.inject(c.id, c.id, REGISTRY_MESSAGE, { type: 'add', entry: { name: 'w', pid: c.processes.spawn(), registeredAt: 0 } });
    net.flush();
    expect(registries[2]!.entries()).toEqual(registries[0]!.entries());
    expect(registries[2]!.names()).toEqual(['x']);
    expect(registries[0]!.whereis('x')).toEqual(pa);
    expect(c.logs.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(4);
  });

  it.each([
    ['null', null],
    ['a string', 'add'],
    ['an array', []],
    ['an unknown type', { type: 'nuke' }],
    ['add without entry', { type: 'add' }],
    ['add with a bad pid', { type: 'add', entry: { name: 'x', pid: { node: 'b', incarnation: -1, id: 1 }, registeredAt: 1 } }],
    ['add with NaN time', { type: 'add', entry: { name: 'x', pid: { node: 'b', incarnation: 1, id: 1 }, registeredAt: Number.NaN } }],
    ['add with an empty name', { type: 'add', entry: { name: '', pid: { node: 'b', incarnation: 1, id: 1 }, registeredAt: 1 } }],
    ['snapshot without entries', { type: 'snapshot' }],
    ['snapshot with a bad entry', { type: 'snapshot', entries: [null] }],
    ['remove without pid', { type: 'remove', name: 'x' }],
    ['unregister with a number name', { type: 'unregister', name: 3, pid: { node: 'b', incarnation: 1, id: 1 } }],
  ])('registry — a malformed message (%s) is logged and changes nothing', async (_label, body) => {
    const { net, nodes, registries } = start(2);
    const pb = nodes[1]!.processes.spawn();
    await registries[1]!.register('kept', pb);
    net.flush();
    const before = registries[0]!.entries();
    expect(() => net.inject(nodes[1]!.id, nodes[0]!.id, REGISTRY_MESSAGE, body)).not.toThrow();
    expect(registries[0]!.entries()).toEqual(before);
    expect(nodes[0]!.logs.some((l) => l.level === 'warn' && /malformed/.test(l.message))).toBe(true);
  });

  it('registry — a snapshot mixing own and foreign entries keeps only the own ones', async () => {
    const { net, nodes, registries } = start(2);
    const [a, b] = nodes as [FakeNode, FakeNode];
    const own = { name: 'mine', pid: { node: b.id, incarnation: 1, id: 5 }, registeredAt: 1, extra: 'dropped' };
    const foreign = { name: 'theirs', pid: { node: a.id, incarnation: 1, id: 5 }, registeredAt: 1 };
    net.inject(b.id, a.id, REGISTRY_MESSAGE, { type: 'snapshot', entries: [own, foreign] });
    expect(registries[0]!.entries()).toEqual([{ name: 'mine', pid: own.pid, registeredAt: 1 }]);
  });
});

describe('Registry — lifecycle', () => {
  it('registry — event listeners unsubscribe; close stops handling and refuses writes with NODE_STOPPED', async () => {
    const { net, nodes, registries } = start(2);
    const events: RegistryEvent[] = [];
    const off = registries[1]!.on('registered', (e) => events.push(e));
    await registries[0]!.register('one', nodes[0]!.processes.spawn());
    net.flush();
    off();
    await registries[0]!.register('two', nodes[0]!.processes.spawn());
    net.flush();
    expect(events.map((e) => (e.type === 'registered' ? e.name : e.type))).toEqual(['one']);
    registries[1]!.close();
    registries[1]!.close();
    await registries[0]!.register('three', nodes[0]!.processes.spawn());
    net.flush();
    expect(registries[1]!.names()).toEqual(['one', 'two']);
    expect((await rejection(registries[1]!.register('z', nodes[1]!.processes.spawn()))).code).toBe('NODE_STOPPED');
    expect(thrown(() => registries[1]!.unregister('one')).code).toBe('NODE_STOPPED');
  });

  it('registry — a second registry on the same port is refused', () => {
    const { nodes } = start(1);
    expect(thrown(() => new Registry({ cluster: nodes[0]!.cluster, processes: nodes[0]!.processes })).code).toBe('INVALID_ARGUMENT');
  });
});
