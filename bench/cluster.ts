/**
 * Cluster figures on real processes (the child-process harness of test/harness/cluster.ts):
 *
 * - `cluster-kill`: time from SIGKILL of one node to the last survivor's `nodeDown`, over
 *   `trials` kills in a 5-node cluster (each victim is restarted and the cluster re-converges
 *   before the next trial);
 * - `cluster-freeze`: time from SIGSTOP of one node to the last survivor's `nodeDown`, likewise
 *   (the victim is thawed, refutes, and the cluster re-converges before the next trial);
 * - `cluster-bytes`: membership bytes per node per second in steady state at 10 and 50 nodes:
 *   every byte the nodes' sockets carried during a window after convergence (framing, handshake
 *   and encryption included: links are authenticated and encrypted with a shared secret), counted
 *   by a byte counter around each node's TCP transport. Nothing but membership runs on these links.
 *
 * Every figure uses the library's default membership timings (`MEMBERSHIP_DEFAULTS`: 500 ms
 * probe period, 200 ms probe timeout, 3 indirect probes, 3 s suspicion × max(1, log10 n), 400 ms
 * suspicion after a lost connection, 30 s push-pull). Times are compared across processes with
 * `performance.timeOrigin + performance.now()`. Each node runs the TypeScript sources through tsx
 * (what the figures measure is timing and bytes, not CPU speed).
 *
 * Usage: `npx tsx bench/cluster.ts [--quick] [cluster-kill] [cluster-freeze] [cluster-bytes]`
 * prints a table; `clusterSections()` returns the results for `bench/run.ts`.
 */
import { pathToFileURL } from 'node:url';
import { MEMBERSHIP_DEFAULTS } from '../src/cluster/membership/options.js';
import { TestCluster, type ByteTotals, type ChildNode, type HarnessEvent } from '../test/harness/cluster.js';
import { median } from './stats.js';

/** What to measure and how long. */
export interface ClusterBenchOptions {
  /** Fewer trials, smaller clusters and a shorter window (a smoke run, not for comparison). @default false */
  readonly quick?: boolean;
  /** Sections to run, by name. @default all */
  readonly only?: readonly string[];
  /** Kill and freeze trials. @default 10 (3 when quick) */
  readonly trials?: number;
  /** Cluster sizes for the bytes section. @default [10, 50] ([10] when quick) */
  readonly sizes?: readonly number[];
  /** Steady-state window of the bytes section. @default 20_000 (8_000 when quick) */
  readonly windowMs?: number;
  /** Progress lines go here. @default stderr */
  readonly log?: (line: string) => void;
}

/** The result of one section. */
export interface ClusterSectionResult {
  readonly name: string;
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** The headline numbers, by key (e.g. `medianMs`, `maxMs`, `n10.outBytesPerNodePerSec`). */
  readonly figures: Readonly<Record<string, number>>;
  /** Raw samples (ms per trial), where the section has trials. */
  readonly samples?: readonly number[];
  readonly notes: readonly string[];
  readonly quick: boolean;
  readonly measuredAt: string;
}

/** The sections of this file, by name. */
export const CLUSTER_SECTION_NAMES = ['cluster-kill', 'cluster-freeze', 'cluster-bytes'] as const;

const TIMINGS_NOTE =
  `default membership timings: probe every ${MEMBERSHIP_DEFAULTS.probeIntervalMs} ms, probe timeout ${MEMBERSHIP_DEFAULTS.probeTimeoutMs} ms, ` +
  `${MEMBERSHIP_DEFAULTS.indirectProbes} indirect probes, suspicion ${MEMBERSHIP_DEFAULTS.suspicionTimeoutMs} ms × max(1, log10 n), ` +
  `${MEMBERSHIP_DEFAULTS.connectionLostSuspicionMs} ms after a lost connection, push-pull every ${MEMBERSHIP_DEFAULTS.pushPullIntervalMs} ms`;

/** Runs the cluster sections and returns their results. */
export async function clusterSections(options: ClusterBenchOptions = {}): Promise<ClusterSectionResult[]> {
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const wanted = options.only === undefined || options.only.length === 0 ? CLUSTER_SECTION_NAMES : CLUSTER_SECTION_NAMES.filter((s) => options.only!.includes(s));
  const trials = options.trials ?? (quick ? 3 : 10);
  const results: ClusterSectionResult[] = [];
  try {
    if (wanted.includes('cluster-kill')) results.push(await detection('kill', trials, quick, log));
    if (wanted.includes('cluster-freeze')) results.push(await detection('freeze', trials, quick, log));
    if (wanted.includes('cluster-bytes')) {
      results.push(await steadyBytes(options.sizes ?? (quick ? [10] : [10, 50]), options.windowMs ?? (quick ? 8_000 : 20_000), quick, log));
    }
  } finally {
    await TestCluster.stopAll();
  }
  return results;
}

/** Waits until every node of `on` recorded `nodeDown` for `victim` at or after `since`; returns the latest time. */
async function lastNodeDown(on: readonly ChildNode[], victim: string, since: number, timeoutMs: number): Promise<number> {
  const pred = (e: HarnessEvent) => e.type === 'nodeDown' && e.node === victim && e.at >= since;
  const times = await Promise.all(on.map(async (n) => (await n.events.waitFor(pred, timeoutMs)).at));
  return Math.max(...times);
}

async function detection(kind: 'kill' | 'freeze', trials: number, quick: boolean, log: (line: string) => void): Promise<ClusterSectionResult> {
  const n = 5;
  log(`${kind}: starting ${n} nodes...`);
  const cluster = await TestCluster.start(n, { timings: 'default' });
  const samples: number[] = [];
  const refute: number[] = [];
  try {
    await cluster.converged(60_000);
    for (let t = 0; t < trials; t++) {
      const slot = 1 + (t % (n - 1)); // the seed stays; every other node takes its turn
      const victim = cluster.node(slot);
      const survivors = cluster.nodes().filter((x) => x !== victim);
      const since = kind === 'kill' ? await cluster.kill(slot) : await cluster.freeze(slot);
      const last = await lastNodeDown(survivors, victim.id, since, 30_000);
      samples.push(last - since);
      if (kind === 'kill') {
        await cluster.restart(slot);
      } else {
        const thawedAt = await cluster.thaw(slot);
        // Back: it refutes its death with a higher incarnation once it hears of it.
        await Promise.all(survivors.map((s) => s.events.waitFor((e) => e.type === 'nodeUp' && e.node === victim.id && e.at >= thawedAt, 60_000)));
        refute.push(performance.timeOrigin + performance.now() - thawedAt);
      }
      await cluster.converged(60_000);
      log(`${kind}: trial ${t + 1}/${trials}: last nodeDown after ${Math.round(samples[samples.length - 1]!)} ms`);
    }
  } finally {
    await cluster.stop();
  }
  const signal = kind === 'kill' ? 'SIGKILL' : 'SIGSTOP';
  const figures: Record<string, number> = { medianMs: median(samples), maxMs: Math.max(...samples), minMs: Math.min(...samples), trials: samples.length };
  if (refute.length > 0) figures.thawToUpMedianMs = median(refute);
  return {
    name: `cluster-${kind}`,
    title: `${signal} of one node → the last survivor's nodeDown (${n} nodes, ${samples.length} trials)`,
    headers: ['nodes', 'trials', 'median', 'max', 'min'],
    rows: [[String(n), String(samples.length), ms(figures.medianMs!), ms(figures.maxMs!), ms(figures.minMs!)]],
    figures,
    samples,
    notes: [
      TIMINGS_NOTE,
      kind === 'kill'
        ? 'a kill closes the sockets: the survivors probe at once and use the short lost-connection suspicion'
        : `a frozen node keeps its sockets open: detection is a failed probe round plus the full suspicion; after each trial it was thawed and was up again everywhere after a median ${ms(figures.thawToUpMedianMs ?? NaN)} ` +
          '(a rejoin slower than a few probe periods waits for push-pull: the known refutation bug in swim.ts #aboutSelf)',
      `samples (ms): ${samples.map((s) => Math.round(s)).join(', ')}`,
    ],
    quick,
    measuredAt: new Date().toISOString(),
  };
}

async function steadyBytes(sizes: readonly number[], windowMs: number, quick: boolean, log: (line: string) => void): Promise<ClusterSectionResult> {
  const rows: string[][] = [];
  const figures: Record<string, number> = {};
  const settleMs = quick ? 3_000 : 5_000;
  for (const n of sizes) {
    log(`bytes: starting ${n} nodes...`);
    const startedAt = performance.now();
    const cluster = await TestCluster.start(n, { timings: 'default', startConcurrency: 4, startTimeoutMs: 120_000, commandTimeoutMs: 30_000 });
    try {
      log(`bytes: ${n} nodes listening after ${Math.round((performance.now() - startedAt) / 1000)} s; waiting for convergence`);
      await cluster.converged(180_000);
      // Let the join's gossip drain (each update is retransmitted a few rounds) before measuring.
      await new Promise((r) => setTimeout(r, settleMs));
      const nodes = cluster.nodes();
      const before = await snapshot(nodes);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, windowMs));
      const after = await snapshot(nodes);
      const seconds = (performance.now() - t0) / 1000;
      await cluster.converged(60_000); // still one membership: a steady state, not a churn
      const outPerSec = nodes.map((_, i) => (after[i]!.out - before[i]!.out) / seconds);
      const inPerSec = nodes.map((_, i) => (after[i]!.in - before[i]!.in) / seconds);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      figures[`n${n}.outBytesPerNodePerSec`] = mean(outPerSec);
      figures[`n${n}.inBytesPerNodePerSec`] = mean(inPerSec);
      figures[`n${n}.maxOutBytesPerNodePerSec`] = Math.max(...outPerSec);
      rows.push([String(n), bytes(mean(outPerSec)), bytes(mean(inPerSec)), bytes(median(outPerSec)), bytes(Math.max(...outPerSec)), `${seconds.toFixed(1)} s`]);
      log(`bytes: ${n} nodes: ${bytes(mean(outPerSec))}/s sent per node`);
    } finally {
      await cluster.stop();
    }
  }
  return {
    name: 'cluster-bytes',
    title: 'membership bytes per node per second in steady state (encrypted links, wire bytes)',
    headers: ['nodes', 'sent/node/s', 'received/node/s', 'median sent', 'max sent', 'window'],
    rows,
    figures,
    notes: [
      TIMINGS_NOTE,
      `measured over a ${Math.round(windowMs / 1000)} s window, ${Math.round(settleMs / 1000)} s after every node listed every other alive; ` +
        'wire bytes of every socket (TCP payload: framing, encryption and the occasional handshake included)',
      'push-pull sends the full member list (grows with n) once per 30 s per node, so the window catches it on about a third of the nodes each time',
    ],
    quick,
    measuredAt: new Date().toISOString(),
  };
}

async function snapshot(nodes: readonly ChildNode[]): Promise<ByteTotals[]> {
  return Promise.all(nodes.map((n) => n.bytes()));
}

function ms(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x)} ms` : '—';
}

function bytes(x: number): string {
  return x >= 10_000 ? `${(x / 1024).toFixed(1)} KiB` : `${Math.round(x)} B`;
}

/** A result as printable text: title, a table, notes. */
export function formatClusterSection(result: ClusterSectionResult): string {
  const widths = result.headers.map((h, i) => Math.max(h.length, ...result.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  const table = [line(result.headers), widths.map((w) => '-'.repeat(w)).join('   '), ...result.rows.map(line)].map((l) => `  ${l}`);
  return [result.title, ...table, ...result.notes.map((n) => `  note: ${n}`)].join('\n');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const only = args.filter((a) => !a.startsWith('--'));
  const unknown = only.filter((a) => !(CLUSTER_SECTION_NAMES as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(', ')}; known: ${CLUSTER_SECTION_NAMES.join(', ')}`);
    process.exitCode = 2;
  } else {
    const started = performance.now();
    try {
      const results = await clusterSections({ quick: args.includes('--quick'), only });
      for (const r of results) console.log(`${formatClusterSection(r)}\n`);
      console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(`cluster bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    }
  }
}
