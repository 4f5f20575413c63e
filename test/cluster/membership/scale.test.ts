/**
 * Scale: membership cost per node stays constant as the cluster grows (DESIGN.md, "Scale").
 *
 * For N = 10, 50, 100, 250 simulated nodes with default options: all join through one seed at
 * once and converge; then, in steady state, messages sent per node per protocol period are
 * counted over a window, probe traffic (ping, ack, ping-req) apart from push-pull (`sync`, O(n)
 * in size, one exchange per node per 30 s). At N = 250 one node is then killed and everyone must
 * detect it.
 *
 * Why the bound. Per period a node sends one ping (its own probe) and one ack per ping it
 * receives; since every node sends one ping per period, it receives one on average. A failed probe
 * adds k = 3 ping-reqs, and a helper sends one ping and one relayed ack per ping-req, but no probe
 * fails in a healthy steady state. So the mean is 2 per node per period whatever N is (±10% from
 * the period's jitter): we assert ≤ 2.2. One node's own count varies with how often it happens to
 * be probed in the window (round-robin makes that about once per period); we assert ≤ 2 + 2 = 4
 * for every node. Neither bound mentions N, and the N = 250 to N = 10 ratio must be ≤ 1.5.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork, simId } from './helpers/sim.js';

const PERIOD_MS = 500; // MEMBERSHIP_DEFAULTS.probeIntervalMs
const PROBE_TRAFFIC = ['ping', 'ack', 'ping-req'];

interface Result {
  n: number;
  convergedMs: number;
  mean: number;
  max: number;
  syncPerNodePerPeriod: number;
  maxPiggyback: number;
  maxProbeBytes: number;
}

const results = new Map<number, Result>();

async function steadyState(n: number, periods: number, net = new SimNetwork({ seed: n })): Promise<{ net: SimNetwork; result: Result }> {
  const nodes = Array.from({ length: n }, (_, i) => net.add(simId(i)));
  nodes[0]!.m.start();
  for (const node of nodes.slice(1)) node.m.join([simId(0)]);
  const ids = nodes.map((x) => x.id);
  const convergedMs = await net.runUntil(() => net.converged(ids), 150_000, PERIOD_MS);

  const before = ids.map((id) => [net.sentBy(id, PROBE_TRAFFIC), net.sentBy(id, ['sync'])] as const);
  await net.run(periods * PERIOD_MS);
  const perNode = ids.map((id, i) => (net.sentBy(id, PROBE_TRAFFIC) - before[i]![0]) / periods);
  const syncs = ids.reduce((sum, id, i) => sum + net.sentBy(id, ['sync']) - before[i]![1], 0);
  expect(net.converged(ids)).toBe(true); // nothing was disturbed meanwhile

  const probeSizes = PROBE_TRAFFIC.map((t) => net.largest.get(t) ?? { records: 0, bytes: 0 });
  const result: Result = {
    n,
    convergedMs,
    mean: perNode.reduce((a, b) => a + b, 0) / n,
    max: Math.max(...perNode),
    syncPerNodePerPeriod: syncs / n / periods,
    // over the whole run, the join's burst of updates included
    maxPiggyback: Math.max(...probeSizes.map((s) => s.records)),
    maxProbeBytes: Math.max(...probeSizes.map((s) => s.bytes)),
  };
  results.set(n, result);
  return { net, result };
}

function expectConstantCost(r: Result): void {
  expect(r.mean).toBeGreaterThan(1.8);
  expect(r.mean).toBeLessThanOrEqual(2.2);
  expect(r.max).toBeLessThanOrEqual(4);
  expect(r.maxPiggyback).toBeLessThanOrEqual(8); // MEMBERSHIP_DEFAULTS.maxPiggyback
  expect(r.syncPerNodePerPeriod).toBeLessThan(0.1); // about 2 / 60: a request and a reply per 30 s
}

describe('scale — constant cost per node', () => {
  it('scale — N = 10: about 2 probe messages per node per period', async () => {
    expectConstantCost((await steadyState(10, 60)).result);
  }, 60_000);

  it('scale — N = 50: about 2 probe messages per node per period', async () => {
    expectConstantCost((await steadyState(50, 60)).result);
  }, 60_000);

  it('scale — N = 100: about 2 probe messages per node per period', async () => {
    expectConstantCost((await steadyState(100, 60)).result);
  }, 60_000);

  it('scale — N = 250: converges, costs the same per node, and everyone detects a killed member', async () => {
    const { net, result } = await steadyState(250, 60);
    expectConstantCost(result);

    const victim = simId(137);
    net.crash(victim);
    const live = [...net.nodes.keys()].filter((id) => id !== victim);
    const detectMs = await net.runUntil(() => live.every((id) => net.node(id).m.member(victim)?.status === 'dead'), 60_000, 100);
    // detection (≈ 1-2 periods: ~1 prober per period) + suspicion 3 s × log10(250) ≈ 7.2 s + gossip
    expect(detectMs).toBeLessThanOrEqual(12_000);
    for (const id of live) expect(net.eventsOf(id, 'nodeDown', victim)).toHaveLength(1);
    (result as Result & { detectMs?: number }).detectMs = detectMs;
  }, 120_000);

  it('scale — the per-node cost at N = 250 is within 1.5× of N = 10, and message size does not grow with N', () => {
    const small = results.get(10);
    const big = results.get(250);
    expect(small).toBeDefined();
    expect(big).toBeDefined();
    expect(big!.mean / small!.mean).toBeLessThanOrEqual(1.5);
    expect(big!.max / small!.max).toBeLessThanOrEqual(1.5);
    // Non-sync messages carry at most maxPiggyback records, so their size is bounded independently of N.
    expect(big!.maxProbeBytes).toBeLessThanOrEqual(small!.maxProbeBytes * 1.5);
    console.log(
      'membership scale (per node per 500 ms period, probe traffic; sync separately):\n' +
        [...results.values()]
          .map(
            (r) =>
              `  N=${r.n}: converged in ${r.convergedMs} ms, mean ${r.mean.toFixed(3)}, max ${r.max.toFixed(2)}, ` +
              `sync ${r.syncPerNodePerPeriod.toFixed(3)}, ≤${r.maxPiggyback} records / ${r.maxProbeBytes} B per probe message` +
              ('detectMs' in r ? `, kill detected by all in ${String(r.detectMs)} ms` : ''),
          )
          .join('\n'),
    );
  });
});
