/**
 * Harness extension for remote-process tests: `kv`, `watcher` and `finisher` behaviors registered on every child, and
 * commands to spawn, call (one or many in flight), cast and monitor across nodes. Downs are
 * reported to the parent as custom `down` events; errors come back as `{ code, message }` data so a
 * test can assert on them.
 */
import type { Pid } from '../../../src/core/ids.js';
import { isCohortError } from '../../../src/core/errors.js';
import type { Behavior } from '../../../src/process/behavior.js';
import type { NodeSpawnOptions } from '../../../src/node.js';
import type { ChildContext } from '../protocol.js';

type KvCall =
  | { type: 'get'; key: string }
  | { type: 'put'; key: string; value: unknown }
  | { type: 'echo'; value: unknown }
  | { type: 'sleep'; ms: number }
  | { type: 'untilAbort' };
type KvCast = { type: 'put'; key: string; value: unknown };
type KvState = Map<string, unknown>;

/**
 * A small key-value process; `sleep` holds it busy for `ms` of real time; `untilAbort` holds it
 * until its caller gives up, and notes the reason's code in `aborted`.
 */
export const kv: Behavior<Record<string, unknown> | undefined, KvState, KvCall, unknown, KvCast, unknown> = {
  init: (seed) => new Map(Object.entries(seed ?? {})),
  async handleCall(msg, state, from) {
    switch (msg.type) {
      case 'get':
        return [state.get(msg.key) ?? null, state];
      case 'put':
        state.set(msg.key, msg.value);
        return ['ok', state];
      case 'echo':
        return [msg.value, state];
      case 'sleep':
        await new Promise((r) => setTimeout(r, msg.ms));
        slept++;
        return ['slept', state];
      case 'untilAbort': {
        const { signal } = from;
        untilAbort++;
        await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
        aborted.push(isCohortError(signal.reason) ? signal.reason.code : String(signal.reason));
        return ['aborted', state];
      }
    }
  },
  handleCast(msg, state) {
    state.set(msg.key, msg.value);
    return state;
  },
};

type WatcherCall = { type: 'watch'; target: Pid } | { type: 'heard' };
type Result = { type: 'result'; text: string; pad: string };

/**
 * Monitors the processes it is told to watch and keeps, in order, what it heard: the `text` of
 * each message, and `$down <reason>` for each down.
 */
export const watcher: Behavior<undefined, string[], WatcherCall, unknown, never, Result> = {
  init: () => [],
  handleCall(msg, heard, _from, ctx) {
    if (msg.type === 'heard') return [heard, heard];
    ctx.monitor(msg.target);
    return ['watching', heard];
  },
  handleInfo(msg, heard) {
    heard.push(msg.type === '$down' ? `$down ${msg.reason}` : msg.type === 'result' ? msg.text : msg.type);
    return heard;
  },
};

/** Told to `finish`, sends `to` a last message of `bytes` bytes, then stops normally. */
export const finisher: Behavior<undefined, null, never, never, { type: 'finish'; to: Pid; bytes: number }, never> = {
  init: () => null,
  handleCast(msg, state, ctx) {
    ctx.send(msg.to, { type: 'result', text: `result of ${msg.bytes} bytes`, pad: 'x'.repeat(msg.bytes) });
    ctx.stop('normal');
    return state;
  },
};

/** An outcome as plain data. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

const outcome = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, code: isCohortError(error) ? error.code : 'NOT_COHORT', message: String((error as Error)?.message ?? error) }),
  );

/** Batches of calls started by `startCalls`, by key. */
interface Batch {
  readonly startedAt: number;
  readonly timeoutMs: number;
  readonly settled: Promise<{ outcome: Outcome; at: number }[]>;
}
const batches = new Map<string, Batch>();
/** How many `sleep` calls this child's kv processes have finished. */
let slept = 0;
/** How many `untilAbort` calls have started, and the codes of the reasons they were aborted with. */
let untilAbort = 0;
const aborted: string[] = [];

export function setup(ctx: ChildContext): void {
  ctx.node.behaviors.register('kv', kv);
  ctx.node.behaviors.register('watcher', watcher);
  ctx.node.behaviors.register('finisher', finisher);
}

export const commands = {
  spawnKv: (ctx: ChildContext, seed?: Record<string, unknown>, name?: string) =>
    ctx.node.spawn(kv, seed, name === undefined ? {} : { name }),
  spawnOn: (ctx: ChildContext, behavior: string, args: unknown, options: NodeSpawnOptions) => outcome(ctx.node.spawn(behavior, args, options)),
  call: (ctx: ChildContext, target: Pid | string, msg: KvCall, timeoutMs = 5_000) => outcome(ctx.node.call(target, msg, { timeoutMs })),
  cast: (ctx: ChildContext, target: Pid | string, msg: KvCast) => ctx.node.cast(target, msg),
  stopProcess: (ctx: ChildContext, target: Pid, reason?: 'normal' | 'shutdown') => outcome(ctx.node.stopProcess(target, reason)),
  slept: () => slept,
  aborted: () => aborted,
  untilAbortStarted: () => untilAbort,
  isAlive: (ctx: ChildContext, target: Pid | string) => ctx.node.isAlive(target),
  /** Monitors `target`; each down arrives as a custom `down` event `{ tag, pid, reason, message }`. */
  monitor: (ctx: ChildContext, target: Pid | string, tag: string) => {
    ctx.node.monitor(target, (down) => ctx.emit('down', { tag, pid: down.pid, reason: down.reason, message: down.message ?? null }));
  },
  /** Registers a global name; the outcome as data. */
  register: (ctx: ChildContext, name: string, pid: Pid) => outcome(ctx.node.registry.register(name, pid)),
  whereisGlobal: (ctx: ChildContext, name: string) => ctx.node.registry.whereis(name) ?? null,
  globalNames: (ctx: ChildContext) => ctx.node.registry.names(),
  join: (ctx: ChildContext, group: string, pid: Pid) => ctx.node.groups.join(group, pid),
  leave: (ctx: ChildContext, group: string, pid: Pid) => ctx.node.groups.leave(group, pid),
  groupMembers: (ctx: ChildContext, group: string) => ctx.node.groups.members(group),
  /** Starts `n` calls at once and returns at once; `settleCalls(key)` collects them. */
  startCalls: (ctx: ChildContext, key: string, target: Pid, n: number, msg: KvCall, timeoutMs: number) => {
    const startedAt = performance.now();
    const settled = Promise.all(
      Array.from({ length: n }, () => outcome(ctx.node.call(target, msg, { timeoutMs })).then((o) => ({ outcome: o, at: performance.now() - startedAt }))),
    );
    batches.set(key, { startedAt, timeoutMs, settled });
  },
  /** How the calls of batch `key` settled: counts by outcome, and the latest settle time. */
  settleCalls: async (_ctx: ChildContext, key: string) => {
    const batch = batches.get(key);
    if (batch === undefined) throw new Error(`no batch '${key}'`);
    const results = await batch.settled;
    batches.delete(key);
    const byCode: Record<string, number> = {};
    for (const r of results) {
      const k = r.outcome.ok ? 'reply' : r.outcome.code;
      byCode[k] = (byCode[k] ?? 0) + 1;
    }
    return { total: results.length, byCode, latestMs: Math.max(...results.map((r) => r.at)), timeoutMs: batch.timeoutMs };
  },
};
