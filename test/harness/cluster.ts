/**
 * The child-process cluster harness: real cohort nodes, one per Node.js process, driven over IPC.
 *
 * Each node runs `node-main.ts` in its own process, listens on its own loopback address
 * `127.0.0.(10 + index)` with port 0 (so the fault injector inside each node tells peers apart by
 * host), and reports its membership events and log entries to the test process with
 * cross-process timestamps. The test process can kill (SIGKILL), freeze and thaw (SIGSTOP and
 * SIGCONT), partition and heal (per-host blackholes inside each node's transport), restart a node
 * on the same name and port (a new incarnation), and add late joiners.
 *
 * Cleanup: every cluster is registered until stopped. Call `TestCluster.stopAll()` in `afterEach`
 * (the harness cannot import vitest: the bench uses it too); as further nets, every child exits
 * when its IPC channel to the test process closes, and the test process SIGKILLs every child it
 * still has when it exits.
 *
 * @example
 * afterEach(() => TestCluster.stopAll());
 * const cluster = await TestCluster.start(5);        // n0 is the seed; fast test timings
 * await cluster.converged();                          // everyone lists everyone alive
 * const killedAt = await cluster.kill(3);
 * await cluster.node(0).events.waitFor((e) => e.type === 'nodeDown' && e.node === cluster.node(3).id);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Member } from '../../src/node.js';
import type { FaultDirection } from '../../src/transport/faulty.js';
import type { MembershipTimings } from '../../src/cluster/cluster.js';
import { eventually } from '../helpers/eventually.js';
import {
  CHILD_CONFIG_ENV,
  now,
  type ByteTotals,
  type ChildConfig,
  type ChildInfo,
  type ChildMessage,
  type ChildNodeOptions,
  type CommandMessage,
  type ForwardLevel,
  type HarnessEvent,
} from './protocol.js';

export { now } from './protocol.js';
export type { ByteTotals, ChildNodeOptions, HarnessEvent, MembershipRecord, LogRecord, CustomRecord } from './protocol.js';

/** The secret every harness node uses unless told otherwise. */
export const TEST_SECRET = 'cohort harness shared secret';

/**
 * Membership timings for tests: a 200 ms probe period, 100 ms probe timeout, 1 s suspicion, a
 * full sync every second and a sync with one dead member every 300 ms. A killed node is down
 * everywhere in well under a second, a frozen one in about 1.5 s; a healed partition is one
 * cluster again within a few hundred milliseconds.
 */
export const FAST_MEMBERSHIP: Readonly<MembershipTimings> = Object.freeze({
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  suspicionTimeoutMs: 1_000,
  pushPullIntervalMs: 1_000,
  reconnectIntervalMs: 300,
});

/** Discovery retry interval for tests (once joined; the library's default is 30 s). */
export const FAST_DISCOVERY_MS = 500;

/** The loopback address of the node in slot `index`: 127.0.0.(10 + index). */
export function hostOf(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 244) throw new RangeError(`no loopback host for node index ${index} (0..244)`);
  return `127.0.0.${10 + index}`;
}

/** Options of {@link TestCluster.start}. */
export interface TestClusterOptions {
  /**
   * The shared secret; `null` starts the nodes without one (plain, unauthenticated links).
   * @default TEST_SECRET
   */
  secret?: string | null;
  /** `fast` ({@link FAST_MEMBERSHIP}) or the library's defaults; `membership` overrides either. @default 'fast' */
  timings?: 'fast' | 'default';
  /** Membership timings merged over `timings`. */
  membership?: MembershipTimings;
  /** @default FAST_DISCOVERY_MS with fast timings, the library's default otherwise */
  discoveryIntervalMs?: number;
  /** The slot whose node is everyone's seed, started first; `null`: no seed, all start alone. @default 0 */
  seed?: number | null;
  /** Per-node options merged last (over name, port, seeds, secret, timings). */
  nodeOptions?: (index: number) => Partial<ChildNodeOptions>;
  /** Names of the nodes. @default (i) => `n${i}` */
  name?: (index: number) => string;
  /** Log entries at or above this level are recorded in each node's event log. @default 'info' */
  logLevel?: ForwardLevel;
  /** Record every stream a node opens or closes as a `custom` event named `stream`. @default false */
  traceStreams?: boolean;
  /** Extension modules every child loads (paths or file URLs; see `HarnessExtension`). */
  modules?: readonly string[];
  /** How long one child may take to be ready. @default 30_000 */
  startTimeoutMs?: number;
  /** How many children start at once (tsx start-up is CPU-heavy). @default 8 */
  startConcurrency?: number;
  /** How long a command may wait for its reply. @default 10_000 */
  commandTimeoutMs?: number;
}

/** Options of {@link TestCluster.add} and {@link TestCluster.restart}. */
export interface AddOptions {
  /** Options merged over the cluster's defaults for this node. */
  options?: Partial<ChildNodeOptions>;
  /** A host other than the slot's own loopback address. */
  host?: string;
}

/** The life of a child, as the harness knows it. */
export type ChildState = 'starting' | 'running' | 'frozen' | 'exited';

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

/**
 * What one node recorded, in order of arrival, with waiting.
 */
export class EventLog {
  /** Every event so far, oldest first. */
  readonly list: HarnessEvent[] = [];
  readonly #waiters = new Set<{ pred: (e: HarnessEvent) => boolean; resolve: (e: HarnessEvent) => void }>();
  readonly #label: string;
  #closed: string | undefined;
  readonly #onClose = new Set<(why: string) => void>();

  constructor(label: string) {
    this.#label = label;
  }

  /** Appends an event and wakes the waiters it satisfies. */
  push(event: HarnessEvent): void {
    this.list.push(event);
    for (const w of [...this.#waiters]) {
      if (w.pred(event)) {
        this.#waiters.delete(w);
        w.resolve(event);
      }
    }
  }

  /** Membership events (no logs or custom events), optionally about one node only. */
  membership(about?: string): HarnessEvent[] {
    return this.list.filter((e) => (e.type === 'nodeUp' || e.type === 'nodeDown' || e.type === 'suspect' || e.type === 'alive') && (about === undefined || e.node === about));
  }

  /** Events of one type, optionally about one node. */
  of<T extends HarnessEvent['type']>(type: T, about?: string): Extract<HarnessEvent, { type: T }>[] {
    return this.list.filter((e) => e.type === type && (about === undefined || ('node' in e && e.node === about))) as Extract<HarnessEvent, { type: T }>[];
  }

  /**
   * The first event (already recorded or still to come) that satisfies `pred`. Rejects after
   * `timeoutMs`, or when the node's process exits first, listing the last events it recorded.
   */
  waitFor(pred: (e: HarnessEvent) => boolean, timeoutMs = 10_000): Promise<HarnessEvent> {
    const found = this.list.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<HarnessEvent>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        this.#onClose.delete(fail);
        const tail = this.list.filter((e) => e.type !== 'log' || e.level !== 'debug').slice(-12);
        reject(new Error(`${this.#label}: ${why}; last events:\n${tail.map((e) => `  ${JSON.stringify(e)}`).join('\n')}`));
      };
      const waiter = {
        pred,
        resolve: (e: HarnessEvent) => {
          clearTimeout(timer);
          this.#onClose.delete(fail);
          resolve(e);
        },
      };
      const timer = setTimeout(() => fail(`no matching event within ${timeoutMs} ms`), timeoutMs);
      if (this.#closed !== undefined) {
        fail(this.#closed);
        return;
      }
      this.#waiters.add(waiter);
      this.#onClose.add(fail);
    });
  }

  /** No more events will come (the process exited): pending waits fail now. */
  close(why: string): void {
    this.#closed = why;
    for (const fail of [...this.#onClose]) fail(why);
  }
}

let nextSeq = 1;
const mainFile = fileURLToPath(new URL('./node-main.ts', import.meta.url));
const TAIL_BYTES = 16 * 1024;

/** One child node: its identity, its events, and the commands it serves. */
export class ChildNode {
  /** The slot in its cluster. */
  readonly index: number;
  readonly name: string;
  readonly host: string;
  /** Every event this run of the node recorded. */
  readonly events: EventLog;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ChildExit>;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #commandTimeoutMs: number;
  #info: ChildInfo | undefined;
  #state: ChildState = 'starting';
  #output = '';
  #exit: ChildExit | undefined;
  #readyWaiter: { resolve: (i: ChildInfo) => void; reject: (e: Error) => void } | undefined;

  /** @internal Use {@link TestCluster}. */
  constructor(index: number, name: string, config: ChildConfig, commandTimeoutMs: number) {
    this.index = index;
    this.name = name;
    this.host = config.host;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.events = new EventLog(`node ${index} (${name}@${config.host})`);
    const inherit = process.env.COHORT_HARNESS_STDERR === 'inherit';
    this.#child = spawn(process.execPath, ['--import', 'tsx', mainFile], {
      env: { ...process.env, [CHILD_CONFIG_ENV]: JSON.stringify(config) },
      stdio: ['ignore', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe', 'ipc'],
    });
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#child.on('message', (m: ChildMessage) => this.#onMessage(m));
    this.exited = new Promise<ChildExit>((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal, at: now() };
        this.#state = 'exited';
        const why = `the process exited (code ${code}, signal ${signal})`;
        for (const p of this.#pending.values()) p.reject(new Error(`node ${index} (${name}): ${why}${this.#outputTail()}`));
        this.#pending.clear();
        this.events.close(why);
        resolve(this.#exit);
      });
    });
    this.#child.on('error', (error) => keep(Buffer.from(`\n[harness] spawn error: ${error.message}\n`)));
    live.add(this.#child);
    void this.exited.then(() => live.delete(this.#child));
  }

  /** The node id, `name@host:port`. @throws before the node is ready. */
  get id(): string {
    return this.info.id;
  }

  /** The port the node listens on. */
  get port(): number {
    return this.info.port;
  }

  /** This run's incarnation. */
  get incarnation(): number {
    return this.info.incarnation;
  }

  /** The child's process id. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get info(): ChildInfo {
    if (this.#info === undefined) throw new Error(`node ${this.index} (${this.name}) is not ready yet`);
    return this.#info;
  }

  get state(): ChildState {
    return this.#state;
  }

  /** How it exited, once it has. */
  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  /** The last lines the child printed (stdout and stderr), for diagnostics. */
  get output(): string {
    return this.#output;
  }

  /** Resolves once the node listens; rejects if it fails to start or exits first. */
  ready(timeoutMs: number): Promise<ChildInfo> {
    if (this.#info !== undefined) return Promise.resolve(this.#info);
    return new Promise<ChildInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        reject(new Error(`node ${this.index} (${this.name}) was not ready within ${timeoutMs} ms${this.#outputTail()}`));
      }, timeoutMs);
      this.#readyWaiter = {
        resolve: (i) => (clearTimeout(timer), resolve(i)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      void this.exited.then((x) => this.#readyWaiter?.reject(new Error(`node ${this.index} (${this.name}) exited before it was ready (code ${x.code}, signal ${x.signal})${this.#outputTail()}`)));
    });
  }

  /**
   * Runs a command in the child and returns its reply. Bounded: rejects after the command timeout
   * (a frozen child answers only once thawed).
   */
  command<T = unknown>(name: string, ...args: unknown[]): Promise<T> {
    if (this.#state === 'exited') return Promise.reject(new Error(`node ${this.index} (${this.name}) has exited; cannot run '${name}'`));
    const seq = nextSeq++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`node ${this.index} (${this.name}): no reply to '${name}' within ${this.#commandTimeoutMs} ms (state ${this.#state})`));
      }, this.#commandTimeoutMs);
      this.#pending.set(seq, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      const message: CommandMessage = { type: 'command', seq, name, args };
      try {
        this.#child.send(message);
      } catch (error) {
        this.#pending.delete(seq);
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Every member this node knows of, itself first. */
  members(): Promise<Member[]> {
    return this.command<Member[]>('members');
  }

  /** Blackholes traffic with `host` (one direction or both) in this node's transport. */
  block(host: string, direction: FaultDirection = 'both'): Promise<void> {
    return this.command('block', host, direction);
  }

  /** Delays traffic with `host` by `ms` both ways. */
  delay(host: string, ms: number): Promise<void> {
    return this.command('delay', host, ms);
  }

  /** Destroys this node's streams with `host` and refuses new ones until healed. */
  cut(host: string): Promise<void> {
    return this.command('cut', host);
  }

  /** Lifts fault rules for `host`, or all of them. */
  heal(host?: string): Promise<void> {
    return this.command('heal', host ?? null);
  }

  /** Bytes this node's sockets carried so far. */
  bytes(): Promise<ByteTotals> {
    return this.command<ByteTotals>('bytes');
  }

  /** Graceful stop: `node.stop()` in the child (it leaves the cluster), then the process exits. */
  async stop(timeoutMs = 10_000): Promise<ChildExit> {
    if (this.#state === 'exited') return this.#exit!;
    if (this.#state === 'frozen') this.signal('SIGCONT');
    await this.command('stop');
    return withTimeout(this.exited, timeoutMs, `node ${this.index} did not exit after stop`);
  }

  /** Sends a signal and updates the state it implies (SIGSTOP → frozen, SIGCONT → running). */
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM'): void {
    if (this.#state === 'exited') return;
    this.#child.kill(signal);
    if (signal === 'SIGSTOP') this.#state = 'frozen';
    if (signal === 'SIGCONT' && this.#state === 'frozen') this.#state = 'running';
  }

  /** SIGKILL and wait for the exit (SIGCONT first, in case it is frozen). */
  async kill(timeoutMs = 10_000): Promise<ChildExit> {
    if (this.#state !== 'exited') {
      this.#child.kill('SIGKILL');
      this.#child.kill('SIGCONT');
    }
    return withTimeout(this.exited, timeoutMs, `node ${this.index} did not exit after SIGKILL`);
  }

  #onMessage(m: ChildMessage): void {
    switch (m.type) {
      case 'ready': {
        const { type: _t, ...info } = m;
        this.#info = info;
        if (this.#state === 'starting') this.#state = 'running';
        this.#readyWaiter?.resolve(info);
        this.#readyWaiter = undefined;
        return;
      }
      case 'fatal':
        this.#readyWaiter?.reject(new Error(`node ${this.index} (${this.name}) failed to start: ${m.error}${this.#outputTail()}`));
        this.#readyWaiter = undefined;
        return;
      case 'event':
        this.events.push(m.event);
        return;
      case 'reply': {
        const p = this.#pending.get(m.seq);
        if (p === undefined) return;
        this.#pending.delete(m.seq);
        if (m.ok) p.resolve(m.value);
        else p.reject(Object.assign(new Error(`node ${this.index} (${this.name}): ${m.error}`), m.code === undefined ? {} : { code: m.code }));
        return;
      }
    }
  }

  #outputTail(): string {
    const tail = this.#output.trim();
    return tail.length === 0 ? '' : `\n--- child output (tail) ---\n${tail.split('\n').slice(-30).join('\n')}`;
  }
}

/** Every child process still alive, across clusters: killed when the test process exits. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
      child.kill('SIGCONT');
    } catch {
      // already gone
    }
  }
});

/** Clusters not stopped yet. */
const clusters = new Set<TestCluster>();

/** A cluster of child-process nodes. */
export class TestCluster {
  readonly #options: TestClusterOptions;
  readonly #slots: ChildNode[] = [];
  /** Every run of every slot, including replaced ones. */
  readonly #all: ChildNode[] = [];
  /** The seeds each slot was started with (restarts reuse them). */
  readonly #seedsOf = new Map<number, string[]>();
  #stopped = false;

  private constructor(options: TestClusterOptions) {
    this.#options = options;
    clusters.add(this);
  }

  /**
   * Starts `n` nodes in slots 0..n-1, each on `127.0.0.(10 + slot)` port 0. The seed slot (0 by
   * default) starts first; every other node gets its id as seed. Resolves when every node listens
   * (joining goes on in the background: see {@link converged}). On failure, stops what started.
   */
  static async start(n: number, options: TestClusterOptions = {}): Promise<TestCluster> {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`TestCluster.start: n must be a positive integer, got ${n}`);
    const cluster = new TestCluster(options);
    try {
      const seed = options.seed === undefined ? 0 : options.seed;
      if (seed !== null && (seed < 0 || seed >= n)) throw new RangeError(`seed slot ${seed} is not in 0..${n - 1}`);
      const slots = Array.from({ length: n }, (_, i) => i);
      if (seed !== null) await cluster.#launch([seed], () => []);
      const seeds = seed === null ? [] : [cluster.node(seed).id];
      await cluster.#launch(
        slots.filter((i) => i !== seed),
        () => seeds,
      );
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Stops every cluster not stopped yet. Call it in `afterEach`. */
  static async stopAll(): Promise<void> {
    await Promise.all([...clusters].map((c) => c.stop()));
  }

  /** How many slots there are (including exited nodes). */
  get size(): number {
    return this.#slots.length;
  }

  /** The node in slot `i` (its latest run). */
  node(i: number): ChildNode {
    const n = this.#slots[i];
    if (n === undefined) throw new RangeError(`no node in slot ${i} (0..${this.#slots.length - 1})`);
    return n;
  }

  /** Every node (latest runs), by slot. */
  nodes(): ChildNode[] {
    return [...this.#slots];
  }

  /** The nodes that are running (not frozen, not exited). */
  running(): ChildNode[] {
    return this.#slots.filter((n) => n.state === 'running');
  }

  /** The slot of the seed, or undefined. */
  get seed(): number | undefined {
    const s = this.#options.seed === undefined ? 0 : this.#options.seed;
    return s === null ? undefined : s;
  }

  /**
   * Waits until every running node lists every running node (itself included) as `alive`, and no
   * node that is not running (frozen or exited) as up. Returns how long it took.
   */
  async converged(timeoutMs = 15_000, nodes: readonly ChildNode[] = this.running()): Promise<number> {
    const started = performance.now();
    const expected = new Set(nodes.map((n) => n.id));
    await eventually(
      async () => {
        const views = await Promise.all(nodes.map(async (n) => [n, await n.members()] as const));
        for (const [n, members] of views) {
          const alive = new Set(members.filter((m) => m.status === 'alive').map((m) => m.id));
          const up = members.filter((m) => m.status === 'alive' || m.status === 'suspect').map((m) => m.id);
          const missing = [...expected].filter((id) => !alive.has(id));
          const extra = up.filter((id) => !expected.has(id));
          if (missing.length > 0 || extra.length > 0) {
            throw new Error(`${n.name} (${n.id}) does not agree: missing alive ${JSON.stringify(missing)}, extra up ${JSON.stringify(extra)}; members ${JSON.stringify(members.map((m) => [m.id, m.status, m.incarnation]))}`);
          }
        }
        return true;
      },
      { timeoutMs, intervalMs: 50 },
    );
    return performance.now() - started;
  }

  /** SIGKILLs the node in slot `i`; returns the time just before the signal (see `now()`). */
  async kill(i: number): Promise<number> {
    const n = this.node(i);
    const at = now();
    await n.kill();
    return at;
  }

  /** SIGSTOPs the node in slot `i`; returns the time just before the signal. */
  async freeze(i: number): Promise<number> {
    const n = this.node(i);
    if (n.state !== 'running') throw new Error(`cannot freeze node ${i}: it is ${n.state}`);
    const at = now();
    n.signal('SIGSTOP');
    await waitForProcState(n.pid, 'T');
    return at;
  }

  /** SIGCONTs the node in slot `i`; returns the time just before the signal. */
  async thaw(i: number): Promise<number> {
    const n = this.node(i);
    if (n.state !== 'frozen') throw new Error(`cannot thaw node ${i}: it is ${n.state}`);
    const at = now();
    n.signal('SIGCONT');
    await waitForProcState(n.pid, 'not-T');
    return at;
  }

  /**
   * Splits the network: every node of `a` blackholes every host of `b`, both ways, and every node
   * of `b` every host of `a`. Streams stay open (as in a real partition), so failure detection, not
   * a closed socket, must notice. Slots not in either group are untouched.
   */
  async partition(a: readonly number[], b: readonly number[]): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const i of a) for (const j of b) jobs.push(this.node(i).block(this.node(j).host, 'both'), this.node(j).block(this.node(i).host, 'both'));
    await Promise.all(jobs);
  }

  /** Lifts every fault rule on every running node (a frozen node cannot answer: heal it after the thaw). */
  async heal(): Promise<void> {
    await Promise.all(this.running().map((n) => n.heal()));
  }

  /**
   * Starts slot `i` again with the same name, host and port, as a new run (new incarnation). A node
   * still running or frozen is SIGKILLed first. Its seeds are the ones it started with, or, for a
   * node started without seeds (the seed itself), the other running nodes.
   */
  async restart(i: number, add: AddOptions = {}): Promise<ChildNode> {
    const old = this.node(i);
    const port = old.port;
    if (old.state !== 'exited') await old.kill();
    const seeds = this.#seedsOf.get(i) ?? [];
    const effectiveSeeds = seeds.length > 0 ? seeds : this.running().map((n) => n.id);
    return this.#spawn(i, effectiveSeeds, { ...add, options: { port, ...add.options } }, true);
  }

  /** Starts a late joiner in the next slot, seeded by the cluster's seed (if running). */
  async add(add: AddOptions = {}): Promise<ChildNode> {
    const i = this.#slots.length;
    const seed = this.seed;
    const seeds = seed !== undefined && this.node(seed).state !== 'exited' ? [this.node(seed).id] : this.running().map((n) => n.id).slice(0, 1);
    return this.#spawn(i, seeds, add, true);
  }

  /** Gracefully stops the node in slot `i` (it leaves the cluster). */
  async stopNode(i: number): Promise<ChildExit> {
    return this.node(i).stop();
  }

  /**
   * Ends every child: frozen ones are continued, then everything is SIGKILLed and awaited.
   * Idempotent; never throws.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clusters.delete(this);
    await Promise.all(this.#all.map((n) => n.kill().catch(() => undefined)));
  }

  async #launch(slots: readonly number[], seedsFor: (i: number) => string[]): Promise<void> {
    const concurrency = Math.max(1, this.#options.startConcurrency ?? 8);
    const queue = [...slots];
    const failures: unknown[] = [];
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        try {
          await this.#spawn(i, seedsFor(i), {}, false);
        } catch (error) {
          failures.push(error);
          queue.length = 0;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, slots.length) }, worker));
    if (failures.length > 0) throw failures[0];
  }

  async #spawn(i: number, seeds: string[], add: AddOptions, replaceAllowed: boolean): Promise<ChildNode> {
    if (this.#stopped) throw new Error('the cluster is stopped');
    if (this.#slots[i] !== undefined && !replaceAllowed) throw new Error(`slot ${i} is taken`);
    const o = this.#options;
    const fast = (o.timings ?? 'fast') === 'fast';
    const name = o.name?.(i) ?? `n${i}`;
    const secret = o.secret === undefined ? TEST_SECRET : o.secret;
    const options: ChildNodeOptions = {
      name,
      port: 0,
      seeds,
      ...(secret === null ? {} : { secret }),
      membership: { ...(fast ? FAST_MEMBERSHIP : {}), ...o.membership },
      ...(o.discoveryIntervalMs !== undefined ? { discoveryIntervalMs: o.discoveryIntervalMs } : fast ? { discoveryIntervalMs: FAST_DISCOVERY_MS } : {}),
      ...o.nodeOptions?.(i),
      ...add.options,
    };
    const config: ChildConfig = {
      host: add.host ?? hostOf(i),
      options,
      logLevel: o.logLevel ?? 'info',
      ...(o.traceStreams === true ? { traceStreams: true } : {}),
      ...(o.modules === undefined ? {} : { modules: o.modules }),
    };
    const child = new ChildNode(i, name, config, o.commandTimeoutMs ?? 10_000);
    this.#all.push(child);
    this.#slots[i] = child;
    this.#seedsOf.set(i, this.#seedsOf.get(i) ?? seeds);
    await child.ready(o.startTimeoutMs ?? 30_000);
    return child;
  }
}

/** Waits (bounded) until /proc says the process is stopped ('T') or not; a no-op without /proc. */
async function waitForProcState(pid: number, want: 'T' | 'not-T'): Promise<void> {
  const state = (): string | undefined => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    } catch {
      return undefined;
    }
  };
  if (state() === undefined) return;
  await eventually(() => (want === 'T' ? state() === 'T' : state() !== 'T'), { timeoutMs: 5_000, intervalMs: 1 });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
