/**
 * The distributed supervisor across real processes (child processes on 127.0.0.1, port 0): spread,
 * a SIGKILLed member, a restarted member with active rebalance, a 2+2 partition, temporary
 * children. Instances are counted by the processes really alive on each node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../../harness/cluster.js';
import { instances } from '../../harness/distributed-view.js';
import { eventually } from '../../helpers/eventually.js';

const DISTRIBUTED = new URL('../../harness/extensions/distributed.ts', import.meta.url).href;
const CASE_TIMEOUT = 120_000;

let current: TestCluster | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function started(n: number, rebalance: 'passive' | 'active'): Promise<TestCluster> {
  const cluster = (current = await TestCluster.start(n, { modules: [DISTRIBUTED] }));
  await cluster.converged(10_000);
  for (const node of cluster.nodes()) await node.command('joinSessions', rebalance);
  await eventually(async () => {
    for (const node of cluster.nodes()) expect(await node.command<string[]>('supMembers')).toHaveLength(n);
  }, 5_000);
  return cluster;
}

function expectOneEach(where: Map<string, string[]>, ids: readonly string[]): void {
  expect([...where.keys()].sort()).toEqual([...ids].sort());
  const duplicated = [...where].filter(([, nodes]) => nodes.length !== 1);
  expect(duplicated).toEqual([]);
}

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('distributed supervisor (processes)', () => {
  it('200 children spread over 4 nodes; a SIGKILLed node’s children run again on several survivors, none twice, temporary ones not; a restart with active rebalance moves only what it owns, with its state', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(4, 'active');
    const all = [0, 1, 2, 3];
    expect(await cluster.node(0).command<number>('startSessions', 'user:', 200)).toBe(200);
    expect(await cluster.node(1).command<number>('startSessions', 'temp:', 20, 'temporary')).toBe(20);
    const ids = range('user:', 200);
    const temps = range('temp:', 20);
    await eventually(async () => expectOneEach(await instances(cluster, all), [...ids, ...temps]), 5_000);
    const before = await instances(cluster, all);
    const share = all.map((i) => ids.filter((id) => before.get(id)![0] === cluster.node(i).id).length);
    for (const count of share) {
      expect(count).toBeGreaterThanOrEqual(25);
      expect(count).toBeLessThanOrEqual(75);
    }

    // Kill node 3: its permanent children come back on the survivors, spread, none twice.
    const victim = cluster.node(3);
    const orphans = ids.filter((id) => before.get(id)![0] === victim.id);
    const lostTemps = temps.filter((id) => before.get(id)![0] === victim.id);
    expect(orphans.length).toBeGreaterThan(0);
    const killedAt = performance.now();
    await cluster.kill(3);
    const survivors = [0, 1, 2];
    await eventually(
      async () => expectOneEach(await instances(cluster, survivors), [...ids, ...temps.filter((t) => !lostTemps.includes(t))]),
      15_000,
    );
    const recoveredMs = performance.now() - killedAt;
    const after = await instances(cluster, survivors);
    expect(new Set(orphans.map((id) => after.get(id)![0])).size).toBeGreaterThan(1);
    for (const id of ids) if (!orphans.includes(id)) expect(after.get(id)).toEqual(before.get(id));

    // Give every child a state to hand off, then bring node 3 back (active rebalance).
    for (const [k, id] of ids.entries()) expect(await cluster.node(k % 3).command('callSession', id, { type: 'add', n: k })).toMatchObject({ ok: true });
    const restarted = await cluster.restart(3);
    await restarted.command('joinSessions', 'active');
    await eventually(async () => {
      const now = await instances(cluster, all);
      expectOneEach(now, [...ids, ...temps.filter((t) => !lostTemps.includes(t))]);
      // It takes back children it owns; nothing moves between the others.
      const moved = ids.filter((id) => now.get(id)![0] !== after.get(id)![0]);
      expect(moved.length).toBeGreaterThan(0);
      for (const id of moved) expect(now.get(id)).toEqual([restarted.id]);
    }, 15_000);
    // The state travelled with every moved child.
    const now = await instances(cluster, all);
    for (const [k, id] of ids.entries()) {
      if (now.get(id)![0] !== restarted.id) continue;
      expect(await restarted.command('callSession', id, { type: 'get' })).toEqual({ ok: true, value: k });
    }
    console.info(`distributed supervisor: ${orphans.length} orphans of a killed node running again on survivors ${Math.round(recoveredMs)} ms after the kill`);
  });

  it('partition 2+2 with children started on both sides: after the heal exactly one of each within 2 s', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await started(4, 'passive');
    await cluster.partition([0, 1], [2, 3]);
    await eventually(async () => {
      expect(await cluster.node(0).command<string[]>('supMembers')).toHaveLength(2);
      expect(await cluster.node(2).command<string[]>('supMembers')).toHaveLength(2);
    }, 15_000);
    expect(await cluster.node(0).command<number>('startSessions', 'left:', 30)).toBe(30);
    expect(await cluster.node(2).command<number>('startSessions', 'right:', 30)).toBe(30);
    // The same ids on both sides too.
    expect(await cluster.node(1).command<number>('startSessions', 'both:', 20)).toBe(20);
    expect(await cluster.node(3).command<number>('startSessions', 'both:', 20)).toBe(20);
    await cluster.heal();
    await cluster.converged(20_000);
    const healedAt = performance.now();
    await eventually(async () => expectOneEach(await instances(cluster, [0, 1, 2, 3]), [...range('left:', 30), ...range('right:', 30), ...range('both:', 20)]), 2_000);
    console.info(`partition 2+2: one instance of each child ${Math.round(performance.now() - healedAt)} ms after membership agreed`);
  });
});
