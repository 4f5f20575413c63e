/**
 * The distributed supervisor between nodes in one Node.js process over the memory transport.
 * Killed, partitioned and restarted members are tested with child processes elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../../../src/node.js';
import type { Behavior } from '../../../src/process/behavior.js';
import { FaultInjector } from '../../../src/transport/faulty.js';
import { MemoryNetwork } from '../../../src/transport/memory.js';
import type { StreamTransport } from '../../../src/transport/stream-transport.js';
import { eventually } from '../../helpers/eventually.js';
import { rejection } from '../../helpers/errors.js';

const SECRET = 'cohort dsup memory secret';
const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000, pushPullIntervalMs: 1_000 };

type SessionCall = { type: 'get' } | { type: 'add'; n: number } | { type: 'crash' };
type SessionInfo = { type: 'handoff'; id: string; state: unknown };
const session: Behavior<{ user: string }, { user: string; n: number }, SessionCall, unknown, never, SessionInfo> = {
  init: (args) => ({ user: args.user, n: 0 }),
  handleCall: (msg, s) => {
    if (msg.type === 'crash') throw new Error('crash on purpose');
    return msg.type === 'get' ? [s, s] : [s.n + msg.n, { ...s, n: s.n + msg.n }];
  },
  handleInfo: (msg, s) => (msg.type === 'handoff' ? { ...s, n: (msg.state as { n: number }).n } : s),
};

const started: Node[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

async function cluster(n: number, network = new MemoryNetwork(), seed?: string): Promise<Node[]> {
  const start = (name: string, seeds: string[]) =>
    Node.start({ name, secret: SECRET, seeds, membership: TIMINGS, discoveryIntervalMs: 500, transport: network.transport() }).then((node) => {
      started.push(node);
      node.behaviors.register('session', session);
      return node;
    });
  const first = seed === undefined ? await start('d0', []) : undefined;
  const seeds = [seed ?? first!.id];
  const rest = await Promise.all(Array.from({ length: first === undefined ? n : n - 1 }, (_, i) => start(`d${i + (first === undefined ? 10 : 1)}`, seeds)));
  const nodes = first === undefined ? rest : [first, ...rest];
  await eventually(() => nodes.every((x) => x.members().filter((m) => m.status === 'alive').length >= n), 10_000);
  return nodes;
}

describe('distributed supervisor (memory transport)', () => {
  it('children spread over the members by the ring, one instance each, callable from any member', async () => {
    const nodes = await cluster(3);
    const sups = await Promise.all(nodes.map((n) => n.distributedSupervisor('sessions')));
    await eventually(() => sups.every((s) => s.members().length === 3), 2_000);
    for (let i = 0; i < 60; i++) await sups[i % 3]!.startChild({ id: `user:${i}`, behavior: 'session', args: { user: `u${i}` } });
    await eventually(() => sups.every((s) => s.children().every((c) => c.node !== undefined)), 2_000);
    const children = sups[0]!.children();
    expect(children).toHaveLength(60);
    for (const c of children) expect(c.node).toBe(sups[0]!.nodeFor(c.id));
    const perNode = nodes.map((n) => children.filter((c) => c.node === n.id).length);
    for (const count of perNode) expect(count).toBeGreaterThanOrEqual(60 / 3 / 2);
    expect(await sups[2]!.call('user:7', { type: 'add', n: 5 })).toBe(5);
    expect(await sups[1]!.call('user:7', { type: 'get' })).toEqual({ user: 'u7', n: 5 });
    expect((await rejection(sups[0]!.startChild({ id: 'user:7', behavior: 'session', args: { user: 'x' } }))).code).toBe('ALREADY_STARTED');
  });

  it('a member that stops: its permanent children run again on the others, spread, none twice; temporary ones do not', async () => {
    const nodes = await cluster(4);
    const sups = await Promise.all(nodes.map((n) => n.distributedSupervisor('sessions')));
    await eventually(() => sups.every((s) => s.members().length === 4), 2_000);
    for (let i = 0; i < 80; i++) await sups[0]!.startChild({ id: `p:${i}`, behavior: 'session', args: { user: `p${i}` } });
    for (let i = 0; i < 20; i++) await sups[0]!.startChild({ id: `t:${i}`, behavior: 'session', args: { user: `t${i}` }, restart: 'temporary' });
    const leaving = nodes[3]!;
    await eventually(() => sups[0]!.children().every((c) => c.node !== undefined), 2_000);
    const orphans = sups[0]!.children().filter((c) => c.node === leaving.id);
    expect(orphans.length).toBeGreaterThan(0);
    const temporaryOrphans = orphans.filter((c) => c.id.startsWith('t:')).map((c) => c.id);
    await leaving.stop();
    started.splice(started.indexOf(leaving), 1);
    const survivors = sups.slice(0, 3);
    await eventually(() => {
      const children = survivors[0]!.children();
      expect(children.filter((c) => c.id.startsWith('p:')).every((c) => c.node !== undefined && c.node !== leaving.id)).toBe(true);
    }, 5_000);
    const moved = orphans.filter((c) => c.id.startsWith('p:')).map((c) => survivors[0]!.children().find((x) => x.id === c.id)!.node);
    if (moved.length >= 4) expect(new Set(moved).size).toBeGreaterThan(1);
    // Temporary children that ran on the stopped member are gone for good.
    for (const id of temporaryOrphans) expect(survivors[0]!.children().some((c) => c.id === id)).toBe(false);
    // Exactly one instance each: every survivor's view agrees and no pid is shared.
    const views = survivors.map((s) => JSON.stringify(s.children()));
    expect(new Set(views).size).toBe(1);
  });

  it('terminateChild stops it everywhere; a crashed permanent child restarts; transient after a normal exit does not', async () => {
    const nodes = await cluster(2);
    const sups = await Promise.all(nodes.map((n) => n.distributedSupervisor('sessions')));
    await eventually(() => sups.every((s) => s.members().length === 2), 2_000);
    const a = await sups[0]!.startChild({ id: 'perm', behavior: 'session', args: { user: 'p' } });
    await sups[1]!.call('perm', { type: 'crash' }).catch(() => {});
    await eventually(() => {
      const now = sups[0]!.whereis('perm');
      expect(now).toBeDefined();
      expect(now!.id).not.toBe(a.ref!.id);
    }, 2_000);
    const t = await sups[1]!.startChild({ id: 'trans', behavior: 'session', args: { user: 't' }, restart: 'transient' });
    await nodes.find((n) => n.id === t.node)!.stopProcess(t.ref!, 'normal');
    await eventually(() => expect(sups[0]!.children().some((c) => c.id === 'trans')).toBe(false), 2_000);
    expect(await sups[1]!.terminateChild('perm')).toBe(true);
    await eventually(() => expect(sups.every((s) => s.children().length === 0)).toBe(true), 2_000);
  });

  it('active rebalance: a joining member takes only the children it now owns, with their state handed off', async () => {
    const network = new MemoryNetwork();
    const nodes = await cluster(2, network);
    const options = { rebalance: 'active' as const, handoff: async ({ ref }: { ref: import('../../../src/core/ids.js').Pid }) => ({ n: ((await nodes[0]!.call(ref, { type: 'get' })) as { n: number }).n }) };
    const sups = await Promise.all(nodes.map((n) => n.distributedSupervisor('sessions', options)));
    await eventually(() => sups.every((s) => s.members().length === 2), 2_000);
    for (let i = 0; i < 40; i++) {
      await sups[0]!.startChild({ id: `s:${i}`, behavior: 'session', args: { user: `s${i}` } });
      await sups[0]!.call(`s:${i}`, { type: 'add', n: i });
    }
    const before = new Map(sups[0]!.children().map((c) => [c.id, c.node]));
    const [joined] = await cluster(1, network, nodes[0]!.id);
    const sup3 = await joined!.distributedSupervisor('sessions', options);
    await eventually(() => sup3.members().length === 3, 2_000);
    await eventually(() => {
      for (const c of sups[0]!.children()) expect(c.node).toBe(sup3.nodeFor(c.id));
    }, 5_000);
    const after = sups[0]!.children();
    const moved = after.filter((c) => c.node !== before.get(c.id));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((c) => c.node === joined!.id)).toBe(true);
    for (const c of moved) expect(await sup3.call(c.id, { type: 'get' })).toMatchObject({ n: Number(c.id.slice(2)) });
  });

  it('what a member runs reaches the others again after a link that lost it comes back', async () => {
    const network = new MemoryNetwork();
    const faults = new FaultInjector();
    const start = (name: string, host: string, transport: StreamTransport, seeds: string[]) =>
      Node.start({ name, host, secret: SECRET, seeds, membership: TIMINGS, transport }).then((node) => {
        started.push(node);
        node.behaviors.register('session', session);
        return node;
      });
    const a = await start('a', '127.0.0.2', network.transport({ host: '127.0.0.2' }), []);
    const b = await start('b', '127.0.0.3', faults.wrap(network.transport({ host: '127.0.0.3' })), [a.id]);
    const [supA, supB] = await Promise.all([a.distributedSupervisor('sessions'), b.distributedSupervisor('sessions')]);
    await eventually(() => supA.members().length === 2 && supB.members().length === 2, 5_000);
    // b's news of the child (its spec, and that b runs it) is lost on the way to a...
    faults.block('127.0.0.2', 'out');
    const child = await supB.startChild({ id: 'lost', behavior: 'session', args: { user: 'l' } }, { node: b.id });
    expect(child.node).toBe(b.id);
    expect(supA.children()).toEqual([]);
    // ...and the link, whose next frames fail their integrity check, is set up again.
    faults.heal();
    await eventually(() => expect(supA.children()).toEqual([{ id: 'lost', node: b.id, ref: child.ref }]), 5_000);
  });
});

