/**
 * Remote processes on real clusters: every node its own Node.js process on its own loopback
 * address, driven over IPC by the harness. Calls, casts, spawns and monitors cross process
 * boundaries; failures are real (SIGKILL, cut sockets).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Pid } from '../../src/core/ids.js';
import { TestCluster, now, type ChildNode, type HarnessEvent } from '../harness/cluster.js';
import type { Outcome } from '../harness/extensions/remote.js';
import { eventually } from '../helpers/eventually.js';

const REMOTE = new URL('../harness/extensions/remote.ts', import.meta.url).href;
const CASE_TIMEOUT = 60_000;

afterEach(async () => {
  await TestCluster.stopAll();
});

interface DownData {
  readonly tag: string;
  readonly pid: Pid;
  readonly reason: string;
  readonly message: string | null;
}

const downs = (node: ChildNode, tag: string): DownData[] =>
  node.events.list.filter((e): e is Extract<HarnessEvent, { type: 'custom' }> => e.type === 'custom' && e.name === 'down').map((e) => e.data as DownData).filter((d) => d.tag === tag);

const ok = (o: Outcome): unknown => {
  if (!o.ok) throw new Error(`expected a reply, got ${o.code}: ${o.message}`);
  return o.value;
};

async function started(n: number): Promise<TestCluster> {
  const cluster = await TestCluster.start(n, { modules: [REMOTE] });
  await cluster.converged(10_000);
  return cluster;
}

describe('remote processes (processes)', () => {
  it('across 3 nodes — spawn on a second node, call and cast from a third, monitor and stop from the first', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(3);
    const [n0, n1, n2] = [cluster.node(0), cluster.node(1), cluster.node(2)];
    const ref = ok(await n0.command<Outcome>('spawnOn', 'kv', { greeting: 'hi' }, { on: n1.id, name: 'store' })) as Pid;
    expect(ref.node).toBe(n1.id);
    expect(ok(await n2.command<Outcome>('call', ref, { type: 'get', key: 'greeting' }))).toBe('hi');
    await n0.command('cast', ref, { type: 'put', key: 'k', value: [1, 'two', { three: 3 }] });
    expect(ok(await n0.command<Outcome>('call', ref, { type: 'get', key: 'k' }))).toEqual([1, 'two', { three: 3 }]);
    expect(ok(await n2.command<Outcome>('call', ref, { type: 'get', key: 'k' }))).toEqual([1, 'two', { three: 3 }]);
    await n0.command('monitor', ref, 'store');
    await n2.command('monitor', ref, 'store');
    ok(await n2.command<Outcome>('stopProcess', ref, 'normal'));
    await eventually(() => expect(downs(n0, 'store')).toEqual([expect.objectContaining({ reason: 'normal' })]), 5_000);
    await eventually(() => expect(downs(n2, 'store')).toEqual([expect.objectContaining({ reason: 'normal' })]), 5_000);
    const late = await n2.command<Outcome>('call', ref, { type: 'get', key: 'k' });
    expect(late).toMatchObject({ ok: false, code: 'NOPROC' });
    await n0.command('monitor', ref, 'gone');
    await eventually(() => expect(downs(n0, 'gone')).toEqual([expect.objectContaining({ reason: 'noproc' })]), 5_000);
    expect(await n0.command<Outcome>('spawnOn', 'missing', null, { on: n1.id })).toMatchObject({ ok: false, code: 'UNKNOWN_BEHAVIOR' });
  });

  it('kill — 1,000 calls in flight to a node that is SIGKILLed each settle with a reply or NOCONNECTION before their deadline; monitors fire noconnection', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(3);
    const [n0, n1, n2] = [cluster.node(0), cluster.node(1), cluster.node(2)];
    const ref = await n1.command<Pid>('spawnKv');
    await n0.command('monitor', ref, 'victim');
    await n2.command('monitor', ref, 'victim');
    const timeoutMs = 8_000;
    await n0.command('startCalls', 'batch', ref, 1_000, { type: 'sleep', ms: 2 }, timeoutMs);
    // Kill while the batch is being worked through: some calls answered, most still waiting.
    await eventually(async () => (await n1.command<number>('slept')) >= 20, 5_000);
    await cluster.kill(1);
    const result = await n0.command<{ total: number; byCode: Record<string, number>; latestMs: number }>('settleCalls', 'batch');
    expect(result.total).toBe(1_000);
    expect(Object.keys(result.byCode).sort()).toEqual(['NOCONNECTION', 'reply']);
    expect(result.byCode.reply).toBeGreaterThanOrEqual(20);
    expect(result.latestMs).toBeLessThan(timeoutMs);
    for (const n of [n0, n2]) {
      await eventually(() => expect(downs(n, 'victim')).toEqual([expect.objectContaining({ reason: 'noconnection' })]), 10_000);
    }
    console.info(`kill: ${result.byCode.reply} replies, ${result.byCode.NOCONNECTION} NOCONNECTION, the last settled ${Math.round(result.latestMs)} ms after the start`);
  });

  it('reconnect — a monitor survives a cut link: it fires exactly once, after the link is back', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(2);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const ref = await n1.command<Pid>('spawnKv');
    await n0.command('monitor', ref, 'kept');
    ok(await n0.command<Outcome>('call', ref, { type: 'echo', value: 1 }));
    await n0.cut(n1.host);
    await n0.heal(n1.host);
    // The link comes back by itself; membership never declared the node down.
    await eventually(async () => expect(ok(await n0.command<Outcome>('call', ref, { type: 'echo', value: 2 }, 500))).toBe(2), 10_000);
    expect(n0.events.list.some((e) => e.type === 'nodeDown')).toBe(false);
    expect(downs(n0, 'kept')).toEqual([]);
    ok(await n1.command<Outcome>('stopProcess', ref, 'shutdown'));
    await eventually(() => expect(downs(n0, 'kept')).toEqual([expect.objectContaining({ reason: 'shutdown' })]), 5_000);
    // Another cut and reconnect re-sends the monitors: the fired one must not fire again.
    await n0.cut(n1.host);
    await n0.heal(n1.host);
    const other = await n1.command<Pid>('spawnKv');
    await eventually(async () => expect(ok(await n0.command<Outcome>('call', other, { type: 'echo', value: 3 }, 500))).toBe(3), 10_000);
    expect(downs(n0, 'kept')).toHaveLength(1);
  });

  it('deadline — a handler on another node sees from.signal abort with TIMEOUT when its caller gives up', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(2);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const ref = await n1.command<Pid>('spawnKv');
    const started0 = now();
    expect(await n0.command<Outcome>('call', ref, { type: 'untilAbort' }, 300)).toMatchObject({ ok: false, code: 'TIMEOUT' });
    await eventually(async () => expect(await n1.command<string[]>('aborted')).toEqual(['TIMEOUT']), 5_000);
    // The caller's 300 ms travelled with the call: the handler did not wait for a default timeout.
    expect(now() - started0).toBeLessThan(4_000);
  });

  it('caller killed — the handler on the other node sees from.signal abort with NOCONNECTION', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(2);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const ref = await n0.command<Pid>('spawnKv');
    await n1.command('startCalls', 'held', ref, 1, { type: 'untilAbort' }, 60_000);
    await eventually(async () => expect(await n0.command<number>('untilAbortStarted')).toBe(1), 5_000);
    await cluster.kill(1);
    await eventually(async () => expect(await n0.command<string[]>('aborted')).toEqual(['NOCONNECTION']), 15_000);
  });

  it('monitor order — a process hears the last (large) message of a remote process it monitors before its $down', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(2);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const watching = ok(await n0.command<Outcome>('spawnOn', 'watcher', null, {})) as Pid;
    const finishing = ok(await n1.command<Outcome>('spawnOn', 'finisher', null, {})) as Pid;
    expect(ok(await n0.command<Outcome>('call', watching, { type: 'watch', target: finishing }))).toBe('watching');
    // The monitor and this cast both travel on the finisher's lane: the monitor is in place first.
    await n0.command('cast', finishing, { type: 'finish', to: watching, bytes: 2 * 1024 * 1024 });
    const heard = async () => ok(await n0.command<Outcome>('call', watching, { type: 'heard' })) as string[];
    await eventually(async () => expect(await heard()).toHaveLength(2), 10_000);
    expect(await heard()).toEqual([`result of ${2 * 1024 * 1024} bytes`, '$down normal']);
  });

  it('partition — 3+2, the same global name registered on both sides; after the heal one owner everywhere and the loser exited with name_conflict', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(5);
    const nodes = cluster.nodes();
    const [sideA, sideB] = [[0, 1, 2], [3, 4]] as const;
    await cluster.partition(sideA, sideB);
    for (const i of sideA) for (const j of sideB) await cluster.node(i).events.waitFor((e) => e.type === 'nodeDown' && e.node === cluster.node(j).id, 15_000);
    for (const j of sideB) for (const i of sideA) await cluster.node(j).events.waitFor((e) => e.type === 'nodeDown' && e.node === cluster.node(i).id, 15_000);
    const [n0, n3] = [cluster.node(0), cluster.node(3)];
    const first = await n0.command<Pid>('spawnKv');
    ok(await n0.command<Outcome>('register', 'leader', first));
    const second = await n3.command<Pid>('spawnKv');
    ok(await n3.command<Outcome>('register', 'leader', second));
    await n0.command('monitor', first, 'first');
    await n3.command('monitor', second, 'second');
    // Groups: each side has its own members.
    await n0.command('join', 'room', first);
    await n3.command('join', 'room', second);
    await eventually(async () => {
      for (const i of sideA) expect((await cluster.node(i).command<Pid | null>('whereisGlobal', 'leader'))?.id).toBe(first.id);
      for (const j of sideB) expect((await cluster.node(j).command<Pid | null>('whereisGlobal', 'leader'))?.id).toBe(second.id);
    }, 5_000);
    const healedAt = now();
    await cluster.heal();
    // `first` registered earlier, so it wins everywhere, within 2 s of the heal.
    await eventually(async () => {
      for (const n of nodes) expect([n.id, await n.command<Pid | null>('whereisGlobal', 'leader')]).toEqual([n.id, first]);
    }, 2_000);
    const registryMs = now() - healedAt;
    await eventually(() => expect(downs(n3, 'second')).toEqual([expect.objectContaining({ reason: 'name_conflict' })]), 2_000);
    expect(downs(n0, 'first')).toEqual([]);
    expect(await n0.command<boolean>('isAlive', first)).toBe(true);
    // The loser exited, so it left the group; the winner is the only member everywhere.
    await eventually(async () => {
      for (const n of nodes) expect(await n.command<Pid[]>('groupMembers', 'room')).toEqual([first]);
    }, 2_000);
    await cluster.converged(10_000);
    console.info(`partition 3+2: one owner of the name everywhere ${Math.round(registryMs)} ms after the heal`);
  });

  it('groups — joins made on both sides of a partition converge after the heal', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(4);
    const nodes = cluster.nodes();
    await cluster.partition([0, 1], [2, 3]);
    for (const [i, j] of [[0, 2], [0, 3], [1, 2], [1, 3], [2, 0], [2, 1], [3, 0], [3, 1]] as const) {
      await cluster.node(i).events.waitFor((e) => e.type === 'nodeDown' && e.node === cluster.node(j).id, 15_000);
    }
    const pids: Pid[] = [];
    for (const n of nodes) {
      const pid = await n.command<Pid>('spawnKv');
      await n.command('join', 'workers', pid);
      pids.push(pid);
    }
    await cluster.node(1).command('leave', 'workers', pids[1]);
    await cluster.heal();
    await cluster.converged(20_000);
    const expected = [pids[0], pids[2], pids[3]].map((p) => p!.node).sort();
    await eventually(async () => {
      for (const n of nodes) expect([n.id, (await n.command<Pid[]>('groupMembers', 'workers')).map((p) => p.node).sort()]).toEqual([n.id, expected]);
    }, 2_000);
  });
});

