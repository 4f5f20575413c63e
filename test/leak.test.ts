/**
 * Leak test: repeated start/stop of processes and supervisors must give back processes, timers,
 * handles and heap.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Node } from '../src/node.js';
import { churn } from './helpers/churn.js';
import { eventually } from './helpers/eventually.js';
import { TrackingClock } from './helpers/tracking-clock.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = 10;
const PER_ROUND = { processes: 1000, supervisors: 1000 };

/**
 * The allowed heap growth between round 2 (warm: code compiled, caches and pools sized) and the
 * last round, after a full gc. Measured: one live plain process costs about 6 KB of heap and a
 * supervisor with its child about 14 KB, while the heap after gc wanders by up to about 0.25 MB
 * from round to round. Rounds 3 to 10 start 24,000 processes, so 0.75 MB of growth means about 32
 * bytes per process: a leaked process, pid, map entry, name, monitor, timer or pending call for each
 * of them would exceed it (a leaked process many times over), while the noise stays well below it.
 */
const MAX_GROWTH_BYTES = 768 * 1024;

interface Round {
  round: number;
  heapUsed: number;
  processCount: number;
  started: number;
}

/** Counts resources by type, e.g. { Timeout: 2, TCPWRAP: 1 }. */
function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The resource types of which there are more now than in `before`. */
function grownResources(before: Map<string, number>): string[] {
  const grown: string[] = [];
  for (const [type, n] of resourceCounts()) if (n > (before.get(type) ?? 0)) grown.push(`${type}: ${before.get(type) ?? 0} → ${n}`);
  return grown;
}

/** Runs the rounds in this process (when gc is exposed) or in a child started with --expose-gc. */
async function heapRounds(): Promise<Round[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    const node = await Node.start({ name: 'leak-heap' });
    const rounds: Round[] = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const started = await churn(node, PER_ROUND);
        for (let i = 0; i < 4; i++) {
          gc();
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        rounds.push({ round, heapUsed: process.memoryUsage().heapUsed, processCount: node.processCount(), started });
      }
    } finally {
      await node.stop();
    }
    return rounds;
  }
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'test/helpers/leak-child.ts', String(ROUNDS), String(PER_ROUND.processes), String(PER_ROUND.supervisors)],
      { cwd: ROOT, timeout: 18_000, maxBuffer: 1024 * 1024 },
      (error, out, err) => (error === null ? resolve(out) : reject(new Error(`leak child failed: ${error.message}\n${err}`, { cause: error }))),
    );
  });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Round);
}

describe('leak', () => {
  it('leak — 1,000 processes and 1,000 supervisors started and stopped give back processes, timers and handles', async () => {
    const clock = new TrackingClock();
    const node = await Node.start({ name: 'leak', clock });
    const baseline = node.processCount();
    // The node's own periodic work (membership) keeps a few timers; processes must add none.
    const nodeTimers = clock.live;
    const before = resourceCounts();
    try {
      const started = await churn(node, PER_ROUND);
      expect(started).toBe(3000);

      expect(node.processCount()).toBe(baseline);
      expect(node.registered()).toEqual([]);
      // Every timer of calls, spawns and stops was cancelled or has fired: none is left scheduled.
      expect(clock.created).toBeGreaterThan(3000);
      expect(clock.live).toBe(nodeTimers);
      await eventually(() => expect(grownResources(before)).toEqual([]));
    } finally {
      await node.stop();
    }
    expect(clock.live).toBe(0);
    await eventually(() => expect(grownResources(before)).toEqual([]));
  });

  it('leak — the heap comes back: repeated rounds of churn do not grow it after gc', async () => {
    const rounds = await heapRounds();
    expect(rounds.map((r) => r.round)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
    for (const r of rounds) {
      expect(r.processCount).toBe(0);
      expect(r.started).toBe(3000);
    }
    const growth = rounds[ROUNDS - 1]!.heapUsed - rounds[1]!.heapUsed;
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
    expect(growth, `heap after gc by round: ${rounds.map((r) => mb(r.heapUsed)).join(', ')}`).toBeLessThan(MAX_GROWTH_BYTES);
  });
});
