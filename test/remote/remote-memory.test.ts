/**
 * Remote processes between nodes in one Node.js process over the memory transport (every message
 * still goes through the codec, framing and encryption). Killing and partitioning real processes is
 * left to `remote-process.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Pid } from '../../src/core/ids.js';
import { CohortError } from '../../src/core/errors.js';
import { Node, type DownEvent, type NodeEvents } from '../../src/node.js';
import { defineBehavior, type Behavior } from '../../src/process/behavior.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { eventually } from '../helpers/eventually.js';
import { rejection } from '../helpers/errors.js';
import { gate } from '../helpers/behaviors.js';
import { gated } from '../transport/helpers.js';

const SECRET = 'cohort remote memory secret';
const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000, pushPullIntervalMs: 1_000 };

const started: Node[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

type KvCall =
  | { type: 'get'; key: string }
  | { type: 'put'; key: string; value: unknown }
  | { type: 'throw'; message: string }
  | { type: 'wait'; until: Promise<void> | undefined; ms?: number }
  | { type: 'handled' };
type KvCast = { type: 'put'; key: string; value: unknown } | { type: 'crash' };
interface KvState {
  readonly data: Map<string, unknown>;
  handled: number;
  info: unknown[];
}

/** A key-value process: the remote counterpart in these tests. */
const kv: Behavior<{ seed?: Record<string, unknown> } | undefined, KvState, KvCall, unknown, KvCast, unknown> = {
  init: (args) => ({ data: new Map(Object.entries(args?.seed ?? {})), handled: 0, info: [] }),
  async handleCall(msg, state) {
    state.handled++;
    switch (msg.type) {
      case 'get':
        return [state.data.get(msg.key) ?? null, state];
      case 'put':
        state.data.set(msg.key, msg.value);
        return ['ok', state];
      case 'throw': {
        const error = new CohortError('UNAVAILABLE', msg.message);
        throw error;
      }
      case 'wait':
        await new Promise((r) => setTimeout(r, msg.ms ?? 50));
        return ['waited', state];
      case 'handled':
        return [state.handled, state];
    }
  },
  handleCast(msg, state) {
    if (msg.type === 'crash') throw new Error('crashed by a cast');
    state.data.set(msg.key, msg.value);
    return state;
  },
  handleInfo(msg, state) {
    state.info.push(msg);
    return state;
  },
};

async function startNode(network: MemoryNetwork, name: string, seeds: string[] = []): Promise<Node> {
  const node = await Node.start({ name, secret: SECRET, seeds, membership: TIMINGS, discoveryIntervalMs: 500, transport: network.transport() });
  started.push(node);
  node.behaviors.register('kv', kv);
  return node;
}

/** Two or more nodes that see each other alive. */
/**
 * Node a, whose dials say nothing until `held.release()` (so its link to b is not up while it
 * queues for b), and node b with a smaller frame limit (64 KB) and a kv process `ref`.
 */
async function heldBack() {
  const network = new MemoryNetwork();
  const held = gated(network.transport(), 0);
  const a = await Node.start({ name: 'a', secret: SECRET, membership: TIMINGS, transport: held.transport });
  const b = await Node.start({ name: 'b', secret: SECRET, membership: TIMINGS, transport: network.transport(), maxFrameBytes: 64 * 1024 });
  started.push(a, b);
  return { a, b, held, ref: await b.spawn(kv, undefined) };
}

async function pair(n = 2): Promise<Node[]> {
  const network = new MemoryNetwork();
  const first = await startNode(network, 'r0');
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(network, `r${i + 1}`, [first.id])));
  const nodes = [first, ...rest];
  await eventually(() => nodes.every((x) => x.members().filter((m) => m.status === 'alive').length === n), 10_000);
  return nodes;
}

describe('remote processes (memory transport)', () => {
  it('call, cast and send — reach a process of another node exactly as a local one', async () => {
    const [a, b] = await pair();
    const ref = await b!.spawn(kv, { seed: { x: 1 } });
    expect(await a!.call(ref, { type: 'get', key: 'x' })).toBe(1);
    a!.cast(ref, { type: 'put', key: 'y', value: { nested: [1, 2], when: new Date(5) } });
    expect(await a!.call(ref, { type: 'get', key: 'y' })).toEqual({ nested: [1, 2], when: new Date(5) });
    a!.send(ref, { hello: 'info' });
    await eventually(async () => expect(await a!.call(ref, { type: 'handled' })).toBeGreaterThan(0));
  });

  it('call — the callee threw: REMOTE_ERROR with the remote name, message and code', async () => {
    const [a, b] = await pair();
    const ref = await b!.spawn(kv, undefined);
    const error = await rejection(a!.call(ref, { type: 'throw', message: 'no luck' }));
    expect(error.code).toBe('REMOTE_ERROR');
    expect(error.node).toBe(b!.id);
    expect(error.details).toMatchObject({ name: 'CohortError', message: 'no luck', code: 'UNAVAILABLE' });
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('no luck');
  });

  it('call — a process that is gone, or of an earlier run of its node, fails with NOPROC', async () => {
    const [a, b] = await pair();
    const ref = await b!.spawn(kv, undefined);
    await b!.stopProcess(ref);
    expect((await rejection(a!.call(ref, { type: 'get', key: 'x' }))).code).toBe('NOPROC');
    const older: Pid = { ...ref, incarnation: ref.incarnation - 1 };
    expect((await rejection(a!.call(older, { type: 'get', key: 'x' }))).code).toBe('NOPROC');
  });

  it('order — what is sent to one process arrives in order even around a large message, and a large message does not hold up another process', async () => {
    const [a, b] = await pair();
    const log: string[] = [];
    const recorder = defineBehavior({
      init: (name: string) => name,
      handleCast: (msg: { text: string; pad?: string }, name: string) => {
        log.push(`${name}: ${msg.text}`);
        return name;
      },
      handleCall: (msg: { text: string }, name: string) => {
        log.push(`${name}: ${msg.text}`);
        return [log.length, name] as const;
      },
    });
    const first = await b!.spawn(recorder, 'first');
    const second = await b!.spawn(recorder, 'second');
    a!.cast(first, { text: 'large', pad: 'x'.repeat(2 * 1024 * 1024) });
    a!.cast(first, { text: 'small after it' });
    a!.cast(second, { text: 'small to another process' });
    await a!.call(first, { text: 'call after both' });
    expect(log.filter((l) => l.startsWith('first'))).toEqual(['first: large', 'first: small after it', 'first: call after both']);
    // The other process did not wait for the 2 MB message.
    expect(log.indexOf('second: small to another process')).toBeLessThan(log.indexOf('first: large'));
  });

  it('call — TIMEOUT, and the callee skips a call whose caller gave up before it was dequeued', async () => {
    const [a, b] = await pair();
    const ref = await b!.spawn(kv, undefined);
    const busy = a!.call(ref, { type: 'wait', until: undefined, ms: 300 }, { timeoutMs: 2_000 });
    const late = await rejection(a!.call(ref, { type: 'get', key: 'x' }, { timeoutMs: 50 }));
    expect(late.code).toBe('TIMEOUT');
    expect(await busy).toBe('waited');
    // Only `busy` and this call ran: the abandoned `get` was skipped on the other node.
    expect(await a!.call(ref, { type: 'handled' })).toBe(2);
  });

  it('call — the handler on the other node sees from.signal abort when the caller gives up', async () => {
    const [a, b] = await pair();
    const aborts: { code: unknown; afterMs: number }[] = [];
    const patient = defineBehavior({
      init: () => null,
      handleCall: async (_msg: { type: 'wait' }, state: null, from) => {
        const started = performance.now();
        await new Promise<void>((resolve) => from.signal.addEventListener('abort', () => resolve()));
        aborts.push({ code: (from.signal.reason as CohortError).code, afterMs: performance.now() - started });
        return ['too late', state] as const;
      },
    });
    const ref = await b!.spawn(patient, undefined);
    expect((await rejection(a!.call(ref, { type: 'wait' }, { timeoutMs: 200 }))).code).toBe('TIMEOUT');
    await eventually(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]!.code).toBe('TIMEOUT');
    // The caller's remaining time travelled with the call: the handler gave up near 200 ms, not at a default.
    expect(aborts[0]!.afterMs).toBeLessThan(1_000);
  });

  it('call — a node that restarts under the same id gets no answer meant for its earlier run, and the handler sees from.signal abort', async () => {
    const network = new MemoryNetwork();
    const b = await startNode(network, 'b');
    const release = gate();
    const started: string[] = [];
    const aborted: unknown[] = [];
    const slow = defineBehavior({
      init: () => null,
      handleCall: async (msg: { type: 'slow'; tag: string }, state: null, from) => {
        started.push(msg.tag);
        from.signal.addEventListener('abort', () => aborted.push((from.signal.reason as CohortError).code));
        await release.promise;
        return [msg.tag, state] as const;
      },
    });
    const first = await b.spawn(slow, undefined);
    const second = await b.spawn(slow, undefined);
    const nodes: Node[] = [];
    const startA = async () => {
      const a = await Node.start({ name: 'a', port: 7_100, secret: SECRET, seeds: [b.id], membership: TIMINGS, transport: network.transport() });
      nodes.push(a);
      return a;
    };
    const a1 = await startA();
    await eventually(() => b.members().some((m) => m.id === a1.id && m.status === 'alive'), 10_000);
    const old = rejection(a1.call(first, { type: 'slow', tag: 'for the earlier run' }, { timeoutMs: 30_000 }));
    await eventually(() => expect(started).toEqual(['for the earlier run']));
    await a1.stop();
    expect(['NOCONNECTION', 'NODE_STOPPED']).toContain((await old).code);
    await eventually(() => expect(aborted).toEqual(['NOCONNECTION']));
    const a2 = await startA();
    expect(a2.id).toBe(a1.id);
    await eventually(() => a2.members().some((m) => m.id === b.id && m.status === 'alive'), 10_000);
    const fresh = a2.call(second, { type: 'slow', tag: 'for the new run' }, { timeoutMs: 30_000 });
    await eventually(() => expect(started).toHaveLength(2));
    release.open();
    expect(await fresh).toBe('for the new run');
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('calls waiting on a node that leaves fail with NOCONNECTION at once, not at their timeout', async () => {
    const [a, b] = await pair();
    const ref = await b!.spawn(kv, undefined);
    const calls = Array.from({ length: 20 }, () => a!.call(ref, { type: 'wait', until: undefined, ms: 3_000 }, { timeoutMs: 30_000 }));
    const t0 = performance.now();
    void b!.stop();
    const results = await Promise.allSettled(calls);
    expect(performance.now() - t0).toBeLessThan(2_000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(['NOCONNECTION', 'PROCESS_EXITED']).toContain((r as PromiseRejectedResult).reason.code);
    }
    expect(results.some((r) => (r as PromiseRejectedResult).reason.code === 'NOCONNECTION')).toBe(true);
  });

  it('cast — to a node that is down is reported as messageDropped, not lost silently', async () => {
    const [a, b] = await pair();
    const ref = await b!.spawn(kv, undefined);
    await b!.stop();
    await eventually(() => a!.members().find((m) => m.id === ref.node)?.status === 'left');
    const dropped: NodeEvents['messageDropped'][] = [];
    a!.on('messageDropped', (e) => dropped.push(e));
    a!.cast(ref, { type: 'put', key: 'k', value: 1 });
    expect(dropped).toEqual([expect.objectContaining({ target: ref, kind: 'cast' })]);
    expect(dropped[0]!.why).toContain(b!.id);
  });

  it('cast — one queued before the link is up and too large for the other node is counted as undelivered; the next arrives', async () => {
    const { a, b, held, ref } = await heldBack();
    const undelivered: NodeEvents['undelivered'][] = [];
    a.on('undelivered', (e) => undelivered.push(e));
    a.cast(ref, { type: 'put', key: 'big', value: 'x'.repeat(100 * 1024) });
    a.cast(ref, { type: 'put', key: 'small', value: 1 });
    await eventually(() => expect(held.held()).toBeGreaterThan(0));
    held.release();
    await eventually(() => expect(undelivered).toEqual([{ node: b.id, count: 1 }]), 5_000);
    await eventually(async () => expect(await b.call(ref, { type: 'get', key: 'small' })).toBe(1));
    expect(await b.call(ref, { type: 'get', key: 'big' })).toBeNull();
  });

  it('call — one queued before the link is up and too large for the other node fails with FRAME_TOO_LARGE when the link comes up, not at its timeout', async () => {
    const { a, b, held, ref } = await heldBack();
    const big = a.call(ref, { type: 'put', key: 'big', value: 'x'.repeat(100 * 1024) }, { timeoutMs: 5_000 });
    const small = a.call(ref, { type: 'put', key: 'small', value: 1 });
    await eventually(() => expect(held.held()).toBeGreaterThan(0));
    held.release();
    const error = await rejection(big);
    expect(error).toMatchObject({ code: 'FRAME_TOO_LARGE', message: expect.stringMatching(/maxFrameBytes of .*b.* \(65536\)/) });
    expect(await small).toBe('ok');
    expect(await b.call(ref, { type: 'get', key: 'small' })).toBe(1);
  });

  it('spawn — on another node by registered name, args travel, the ref works from anywhere', async () => {
    const [a, b, c] = await pair(3);
    const ref = await a!.spawn('kv', { seed: { who: 'remote' } }, { on: b!.id, name: 'store' });
    expect(ref.node).toBe(b!.id);
    expect(b!.whereis('store')).toEqual(ref);
    expect(await c!.call(ref, { type: 'get', key: 'who' })).toBe('remote');
  });

  it('spawn — UNKNOWN_BEHAVIOR, INIT_FAILED, TIMEOUT and NAME_TAKEN come back from the other node', async () => {
    const [a, b] = await pair();
    b!.behaviors.register('fails', { init: () => { throw new Error('cannot start'); } });
    const hold = gate();
    b!.behaviors.register('slow', { init: () => hold.promise.then(() => null) });
    expect((await rejection(a!.spawn('nope', undefined, { on: b!.id }))).code).toBe('UNKNOWN_BEHAVIOR');
    const failed = await rejection(a!.spawn('fails', undefined, { on: b!.id }));
    expect(failed.code).toBe('INIT_FAILED');
    expect(failed.message).toContain('cannot start');
    expect((await rejection(a!.spawn('slow', undefined, { on: b!.id, timeoutMs: 100 }))).code).toBe('TIMEOUT');
    hold.open();
    await b!.spawn('kv', undefined, { name: 'taken' });
    expect((await rejection(a!.spawn('kv', undefined, { on: b!.id, name: 'taken' }))).code).toBe('NAME_TAKEN');
    expect(await rejection(a!.spawn(kv, undefined, { on: b!.id }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(b!.processCount()).toBe(1);
  });

  it('monitor — reasons normal, shutdown, error (with message) and noproc at once', async () => {
    const [a, b] = await pair();
    const downs: DownEvent[] = [];
    const record = (d: DownEvent) => downs.push(d);
    const p1 = await b!.spawn(kv, undefined);
    const p2 = await b!.spawn(kv, undefined);
    const p3 = await b!.spawn(kv, undefined);
    a!.monitor(p1, record);
    a!.monitor(p2, record);
    a!.monitor(p3, record);
    // A monitor reaches the other node before the stop requests below, over the same link.
    await a!.call(p3, { type: 'handled' });
    await a!.stopProcess(p1, 'normal');
    await a!.stopProcess(p2, 'shutdown');
    a!.cast(p3, { type: 'crash' });
    await eventually(() => expect(downs).toHaveLength(3));
    expect(downs.map((d) => [d.pid.id, d.reason])).toEqual([[p1.id, 'normal'], [p2.id, 'shutdown'], [p3.id, 'error']]);
    expect(downs[2]!.message).toContain('crashed by a cast');
    const gone: DownEvent[] = [];
    a!.monitor(p1, (d) => gone.push(d));
    await eventually(() => expect(gone).toEqual([expect.objectContaining({ pid: p1, reason: 'noproc' })]));
  });

  it('monitor — a process hears the last message of a remote process it monitors before its $down, even a large one', async () => {
    const [a, b] = await pair();
    const heard: string[] = [];
    const watcher = defineBehavior({
      init: () => null,
      handleCall: (target: Pid, state: null, _from, ctx) => {
        ctx.monitor(target);
        return ['watching', state] as const;
      },
      handleInfo: (msg: { type: string; text?: string; reason?: string }, state: null) => {
        heard.push(msg.type === '$down' ? `$down ${msg.reason}` : `${msg.text}`);
        return state;
      },
    });
    const worker = defineBehavior({
      init: () => null,
      handleCast: (to: Pid, state: null, ctx) => {
        ctx.send(to, { type: 'result', text: 'large result', pad: 'x'.repeat(2 * 1024 * 1024) });
        ctx.stop('normal');
        return state;
      },
    });
    const w = await a!.spawn(watcher, undefined);
    const p = await b!.spawn(worker, undefined);
    // The monitor and the cast travel on the worker's lane of the link: the monitor is in place first.
    await a!.call(w, p);
    a!.cast(p, w);
    await eventually(() => expect(heard).toHaveLength(2));
    expect(heard).toEqual(['large result', '$down normal']);
  });

  it('monitor — a node that goes away fires noconnection once; demonitor stops the down', async () => {
    const [a, b] = await pair();
    const p1 = await b!.spawn(kv, undefined);
    const p2 = await b!.spawn(kv, undefined);
    const downs: DownEvent[] = [];
    a!.monitor(p1, (d) => downs.push(d));
    const cancelled = a!.monitor(p2, (d) => downs.push(d));
    expect(a!.demonitor(cancelled)).toBe(true);
    await a!.call(p1, { type: 'handled' });
    await b!.stop();
    await eventually(() => expect(downs).toHaveLength(1));
    expect(downs[0]).toMatchObject({ pid: p1 });
    expect(['noconnection', 'shutdown']).toContain(downs[0]!.reason);
    expect(a!.demonitor(cancelled)).toBe(false);
  });

  it('link — a remote crash kills the linked local process; one that traps exits gets $exit', async () => {
    const [a, b] = await pair();
    const far = await b!.spawn(kv, undefined);
    const { linker, seen } = linkers();
    const plain = await a!.spawn(linker, { to: far, trap: false });
    const trapping = await a!.spawn(linker, { to: far, trap: true });
    await a!.call(far, { type: 'handled' }); // the links have reached the other node
    a!.cast(far, { type: 'crash' });
    await eventually(() => expect(a!.isAlive(plain)).toBe(false));
    await eventually(() => expect(seen).toEqual([expect.objectContaining({ type: '$exit', pid: far, reason: 'error' })]));
    expect(a!.isAlive(trapping)).toBe(true);
  });

  it('link — a local crash kills the linked process on the other node', async () => {
    const [a, b] = await pair();
    const { linker } = linkers();
    b!.behaviors.register('linker', linker);
    const local = await a!.spawn(kv, undefined);
    const far = await a!.spawn('linker', { to: local, trap: false }, { on: b!.id });
    await eventually(async () => expect(await a!.call(local, { type: 'handled' })).toBe(1));
    a!.cast(local, { type: 'crash' });
    await eventually(() => expect(b!.isAlive(far)).toBe(false));
  });

  it('link — the linked processes of a node that goes away get noconnection', async () => {
    const [a, b] = await pair();
    const far = await b!.spawn(kv, undefined);
    const { linker, seen } = linkers();
    const trapping = await a!.spawn(linker, { to: far, trap: true });
    await a!.call(far, { type: 'handled' });
    await b!.stop();
    await eventually(() => expect(seen).toEqual([expect.objectContaining({ type: '$exit', pid: far })]));
    expect(['noconnection', 'shutdown']).toContain((seen[0] as { reason: string }).reason);
    expect(a!.isAlive(trapping)).toBe(true);
  });

  it('spawn with link — the new process on the other node is linked to the caller', async () => {
    const [a, b] = await pair();
    const { linker, seen } = linkers();
    const parent = await a!.spawn(linker, { to: undefined, trap: true });
    const child = await a!.spawn('kv', undefined, { on: b!.id, link: parent });
    a!.cast(child, { type: 'crash' });
    await eventually(() => expect(seen).toEqual([expect.objectContaining({ type: '$exit', pid: child, reason: 'error' })]));
  });
});

/** A process that links itself to `to` in init, trapping exits if told; what it traps lands in `seen`. */
function linkers() {
  const seen: unknown[] = [];
  const linker: Behavior<{ to: Pid | undefined; trap: boolean }, null> = {
    init: (args, ctx) => {
      ctx.trapExit(args.trap);
      if (args.to !== undefined) ctx.link(args.to);
      return null;
    },
    handleInfo: (msg, state) => {
      seen.push(msg);
      return state;
    },
  };
  return { linker, seen };
}
