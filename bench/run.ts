/**
 * `npm run bench`: local GenServer throughput against baselines measured in the same run.
 *
 * Each section measures a few subjects (cohort and its baselines) doing the same small job on a
 * counter's state and reports operations per second, latency where it matters, and the ratios
 * cohort/baseline: cohort's ops/s divided by the baseline's (0.25× means cohort does a quarter of
 * the baseline's work per second). The baselines are what a process replaces:
 * - plain async: an `async` function on the state, awaited;
 * - promise queue: a minimal serial queue (each job chained onto the previous promise), which
 *   gives the same one-at-a-time guarantee as a process mailbox.
 *
 * Method:
 * - cohort is measured as compiled JavaScript: the run first compiles `src/` with `tsc` into a
 *   temporary directory (removed afterwards). Running the TypeScript sources through tsx is about 2× slower per call,
 *   because tsx compiles with esbuild's `keepNames`, which wraps every named closure creation in a
 *   `__name()` call; `--source` measures the sources that way anyway.
 * - Each subject runs in its own Node.js process, so one subject's JIT feedback and heap state
 *   cannot slow another down (in one process, running the baselines first made cohort up to 2×
 *   slower). `--in-process` measures everything in this process instead, for profiling.
 * - Every subject warms up, then `rounds` timed rounds of `durationMs` run interleaved across the
 *   subjects (A B C, A B C, ...), so background load and CPU drift spread evenly; the median round
 *   is reported, and the spread says how far the rounds were apart.
 * - Latency (sequential section only) is timed call by call after the rounds.
 * - Time comes from `performance.now()`. The whole run takes about 40 s; `--quick` about 12 s.
 *
 * Results are printed and written to `.bench-results/local.json` (gitignored), merged by section
 * name, so a run of some sections keeps the others.
 *
 * Adding a section: append a {@link Section} to `SECTIONS`. A section names its subjects; each
 * subject's `start` builds what it measures (in the process that measures it) and returns its batch.
 *
 * Usage: `npm run bench [-- --quick] [-- --in-process] [-- --source] [-- section-name ...]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as CohortModule from '../src/index.js';
import type { Behavior, Node, ProcessRef } from '../src/index.js';
import { compileSources } from './compile.js';
import { latency, median, table, type Latency } from './stats.js';

/** The cohort module under test: compiled JavaScript, or the sources with `--source`. */
type Cohort = typeof CohortModule;

// --- configuration ---------------------------------------------------------------------------

interface BenchConfig {
  /** Warm-up per subject before the timed rounds. */
  readonly warmupMs: number;
  /** Length of one timed round. */
  readonly durationMs: number;
  /** Timed rounds per subject; the median is reported. */
  readonly rounds: number;
  /** Sequential operations timed one by one for the latency percentiles. */
  readonly latencySamples: number;
  /** Operations in flight in the concurrent section. */
  readonly concurrency: number;
  /** Casts (or queued jobs) per batch in the cast section, flushed by one call. */
  readonly castBatch: number;
}

const FULL: BenchConfig = { warmupMs: 500, durationMs: 1_000, rounds: 3, latencySamples: 200_000, concurrency: 256, castBatch: 10_000 };
const QUICK: BenchConfig = { warmupMs: 150, durationMs: 250, rounds: 2, latencySamples: 20_000, concurrency: 256, castBatch: 10_000 };

// --- results ---------------------------------------------------------------------------------

/** One subject's outcome in a section. */
interface SubjectResult {
  /** A stable key: `cohort`, `plain-async`, `promise-queue`, ... */
  readonly subject: string;
  readonly label: string;
  /** Median of the rounds. */
  readonly opsPerSec: number;
  /** Every round's ops/s, in order. */
  readonly rounds: readonly number[];
  readonly latency?: Latency;
}

/** What a section produces: one row per subject, and cohort's ratio to each baseline. */
interface SectionResult {
  readonly name: string;
  readonly title: string;
  /** What one operation is, e.g. "call". */
  readonly unit: string;
  readonly results: readonly SubjectResult[];
  /** `cohort/<baseline>` → cohort's ops/s divided by that baseline's. */
  readonly ratios: Readonly<Record<string, number>>;
  readonly notes?: readonly string[];
  /** What was measured: the tsc output (`compiled`) or the TypeScript sources through tsx (`source`). */
  readonly target: Target['kind'];
  /** Whether each subject ran in its own process. */
  readonly isolated: boolean;
  /** Whether this was a `--quick` run (too short to compare with full runs). */
  readonly quick: boolean;
  readonly config: BenchConfig;
  readonly measuredAt: string;
}

// --- sections --------------------------------------------------------------------------------

/** A batch of work: runs some operations and returns how many. */
type Batch = () => Promise<number>;

/** What a started subject offers the measurement. */
interface Harness {
  readonly batch: Batch;
  /** One operation, timed alone for the latency percentiles (sections with `latency`). */
  readonly single?: () => Promise<unknown>;
  stop(): Promise<void>;
}

interface Subject {
  /** A stable key; the one named `cohort` is compared with every other. */
  readonly subject: string;
  readonly label: string;
  /** Builds what is measured, in the process that measures it. */
  start(config: BenchConfig, cohort: Cohort): Promise<Harness>;
}

/** A named benchmark section. Later layers append theirs (remote calls, balancer, ...). */
interface Section {
  readonly name: string;
  readonly title: (config: BenchConfig) => string;
  /** What one operation is, e.g. "call". */
  readonly unit: string;
  readonly subjects: readonly Subject[];
  /** Whether to time single operations for latency percentiles. */
  readonly latency?: boolean;
  readonly notes?: (config: BenchConfig) => string[];
}

/** The cohort subject: a counter process. Its handlers are synchronous, so the cost is the runtime's. */
const counter: Behavior<number, number, { type: 'get' }, number, { type: 'inc'; by: number }> = {
  init: (start) => start,
  handleCall: (_msg, n) => [n, n],
  handleCast: (msg, n) => n + msg.by,
};

/** The plain-async baseline: the same state behind async functions. */
class AsyncCounter {
  #n = 0;
  async get(): Promise<number> {
    return this.#n;
  }
  async inc(by: number): Promise<void> {
    this.#n += by;
  }
}

/**
 * The promise-queue baseline: a minimal serial queue. Each job runs after the previous one settled,
 * like messages in a mailbox; a job that throws rejects its own promise and does not stop the queue.
 */
class PromiseQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => T | Promise<T>): Promise<T> {
    const result = this.#tail.then(job);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** A counter behind a promise queue. */
class QueuedCounter {
  readonly #queue = new PromiseQueue();
  #n = 0;
  get(): Promise<number> {
    return this.#queue.run(() => this.#n);
  }
  inc(by: number): Promise<void> {
    return this.#queue.run(() => {
      this.#n += by;
    });
  }
}

/** Sequential operations, 256 between clock reads. */
const sequential =
  (op: () => Promise<unknown>): Batch =>
  async () => {
    for (let i = 0; i < 256; i++) await op();
    return 256;
  };

/** `n` operations in flight at once, awaited together. */
const concurrent =
  (op: () => Promise<unknown>, n: number): Batch =>
  async () => {
    const inFlight = new Array<Promise<unknown>>(n);
    for (let i = 0; i < n; i++) inFlight[i] = op();
    await Promise.all(inFlight);
    return n;
  };

/** Starts a node with one counter process. */
async function startCounter(cohort: Cohort): Promise<{ node: Node; ref: ProcessRef<typeof counter> }> {
  const node = await cohort.Node.start({ name: 'bench' });
  return { node, ref: await node.spawn(counter, 0) };
}

const GET = { type: 'get' } as const;
const INC = { type: 'inc', by: 1 } as const;
const noop = async () => {};

const sequentialCalls: Section = {
  name: 'local-sequential-calls',
  title: () => 'Sequential calls: await each before the next',
  unit: 'call',
  latency: true,
  notes: (c) => [`latency: ${c.latencySamples.toLocaleString('en-US')} calls timed one by one after the rounds`],
  subjects: [
    {
      subject: 'cohort',
      label: 'cohort node.call',
      async start(_config, cohort) {
        const { node, ref } = await startCounter(cohort);
        const op = () => node.call(ref, GET);
        return { batch: sequential(op), single: op, stop: () => node.stop() };
      },
    },
    {
      subject: 'plain-async',
      label: 'plain async function',
      async start() {
        const c = new AsyncCounter();
        const op = () => c.get();
        return { batch: sequential(op), single: op, stop: noop };
      },
    },
    {
      subject: 'promise-queue',
      label: 'promise queue',
      async start() {
        const c = new QueuedCounter();
        const op = () => c.get();
        return { batch: sequential(op), single: op, stop: noop };
      },
    },
  ],
};

const concurrentCalls: Section = {
  name: 'local-concurrent-calls',
  title: (c) => `Concurrent calls: ${c.concurrency} in flight, awaited together, repeated`,
  unit: 'call',
  subjects: [
    {
      subject: 'cohort',
      label: 'cohort node.call',
      async start(config, cohort) {
        const { node, ref } = await startCounter(cohort);
        return { batch: concurrent(() => node.call(ref, GET), config.concurrency), stop: () => node.stop() };
      },
    },
    {
      subject: 'plain-async',
      label: 'plain async function',
      async start(config) {
        const c = new AsyncCounter();
        return { batch: concurrent(() => c.get(), config.concurrency), stop: noop };
      },
    },
    {
      subject: 'promise-queue',
      label: 'promise queue',
      async start(config) {
        const c = new QueuedCounter();
        return { batch: concurrent(() => c.get(), config.concurrency), stop: noop };
      },
    },
  ],
};

const casts: Section = {
  name: 'local-casts',
  title: (c) => `Casts: ${c.castBatch.toLocaleString('en-US')} fire-and-forget, then one call to flush`,
  unit: 'cast',
  notes: () => ['the promise queue enqueues as many jobs without awaiting them, then awaits one more'],
  subjects: [
    {
      subject: 'cohort',
      label: 'cohort node.cast',
      async start(config, cohort) {
        const { node, ref } = await startCounter(cohort);
        const n = config.castBatch;
        const batch = async () => {
          for (let i = 0; i < n; i++) node.cast(ref, INC);
          await node.call(ref, GET); // the mailbox is FIFO: this reply comes after every cast
          return n;
        };
        return { batch, stop: () => node.stop() };
      },
    },
    {
      subject: 'promise-queue',
      label: 'promise queue',
      async start(config) {
        const c = new QueuedCounter();
        const n = config.castBatch;
        const batch = async () => {
          for (let i = 0; i < n; i++) void c.inc(1);
          await c.get();
          return n;
        };
        return { batch, stop: noop };
      },
    },
  ],
};

/** Every section, in run order. Later issues append theirs. */
const SECTIONS: readonly Section[] = [sequentialCalls, concurrentCalls, casts];

// --- measurement -----------------------------------------------------------------------------

/** Runs `batch` repeatedly for at least `ms` and returns operations per second. */
async function throughput(batch: Batch, ms: number): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    ops += await batch();
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  return (ops * 1000) / elapsed;
}

/** The commands a runner answers; the same in this process and in a child process. */
type Command = { readonly cmd: 'warmup' } | { readonly cmd: 'round' } | { readonly cmd: 'latency' } | { readonly cmd: 'stop' };

/** Runs one started subject's commands. */
function commands(harness: Harness, config: BenchConfig): (c: Command) => Promise<unknown> {
  return async (c) => {
    switch (c.cmd) {
      case 'warmup':
        return throughput(harness.batch, config.warmupMs);
      case 'round':
        return throughput(harness.batch, config.durationMs);
      case 'latency':
        return harness.single === undefined ? undefined : latency(harness.single, config.latencySamples);
      case 'stop':
        return harness.stop();
    }
  };
}

/** A subject ready to measure, here or in a child process. */
interface Runner {
  send(command: Command): Promise<unknown>;
}

const benchFile = fileURLToPath(import.meta.url);
const CHILD_ENV = 'COHORT_BENCH_CHILD';
const CHILD_TIMEOUT_MS = 120_000;

/** Where the module under test is, and how it was made. */
interface Target {
  /** A file URL to import. */
  readonly url: string;
  /** `compiled` (tsc output) or `source` (TypeScript through tsx). */
  readonly kind: 'compiled' | 'source';
}

async function inProcessRunner(subject: Subject, config: BenchConfig, target: Target): Promise<Runner> {
  const cohort = (await import(target.url)) as Cohort;
  const run = commands(await subject.start(config, cohort), config);
  return { send: run };
}

/** Starts `subject` in a child process that answers commands over IPC. */
function childRunner(section: Section, subject: Subject, config: BenchConfig, target: Target): Promise<Runner> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', benchFile], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify({ section: section.name, subject: subject.subject, config, url: target.url }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
  const fail = (error: Error) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(error);
  };
  child.on('message', (m: { ok: boolean; value?: unknown; error?: string }) => {
    const w = waiting;
    waiting = undefined;
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(`${section.name}/${subject.subject}: ${m.error}`));
  });
  child.on('error', (e) => fail(e));
  child.on('exit', (code, signal) => fail(new Error(`${section.name}/${subject.subject}: the child exited early (code ${code}, signal ${signal})`)));
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${section.name}/${subject.subject}: no answer within ${CHILD_TIMEOUT_MS} ms`));
      }, CHILD_TIMEOUT_MS);
      waiting = {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  const ready = next();
  return ready.then(() => ({
    send: (command) => {
      const answer = next();
      child.send(command);
      if (command.cmd === 'stop') return answer.then(() => new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r()))));
      return answer;
    },
  }));
}

/** The child side: start the subject named in the environment and answer commands. */
async function childMain(spec: string): Promise<void> {
  const { section: sectionName, subject: subjectName, config, url } = JSON.parse(spec) as {
    section: string;
    subject: string;
    config: BenchConfig;
    url: string;
  };
  const reply = (m: { ok: boolean; value?: unknown; error?: string }) => process.send!(m);
  try {
    const subject = SECTIONS.find((s) => s.name === sectionName)?.subjects.find((s) => s.subject === subjectName);
    if (subject === undefined) throw new Error(`unknown subject ${sectionName}/${subjectName}`);
    const cohort = (await import(url)) as Cohort;
    const run = commands(await subject.start(config, cohort), config);
    process.on('message', (c: Command) => {
      run(c).then(
        (value) => {
          reply({ ok: true, value });
          if (c.cmd === 'stop') process.disconnect();
        },
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
    });
    reply({ ok: true });
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
    process.disconnect();
  }
}

/** Measures a section: warm-up, interleaved rounds, latency, ratios. */
async function runSection(section: Section, config: BenchConfig, target: Target, isolated: boolean, quick: boolean): Promise<SectionResult> {
  const started = await Promise.allSettled(
    section.subjects.map((s) => (isolated ? childRunner(section, s, config, target) : inProcessRunner(s, config, target))),
  );
  const runners = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    for (const r of runners) await r.send({ cmd: 'warmup' });
    const rounds = runners.map(() => [] as number[]);
    for (let i = 0; i < config.rounds; i++) {
      for (const [j, r] of runners.entries()) rounds[j]!.push((await r.send({ cmd: 'round' })) as number);
    }
    const latencies: (Latency | undefined)[] = [];
    for (const r of runners) latencies.push(section.latency === true ? ((await r.send({ cmd: 'latency' })) as Latency | undefined) : undefined);
    const results: SubjectResult[] = section.subjects.map((s, j) => {
      const lat = latencies[j];
      return { subject: s.subject, label: s.label, opsPerSec: median(rounds[j]!), rounds: rounds[j]!, ...(lat === undefined ? {} : { latency: lat }) };
    });
    const cohort = results.find((r) => r.subject === 'cohort');
    const ratios: Record<string, number> = {};
    if (cohort !== undefined) for (const r of results) if (r !== cohort) ratios[`cohort/${r.subject}`] = cohort.opsPerSec / r.opsPerSec;
    return {
      name: section.name,
      title: section.title(config),
      unit: section.unit,
      results,
      ratios,
      ...(section.notes === undefined ? {} : { notes: section.notes(config) }),
      target: target.kind,
      isolated,
      quick,
      config,
      measuredAt: new Date().toISOString(),
    };
  } finally {
    await Promise.all(runners.map((r) => r.send({ cmd: 'stop' }).catch(() => {})));
  }
}

// --- report ----------------------------------------------------------------------------------

const fmtOps = (x: number) => Math.round(x).toLocaleString('en-US');
const fmtUs = (x: number | undefined) => (x === undefined ? '' : x < 10 ? `${x.toFixed(2)} µs` : `${x.toFixed(1)} µs`);
const fmtRatio = (r: number) => (r >= 1 ? `${r.toFixed(2)}×  (cohort ${r.toFixed(1)}× faster)` : `${r.toFixed(3)}×  (cohort ${(1 / r).toFixed(1)}× slower)`);

function report(result: SectionResult): string {
  const withLatency = result.results.some((r) => r.latency !== undefined);
  const headers = ['subject', `${result.unit}s/s`, 'spread', ...(withLatency ? ['p50', 'p99', 'p99.9'] : [])];
  const rows = result.results.map((r) => {
    const spread = r.opsPerSec > 0 ? `±${(((Math.max(...r.rounds) - Math.min(...r.rounds)) / 2 / r.opsPerSec) * 100).toFixed(0)}%` : '';
    const lat = withLatency ? [fmtUs(r.latency?.p50Us), fmtUs(r.latency?.p99Us), fmtUs(r.latency?.p999Us)] : [];
    return [r.label, fmtOps(r.opsPerSec), spread, ...lat];
  });
  const lines = [result.title, table(headers, rows)];
  for (const [name, r] of Object.entries(result.ratios)) lines.push(`  ${name.padEnd(22)} ${fmtRatio(r)}`);
  for (const note of result.notes ?? []) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

// --- main ------------------------------------------------------------------------------------

const root = join(dirname(benchFile), '..');
const outFile = join(root, '.bench-results', 'local.json');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const isolated = !args.includes('--in-process');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const chosen = wanted.length === 0 ? SECTIONS : SECTIONS.filter((s) => wanted.includes(s.name));
  const config = quick ? QUICK : FULL;
  let cleanup = async () => {};
  let target: Target;
  if (args.includes('--source')) {
    target = { url: pathToFileURL(join(root, 'src', 'index.ts')).href, kind: 'source' };
  } else {
    const compiled = await compileSources(root);
    cleanup = compiled.cleanup;
    // Ctrl-C: remove the compiled copy before leaving (the children get the signal too).
    process.once('SIGINT', () => {
      compiled.removeSync();
      process.exit(130);
    });
    target = { url: pathToFileURL(compiled.entry).href, kind: 'compiled' };
  }
  try {
    await measureAll(chosen, config, target, isolated, quick);
  } finally {
    await cleanup();
  }
}

async function measureAll(chosen: readonly Section[], config: BenchConfig, target: Target, isolated: boolean, quick: boolean): Promise<void> {
  const env = {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
  };

  console.log(`cohort local benchmark: node ${env.node}, ${env.platform}, ${env.cpu} (${env.cpus} CPUs)`);
  console.log(
    `${quick ? 'quick run; ' : ''}cohort ${target.kind === 'compiled' ? 'compiled by tsc' : 'from the TypeScript sources via tsx (slower)'}; ` +
      `${isolated ? 'each subject in its own process' : 'all subjects in this process'}; warm-up ${config.warmupMs} ms, ` +
      `${config.rounds} interleaved rounds × ${config.durationMs} ms, median reported; ratio = cohort ops/s ÷ baseline ops/s\n`,
  );

  const started = performance.now();
  const results: SectionResult[] = [];
  for (const section of chosen) {
    const result = await runSection(section, config, target, isolated, quick);
    results.push(result);
    console.log(`${report(result)}\n`);
  }

  // Merge with earlier results by section name, so a partial run keeps the other sections (each
  // section records its own config and time).
  let previous: { sections?: SectionResult[] } = {};
  try {
    previous = JSON.parse(await readFile(outFile, 'utf8')) as typeof previous;
  } catch {
    // First run, or an unreadable file: start afresh.
  }
  const merged = new Map<string, SectionResult>((previous.sections ?? []).map((s) => [s.name, s]));
  for (const r of results) merged.set(r.name, r);
  const json = { version: 1, updatedAt: new Date().toISOString(), env, sections: [...merged.values()] };
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${join('.bench-results', 'local.json')}`);
}

const childSpec = process.env[CHILD_ENV];
if (childSpec !== undefined) await childMain(childSpec);
else {
  await main().catch((error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
