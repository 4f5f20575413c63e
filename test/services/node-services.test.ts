/**
 * The global registry and groups as a node offers them (`node.registry`, `node.groups`), between
 * nodes in one Node.js process over the memory transport. Partitions of real processes are in
 * `test/remote/remote-process.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../../src/node.js';
import type { Behavior } from '../../src/process/behavior.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { eventually } from '../helpers/eventually.js';
import { rejection } from '../helpers/errors.js';

const SECRET = 'cohort services memory secret';
const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000, pushPullIntervalMs: 1_000 };

const started: Node[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

type EchoCall = { type: 'echo'; value: unknown };
const echo: Behavior<string, { name: string; inbox: unknown[] }, EchoCall, unknown> = {
  init: (name) => ({ name, inbox: [] }),
  handleCall: (msg, state) => [{ from: state.name, value: msg.value }, state],
  handleInfo: (msg, state) => {
    state.inbox.push(msg);
    return state;
  },
};
type Inbox = { type: 'inbox' };
const collector: Behavior<null, unknown[], Inbox, unknown[]> = {
  init: () => [],
  handleCall: (_msg, inbox) => [inbox, inbox],
  handleInfo: (msg, inbox) => [...inbox, msg],
};

async function cluster(n: number): Promise<Node[]> {
  const network = new MemoryNetwork();
  const start = (name: string, seeds: string[]) =>
    Node.start({ name, secret: SECRET, seeds, membership: TIMINGS, discoveryIntervalMs: 500, transport: network.transport() }).then((node) => {
      started.push(node);
      node.behaviors.register('echo', echo);
      return node;
    });
  const first = await start('s0', []);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => start(`s${i + 1}`, [first.id])));
  const nodes = [first, ...rest];
  await eventually(() => nodes.every((x) => x.members().filter((m) => m.status === 'alive').length === n), 10_000);
  return nodes;
}

describe('node services (memory transport)', () => {
  it('registry — a name registered on one node is visible on every node and callable by name from anywhere', async () => {
    const [a, b, c] = await cluster(3);
    const ref = await a!.spawn(echo, 'leader');
    await a!.registry.register('leader', ref);
    await eventually(() => [a!, b!, c!].every((n) => n.registry.whereis('leader')?.id === ref.id), 2_000);
    expect(await c!.call('leader', { type: 'echo', value: 1 })).toEqual({ from: 'leader', value: 1 });
    c!.send('leader', { hello: 'there' });
    await eventually(async () => expect(await b!.call<typeof echo>('leader', { type: 'echo', value: 2 })).toEqual({ from: 'leader', value: 2 }));
  });

  it('registry — NAME_TAKEN; the exit of the holder and unregister propagate; a stopped node takes its names with it', async () => {
    const [a, b] = await cluster(2);
    const one = await a!.spawn(echo, 'one');
    await a!.registry.register('x', one);
    await eventually(() => b!.registry.whereis('x') !== undefined);
    const other = await b!.spawn(echo, 'other');
    expect((await rejection(b!.registry.register('x', other))).code).toBe('NAME_TAKEN');
    await a!.stopProcess(one);
    await eventually(() => b!.registry.whereis('x') === undefined);
    await b!.registry.register('x', other);
    await eventually(() => a!.registry.whereis('x')?.id === other.id);
    expect(a!.registry.unregister('x')).toBe(true);
    await eventually(() => b!.registry.whereis('x') === undefined);
    await b!.registry.register('y', other);
    await eventually(() => a!.registry.whereis('y') !== undefined);
    await b!.stop();
    await eventually(() => a!.registry.whereis('y') === undefined, 5_000);
  });

  it('spawn with global — here or on another node; a taken name fails with NAME_TAKEN and the new process is stopped', async () => {
    const [a, b] = await cluster(2);
    const here = await a!.spawn(echo, 'here', { name: 'g1', global: true });
    const there = await a!.spawn('echo', 'there', { name: 'g2', global: true, on: b!.id });
    expect(there.node).toBe(b!.id);
    await eventually(() => a!.registry.whereis('g2')?.id === there.id && b!.registry.whereis('g1')?.id === here.id);
    const before = b!.processCount();
    expect((await rejection(a!.spawn('echo', 'dup', { name: 'g1', global: true, on: b!.id }))).code).toBe('NAME_TAKEN');
    expect(b!.processCount()).toBe(before);
    expect((await rejection(b!.spawn(echo, 'dup', { name: 'g2', global: true }))).code).toBe('NAME_TAKEN');
    expect(b!.processCount()).toBe(before);
  });

  it('groups — joins on several nodes converge everywhere; broadcast reaches every member; a dead member is removed', async () => {
    const [a, b, c] = await cluster(3);
    const pa = await a!.spawn(collector, null);
    const pb = await b!.spawn(collector, null);
    a!.groups.join('room', pa);
    a!.groups.join('room', pa);
    b!.groups.join('room', pb);
    await eventually(() => [a!, b!, c!].every((n) => n.groups.members('room').length === 3), 2_000);
    expect(c!.groups.localMembers('room')).toEqual([]);
    expect(a!.groups.localMembers('room')).toHaveLength(2);
    c!.groups.broadcast('room', { type: 'news' });
    await eventually(async () => expect(await a!.call(pb, { type: 'inbox' })).toEqual([{ type: 'news' }]));
    await eventually(async () => expect((await a!.call(pa, { type: 'inbox' })).length).toBeGreaterThanOrEqual(1));
    await b!.stopProcess(pb);
    await eventually(() => [a!, c!].every((n) => n.groups.members('room').every((p) => p.node === a!.id)), 2_000);
  });
});
