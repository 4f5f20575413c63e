/**
 * Balancer benchmark (part of `npm run bench`):
 *
 * 1. Selection cost: what one `select` of each built-in algorithm costs at 3 and 100 providers
 *    (see `bench/balancer-select.ts`).
 * 2. One slow provider among four: five nodes in this process over the memory transport (the real
 *    codec on every message), four exposing a service whose handler waits `FAST_MS` (one of them
 *    5× that), one client driving `CONCURRENCY` calls at a time through a balancer for `RUN_MS`.
 *    Every call's latency is recorded; the report gives p50/p99 per algorithm, with and without
 *    the slow provider, the share of calls the slow one got, and the ratio p99(one slow) /
 *    p99(all fast, same algorithm). Target: ≤ 1.5× for `power-of-two` and `least-connections`.
 *
 * Run with `npm run bench:balancer` (about 30 s).
 */
import { performance } from 'node:perf_hooks';
import { Node } from '../src/node.js';
import { MemoryNetwork } from '../src/transport/memory.js';
import { selectionCosts } from './balancer-select.js';
import { table } from './stats.js';

const FAST_MS = 4;
const SLOW_FACTOR = 5;
const CONCURRENCY = 16;
const RUN_MS = 2_000;
const WARMUP_MS = 300;
const ALGORITHMS = ['round-robin', 'power-of-two', 'least-connections'] as const;

interface Run {
  readonly algorithm: string;
  readonly slow: boolean;
  readonly calls: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly slowShare: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function cluster(slow: boolean): Promise<{ client: Node; slowNode: string; stop: () => Promise<void> }> {
  const network = new MemoryNetwork();
  const timings = { probeIntervalMs: 500, probeTimeoutMs: 250, suspicionTimeoutMs: 3_000 };
  const start = (name: string, seeds: string[]) => Node.start({ name, seeds, membership: timings, transport: network.transport(), secret: 'cohort balancer bench' });
  const client = await start('client', []);
  const providers = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((n) => start(n, [client.id])));
  providers.forEach((p, i) => {
    const ms = slow && i === providers.length - 1 ? FAST_MS * SLOW_FACTOR : FAST_MS;
    p.rpc.expose('svc', { work: () => new Promise<string>((r) => setTimeout(() => r(p.id), ms)) });
  });
  for (let i = 0; i < 500 && client.rpc.providers('svc').length < providers.length; i++) await new Promise((r) => setTimeout(r, 10));
  return {
    client,
    slowNode: providers[providers.length - 1]!.id,
    stop: async () => {
      await Promise.all([client, ...providers].map((n) => n.stop()));
    },
  };
}

async function measure(algorithm: string, slow: boolean): Promise<Run> {
  const c = await cluster(slow);
  try {
    const lb = c.client.balancer('svc', { algorithm, breaker: false });
    const samples: number[] = [];
    let toSlow = 0;
    const drive = async (ms: number, record: boolean) => {
      const end = performance.now() + ms;
      const worker = async () => {
        while (performance.now() < end) {
          const t = performance.now();
          const node = await lb.call('work', []);
          if (!record) continue;
          samples.push(performance.now() - t);
          if (node === c.slowNode) toSlow++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    };
    await drive(WARMUP_MS, false);
    await drive(RUN_MS, true);
    samples.sort((a, b) => a - b);
    return { algorithm, slow, calls: samples.length, p50: percentile(samples, 0.5), p90: percentile(samples, 0.9), p99: percentile(samples, 0.99), slowShare: toSlow / samples.length };
  } finally {
    await c.stop();
  }
}

export async function slowProvider(): Promise<Run[]> {
  const runs: Run[] = [];
  await measure('round-robin', false); // warms up the JIT and the timers; not reported
  for (const algorithm of ALGORITHMS) {
    runs.push(await measure(algorithm, false));
    runs.push(await measure(algorithm, true));
  }
  return runs;
}

async function main(): Promise<void> {
  const costs = selectionCosts();
  console.log('\nbalancer — selection cost per call (ns, median of rounds; tsx sources)');
  const sizes = [...new Set(costs.map((c) => c.candidates))];
  const names = [...new Set(costs.map((c) => c.algorithm))];
  console.log(table(['algorithm', ...sizes.map((n) => `${n} providers`)], names.map((a) => [a, ...sizes.map((n) => costs.find((c) => c.algorithm === a && c.candidates === n)!.nsPerOp.toFixed(0))])));

  console.log(`\nbalancer — one provider ${SLOW_FACTOR}× slower among 4 (${FAST_MS} ms handlers, ${CONCURRENCY} calls in flight, ${RUN_MS} ms per run, memory transport)`);
  const runs = await slowProvider();
  const rows = ALGORITHMS.map((a) => {
    const fast = runs.find((r) => r.algorithm === a && !r.slow)!;
    const slow = runs.find((r) => r.algorithm === a && r.slow)!;
    return [a, fast.p50.toFixed(1), fast.p99.toFixed(1), slow.p50.toFixed(1), slow.p90.toFixed(1), slow.p99.toFixed(1), `${(100 * slow.slowShare).toFixed(1)} %`, `${(slow.p99 / fast.p99).toFixed(2)}×`];
  });
  console.log(table(['algorithm', 'all fast p50 ms', 'p99 ms', 'one slow p50 ms', 'p90 ms', 'p99 ms', 'calls to slow', 'p99 slow/fast'], rows));
  const target = ALGORITHMS.filter((a) => a !== 'round-robin').map((a) => {
    const fast = runs.find((r) => r.algorithm === a && !r.slow)!;
    const slow = runs.find((r) => r.algorithm === a && r.slow)!;
    return `${a}: ${(slow.p99 / fast.p99).toFixed(2)}× ${slow.p99 / fast.p99 <= 1.5 ? '(met)' : '(missed)'}`;
  });
  console.log(`target p99(one slow) ≤ 1.5× p99(all fast): ${target.join(', ')}`);
  // Why the target is out of reach for these two: both balance in-flight counts (DESIGN.md,
  // decision 7). Equal in-flight counts mean, by Little's law, calls in proportion to speed, so
  // the slow provider gets about 1 / (1 + 3 × SLOW_FACTOR) of them; p99 falls among its calls as
  // soon as that share passes 1 %.
  const share = 1 / (1 + 3 * SLOW_FACTOR);
  const measured = ALGORITHMS.filter((a) => a !== 'round-robin').map((a) => `${a} ${(100 * runs.find((r) => r.algorithm === a && r.slow)!.slowShare).toFixed(1)} %`);
  console.log(
    `in-flight balancing sends the slow provider about 1/(1 + 3×${SLOW_FACTOR}) = ${(100 * share).toFixed(1)} % of calls (measured: ${measured.join(', ')}); ` +
      'p99 lies among its calls whenever that share is over 1 %, so the p99 target needs a latency-aware choice, not an in-flight one (p90 shows what these algorithms gain over round-robin)',
  );
}

await main();
