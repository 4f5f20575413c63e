/**
 * Selection benchmark: what one `select` call of each built-in balancer algorithm costs, at 3 and
 * at 100 candidates, in nanoseconds per call.
 *
 * Method:
 * - Candidates look like the balancer's: sorted node ids, in-flight counts of 0–7 drawn from a
 *   seeded source, weights of 1–5; the local node is among them (for `direct`).
 * - Every call gets a context from a ring of 1,024 prepared ones, with keys `user:<n>` (which only
 *   `hash-ring` reads), so the loop allocates nothing of its own; randomness is `Math.random`, the
 *   balancer's default. The candidate list is the same array every call, as when the provider set
 *   is stable, so `hash-ring` measures its steady state (check + lookup), not ring rebuilds.
 * - Every subject (algorithm × size) is warmed up and calibrated to about 40 ms per round, with
 *   its own timing loop (so call sites stay monomorphic, as in a balancer that uses one
 *   algorithm); then 5 rounds run interleaved across the subjects and the median round is
 *   reported. About 5 s in all.
 * - The run measures the TypeScript sources through tsx, in one process. The figures are for
 *   comparing algorithms and sizes, not absolute costs on other machines.
 *
 * Run with `npx tsx bench/balancer-select.ts`; `selectionCosts()` returns the figures for another
 * script to include.
 */
import { fileURLToPath } from 'node:url';
import {
  ALGORITHM_NAMES,
  BUILTIN_ALGORITHMS,
  type AlgorithmName,
  type Candidate,
  type SelectionContext,
} from '../src/services/balancer/algorithms/index.js';
import { mulberry32 } from '../test/helpers/prng.js';
import { median, table } from './stats.js';

/** The cost of one algorithm at one candidate count. */
export interface SelectionCost {
  readonly algorithm: AlgorithmName;
  readonly candidates: number;
  /** Median nanoseconds per `select` call. */
  readonly nsPerOp: number;
  /** (max − min) / median of the rounds. */
  readonly spread: number;
}

/** Options of {@link selectionCosts}. */
export interface SelectionCostOptions {
  /** Candidate counts to measure. @default [3, 100] */
  readonly sizes?: readonly number[];
  /** Timed rounds per figure. @default 5 */
  readonly rounds?: number;
  /** Target duration of one round, in milliseconds. @default 40 */
  readonly roundMs?: number;
}

const CONTEXTS = 1024;

function candidatesOf(n: number): Candidate[] {
  const random = mulberry32(n);
  return Array.from({ length: n }, (_, i) => ({
    node: `worker${String(i).padStart(3, '0')}@10.0.${i >> 8}.${i & 255}:4369`,
    weight: 1 + Math.floor(random() * 5),
    inFlight: Math.floor(random() * 8),
    meta: { zone: `z${i % 3}` },
  }));
}

function contextsFor(candidates: readonly Candidate[]): SelectionContext[] {
  const localNode = candidates[Math.floor(candidates.length / 2)]!.node;
  return Array.from({ length: CONTEXTS }, (_, i) => ({ key: `user:${i * 7919}`, random: Math.random, localNode }));
}

type Select = (candidates: readonly Candidate[], context: SelectionContext) => Candidate | undefined;
type Run = (select: Select, candidates: readonly Candidate[], contexts: readonly SelectionContext[], ops: number) => number;

/**
 * A fresh timing loop. Each subject gets its own closure, and so its own inline caches: a loop
 * shared by all algorithms would make its `select` call site megamorphic and slow them all.
 */
function makeRun(sink: { value: number }): Run {
  return (select, candidates, contexts, ops) => {
    let acc = 0;
    const t0 = performance.now();
    for (let i = 0; i < ops; i++) acc += select(candidates, contexts[i & (CONTEXTS - 1)]!)?.inFlight ?? 0;
    const elapsed = performance.now() - t0;
    sink.value += acc;
    return elapsed;
  };
}

interface Subject {
  readonly algorithm: AlgorithmName;
  readonly size: number;
  readonly select: Select;
  readonly candidates: readonly Candidate[];
  readonly contexts: readonly SelectionContext[];
  readonly run: Run;
  ops: number;
  readonly perOp: number[];
}

/**
 * Measures every built-in algorithm at each candidate count. All subjects are warmed up and
 * calibrated first; then the rounds run interleaved across them, so background load falls on all
 * alike, and each figure is the median round.
 *
 * @example
 * const costs = selectionCosts();
 * costs.find((c) => c.algorithm === 'hash-ring' && c.candidates === 100)?.nsPerOp;
 */
export function selectionCosts(options: SelectionCostOptions = {}): SelectionCost[] {
  const sizes = options.sizes ?? [3, 100];
  const rounds = options.rounds ?? 5;
  const roundMs = options.roundMs ?? 40;
  const sink = { value: 0 };
  const subjects: Subject[] = [];
  for (const size of sizes) {
    const candidates = candidatesOf(size);
    const contexts = contextsFor(candidates);
    for (const algorithm of ALGORITHM_NAMES) {
      const instance = BUILTIN_ALGORITHMS[algorithm]();
      subjects.push({ algorithm, size, select: instance.select.bind(instance), candidates, contexts, run: makeRun(sink), ops: 0, perOp: [] });
    }
  }
  for (const s of subjects) {
    // Warm up until a batch takes at least 10 ms, then size a round to about roundMs.
    let ops = 5_000;
    let elapsed = s.run(s.select, s.candidates, s.contexts, ops);
    while (elapsed < 10) {
      ops *= 4;
      elapsed = s.run(s.select, s.candidates, s.contexts, ops);
    }
    s.ops = Math.max(1_000, Math.round((ops * roundMs) / elapsed));
  }
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) s.perOp.push((s.run(s.select, s.candidates, s.contexts, s.ops) * 1e6) / s.ops);
  }
  if (sink.value === -1) console.log(sink.value);
  return subjects.map((s) => {
    const mid = median(s.perOp);
    return { algorithm: s.algorithm, candidates: s.size, nsPerOp: mid, spread: (Math.max(...s.perOp) - Math.min(...s.perOp)) / mid };
  });
}

function main(): void {
  console.log('cohort selection benchmark: one select() call per op (ns/op, median of 5 rounds of ~40 ms; ± is the spread of the rounds)\n');
  const costs = selectionCosts();
  const sizes = [...new Set(costs.map((c) => c.candidates))];
  const rows = ALGORITHM_NAMES.map((name) => [
    name,
    ...sizes.map((size) => {
      const cost = costs.find((c) => c.algorithm === name && c.candidates === size)!;
      return `${cost.nsPerOp.toFixed(1)} ±${Math.round(cost.spread * 100)}%`;
    }),
  ]);
  console.log(table(['algorithm', ...sizes.map((s) => `${s} candidates`)], rows));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
