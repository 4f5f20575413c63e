/**
 * Distributed-supervisor benchmark (part of `npm run bench`): on 4 child processes (127.0.0.1,
 * the test harness's timings) with 200 children,
 * - the time from SIGKILL of one node to the last of its children running again on the survivors
 *   (median and max over the trials; polled every 20 ms, so figures are ±20 ms), and
 * - with `rebalance: 'active'`, how many children move when the killed node comes back, as a
 *   fraction of the ideal K/N = 50 (a consistent ring moves about K/N; more means churn).
 *
 * Run with `npm run bench:distributed` (about 2 minutes; `--trials n`, default 10).
 */
import { performance } from 'node:perf_hooks';
import { TestCluster } from '../test/harness/cluster.js';
import { instances } from '../test/harness/distributed-view.js';
import { median, table } from './stats.js';

const DISTRIBUTED = new URL('../test/harness/extensions/distributed.ts', import.meta.url).href;
const NODES = 4;
const CHILDREN = 200;
const POLL_MS = 20;
const LIMIT_MS = 30_000;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be an integer >= 1`);
  return v;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const end = performance.now() + LIMIT_MS;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function trial(): Promise<{ recoverMs: number; orphans: number; moved: number }> {
  const cluster = await TestCluster.start(NODES, { modules: [DISTRIBUTED] });
  try {
    await cluster.converged(15_000);
    for (const node of cluster.nodes()) await node.command('joinSessions', 'active');
    await until('every member sees the others', async () => (await Promise.all(cluster.nodes().map((n) => n.command<string[]>('supMembers')))).every((m) => m.length === NODES));
    await cluster.node(0).command('startSessions', 'user:', CHILDREN);
    const all = Array.from({ length: NODES }, (_, i) => i);
    await until('every child runs', async () => (await instances(cluster, all)).size === CHILDREN);
    const before = await instances(cluster, all);
    const victim = cluster.node(NODES - 1);
    const orphans = [...before].filter(([, nodes]) => nodes[0] === victim.id).length;
    const survivors = all.slice(0, -1);
    const killedAt = performance.now();
    await cluster.kill(NODES - 1);
    await until('the orphans run again', async () => {
      const now = await instances(cluster, survivors);
      return now.size === CHILDREN && [...now.values()].every((nodes) => nodes.length === 1);
    });
    const recoverMs = performance.now() - killedAt;
    const after = await instances(cluster, survivors);
    const restarted = await cluster.restart(NODES - 1);
    await restarted.command('joinSessions', 'active');
    let moved = 0;
    await until('the ring settles after the restart', async () => {
      const now = await instances(cluster, all);
      if (now.size !== CHILDREN || ![...now.values()].every((nodes) => nodes.length === 1)) return false;
      moved = [...now].filter(([id, nodes]) => nodes[0] !== after.get(id)![0]).length;
      return moved > 0;
    });
    // Give late moves a moment to show, then count once more.
    await new Promise((r) => setTimeout(r, 500));
    const settled = await instances(cluster, all);
    moved = [...settled].filter(([id, nodes]) => nodes[0] !== after.get(id)?.[0]).length;
    return { recoverMs, orphans, moved };
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const trials = argument('trials', 10);
  console.log(`\ndistributed supervisor — ${NODES} child processes, ${CHILDREN} children, ${trials} trials`);
  const results = [];
  for (let i = 0; i < trials; i++) {
    const r = await trial();
    results.push(r);
    process.stderr.write(`trial ${i + 1}: ${r.orphans} orphans running again after ${Math.round(r.recoverMs)} ms; ${r.moved} moved on the rejoin\n`);
  }
  const ms = results.map((r) => r.recoverMs);
  const ideal = CHILDREN / NODES;
  const moves = results.map((r) => r.moved / ideal);
  console.log(
    table(
      ['figure', 'median', 'max'],
      [
        ['kill → last orphan running again (ms)', median(ms).toFixed(0), Math.max(...ms).toFixed(0)],
        [`children moved on a rejoin / ideal K/N (${ideal})`, `${median(moves).toFixed(2)}×`, `${Math.max(...moves).toFixed(2)}×`],
      ],
    ),
  );
  await TestCluster.stopAll();
}

await main();
