/**
 * Services across real processes (child processes on 127.0.0.1, port 0): balanced load over
 * providers that are killed, fail, drain or stop; filters; no providers; re-advertising after a
 * partition heals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../../harness/cluster.js';
import { eventually } from '../../helpers/eventually.js';

const SERVICES = new URL('../../harness/extensions/services.ts', import.meta.url).href;
const CASE_TIMEOUT = 90_000;

let current: TestCluster | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

/** A cluster of `n` whose nodes 1..n-1 expose `work`; node 0 is the client. */
async function withProviders(n: number): Promise<TestCluster> {
  const cluster = (current = await TestCluster.start(n, { modules: [SERVICES] }));
  await cluster.converged(10_000);
  for (let i = 1; i < n; i++) await cluster.node(i).command('expose', 'work');
  const client = cluster.node(0);
  // The last provider's advertisement reaches the client within 500 ms.
  await eventually(async () => expect(await client.command<string[]>('providers', 'work')).toHaveLength(n - 1), 500);
  return cluster;
}

type LoadResult = { total: number; byCode: Record<string, number>; byNode: Record<string, number>; errors: string[] };
type Stats = { node: string; inFlight: number; calls: number; failures: number; breaker: string }[];

describe('services (processes)', () => {
  it('failover — 4 providers, one SIGKILLed under load: every call succeeds on the others', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(5);
    const client = cluster.node(0);
    const victim = cluster.node(2);
    await client.command('startLoad', 'kill', 'work', 'work', [5], 3_000, 32, { algorithm: 'round-robin', timeoutMs: 2_000 });
    await eventually(async () => expect(await client.command<number>('loadProgress', 'kill')).toBeGreaterThan(500), 20_000);
    await victim.kill();
    const result = await client.command<LoadResult>('settleLoad', 'kill');
    expect(result.errors).toEqual([]);
    expect(result.byCode).toEqual({ reply: 3_000 });
    // The survivors took the load after the kill.
    for (const i of [1, 3, 4]) expect(result.byNode[cluster.node(i).id]).toBeGreaterThan(500);
    // The dead provider leaves every table.
    await eventually(async () => expect(await client.command<string[]>('providers', 'work')).not.toContain(victim.id), 5_000);
    const stats = await client.command<Stats>('loadStats', 'kill');
    expect(stats.every((s) => s.inFlight === 0)).toBe(true);
  });

  it('breaker — a provider that throws retryable errors trips its breaker and the traffic moves to the others', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(4);
    const client = cluster.node(0);
    const bad = cluster.node(1);
    await bad.command('setFailing', true);
    await client.command('startLoad', 'trip', 'work', 'work', [1], 300, 4, { algorithm: 'round-robin', breaker: { failureThreshold: 3, cooldownMs: 60_000 } });
    const result = await client.command<LoadResult>('settleLoad', 'trip');
    expect(result.byCode).toEqual({ reply: 300 });
    expect(result.byNode[bad.id]).toBeUndefined();
    const stats = Object.fromEntries((await client.command<Stats>('loadStats', 'trip')).map((s) => [s.node, s]));
    // It opened at the third consecutive failure; calls already on their way to it (at most one per
    // other worker) failed over too.
    expect(stats[bad.id]).toMatchObject({ breaker: 'open', inFlight: 0 });
    expect(stats[bad.id]!.failures).toBeGreaterThanOrEqual(3);
    expect(stats[bad.id]!.failures).toBeLessThanOrEqual(3 + 3);
    expect(stats[bad.id]!.calls).toBe(stats[bad.id]!.failures);
    for (const i of [2, 3]) expect(stats[cluster.node(i).id]).toMatchObject({ breaker: 'closed', failures: 0 });
  });

  it('draining — unexpose during load: the provider leaves every table first, finishes what it runs, and no call is lost', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(4);
    const client = cluster.node(0);
    const leaving = cluster.node(1);
    await client.command('startLoad', 'drain', 'work', 'work', [20], 1_200, 24, { algorithm: 'least-connections' });
    await eventually(async () => expect(await leaving.command<number>('running', 'work')).toBeGreaterThan(0), 10_000);
    await leaving.command('startUnexpose', 'work');
    await eventually(async () => expect(await client.command<string[]>('providers', 'work')).not.toContain(leaving.id), 500);
    expect(await leaving.command('settleUnexpose', 'work')).toEqual({ ok: true, value: true });
    expect(await leaving.command<number>('running', 'work')).toBe(0);
    const result = await client.command<LoadResult>('settleLoad', 'drain');
    expect(result.errors).toEqual([]);
    expect(result.byCode).toEqual({ reply: 1_200 });
    expect(result.byNode[leaving.id]).toBeGreaterThan(0);
  });

  it('draining — a graceful node.stop() during load loses no call', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(4);
    const client = cluster.node(0);
    await client.command('startLoad', 'stop', 'work', 'work', [20], 1_200, 24, { algorithm: 'power-of-two' });
    await eventually(async () => expect(await cluster.node(3).command<number>('running', 'work')).toBeGreaterThan(0), 10_000);
    await cluster.stopNode(3);
    const result = await client.command<LoadResult>('settleLoad', 'stop');
    expect(result.errors).toEqual([]);
    expect(result.byCode).toEqual({ reply: 1_200 });
  });

  it('filter — a RegExp on the node id keeps the calls on the matching providers', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(4);
    const client = cluster.node(0);
    const keep = [cluster.node(1).id, cluster.node(3).id];
    const filter = `^(${keep.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
    await client.command('startLoad', 'filter', 'work', 'where', [], 200, 8, { algorithm: 'random', filter });
    const result = await client.command<LoadResult>('settleLoad', 'filter');
    expect(result.byCode).toEqual({ reply: 200 });
    expect(Object.keys(result.byNode).sort()).toEqual(keep.sort());
  });

  it('no providers — NO_PROVIDERS after the bounded wait', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(2);
    const client = cluster.node(0);
    const startedAt = performance.now();
    const outcome = await client.command<{ ok: boolean; code?: string }>('callBalanced', 'missing', 'where', [], { waitForProvidersMs: 300 });
    const elapsed = performance.now() - startedAt;
    expect(outcome).toMatchObject({ ok: false, code: 'NO_PROVIDERS' });
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('partition — providers on the far side disappear, and are advertised again after the heal', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await withProviders(3);
    const client = cluster.node(0);
    await cluster.partition([0], [1, 2]);
    await eventually(async () => expect(await client.command<string[]>('providers', 'work')).toEqual([]), 15_000);
    const during = await client.command<{ ok: boolean; code?: string }>('callBalanced', 'work', 'where', [], { waitForProvidersMs: 100 });
    expect(during).toMatchObject({ ok: false, code: 'NO_PROVIDERS' });
    await cluster.heal();
    await cluster.converged(20_000);
    await eventually(async () => expect((await client.command<string[]>('providers', 'work')).sort()).toEqual([cluster.node(1).id, cluster.node(2).id].sort()), 2_000);
    expect(await client.command('callBalanced', 'work', 'where', [])).toMatchObject({ ok: true });
  });
});
