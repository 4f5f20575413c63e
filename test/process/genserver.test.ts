import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { defineBehavior, noReply, type Behavior, type From } from '../../src/index.js';
import { Node } from '../../src/node.js';
import { rejection } from '../helpers/errors.js';

const nodes: Node[] = [];
async function start(options: Parameters<typeof Node.start>[0] = {}): Promise<Node> {
  const node = await Node.start(options);
  nodes.push(node);
  return node;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

const counter = defineBehavior({
  init: (start: number) => start,
  handleCall: (msg: { type: 'get' } | { type: 'crash' }, n: number) => {
    if (msg.type === 'crash') throw new Error('asked to crash');
    return [n, n] as const;
  },
  handleCast: (msg: { type: 'inc'; by: number }, n: number) => n + msg.by,
});

describe('genserver — calls and casts', () => {
  it('init builds the state, casts change it, calls read it', async () => {
    const node = await start();
    const ref = await node.spawn(counter, 10);
    node.cast(ref, { type: 'inc', by: 5 });
    node.cast(ref, { type: 'inc', by: -2 });
    expect(await node.call(ref, { type: 'get' })).toBe(13);
  });

  it('handles messages one at a time, in order, also when handlers are async', async () => {
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const slow = defineBehavior({
      init: () => 0,
      handleCall: async (msg: { type: 'work'; n: number }, s: number) => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${msg.n}`);
        await new Promise((r) => setImmediate(r));
        log.push(`end ${msg.n}`);
        active--;
        return [msg.n, s + 1] as const;
      },
    });
    const node = await start();
    const ref = await node.spawn(slow, undefined);
    const replies = await Promise.all([1, 2, 3, 4].map((n) => node.call(ref, { type: 'work', n })));
    expect(replies).toEqual([1, 2, 3, 4]);
    expect(maxActive).toBe(1);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4']);
  });

  it('async init, handleCast and handleInfo are awaited before the next message', async () => {
    const order: string[] = [];
    const b = defineBehavior({
      init: async () => {
        await Promise.resolve();
        order.push('init');
        return [] as string[];
      },
      handleCast: async (msg: { type: 'add'; v: string }, s: string[]) => {
        await new Promise((r) => setImmediate(r));
        order.push(`cast ${msg.v}`);
        return [...s, msg.v];
      },
      handleInfo: async (msg: unknown, s: string[]) => {
        await Promise.resolve();
        order.push(`info ${String(msg)}`);
        return [...s, String(msg)];
      },
      handleCall: (_m: { type: 'get' }, s: string[]) => [s, s] as const,
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    node.cast(ref, { type: 'add', v: 'a' });
    node.send(ref, 'b');
    node.cast(ref, { type: 'add', v: 'c' });
    expect(await node.call(ref, { type: 'get' })).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['init', 'cast a', 'info b', 'cast c']);
  });

  it('a call can be answered later with noReply and ctx.reply', async () => {
    const b = defineBehavior({
      init: () => ({ waiting: [] as From[] }),
      handleCall: (msg: { type: 'wait' } | { type: 'release'; value: number }, s: { waiting: From[] }, from, ctx) => {
        if (msg.type === 'wait') {
          s.waiting.push(from);
          return noReply(s);
        }
        for (const f of s.waiting) ctx.reply(f, msg.value);
        return [s.waiting.length, { waiting: [] }] as const;
      },
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const w1 = node.call(ref, { type: 'wait' });
    const w2 = node.call(ref, { type: 'wait' });
    expect(await node.call(ref, { type: 'release', value: 7 })).toBe(2);
    expect(await Promise.all([w1, w2])).toEqual([7, 7]);
  });

  it('a call to a process without handleCall is answered with BAD_REQUEST and the process keeps running', async () => {
    const b: Behavior = { init: () => 1, handleCast: (_m: unknown, s: number) => s };
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const e = await rejection(node.call(ref, { type: 'x' }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/does not handle calls/);
    expect(node.isAlive(ref)).toBe(true);
  });
});

describe('genserver — timeouts', () => {
  it('a call with no reply within timeoutMs rejects with TIMEOUT on the manual clock', async () => {
    const clock = new ManualClock();
    const never = defineBehavior({ init: () => 0, handleCall: (_m: { type: 'hang' }, s: number) => noReply(s) });
    const node = await start({ clock });
    const ref = await node.spawn(never, undefined);
    let settled = false;
    const p = node.call(ref, { type: 'hang' }, { timeoutMs: 100 }).finally(() => (settled = true));
    const outcome = rejection(p);
    await clock.advance(99);
    expect(settled).toBe(false);
    await clock.advance(1);
    const e = await outcome;
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toMatch(/may or may not/);
  });

  it('the default call timeout is 5 s and comes from the node options', async () => {
    const clock = new ManualClock();
    const never = defineBehavior({ init: () => 0, handleCall: (_m: { type: 'hang' }, s: number) => noReply(s) });
    const node = await start({ clock, callTimeoutMs: 250 });
    const ref = await node.spawn(never, undefined);
    const outcome = rejection(node.call(ref, { type: 'hang' }));
    await clock.advance(250);
    expect((await outcome).code).toBe('TIMEOUT');
  });

  it('a call whose caller gave up before it was dequeued is not handled', async () => {
    const clock = new ManualClock();
    const handled: number[] = [];
    let release!: () => void;
    const b = defineBehavior({
      init: () => 0,
      handleCall: async (msg: { type: 'block' } | { type: 'work'; n: number }, s: number) => {
        if (msg.type === 'block') await new Promise<void>((r) => (release = r));
        else handled.push(msg.n);
        return [null, s] as const;
      },
    });
    const node = await start({ clock });
    const ref = await node.spawn(b, undefined);
    const blocker = node.call(ref, { type: 'block' }, { timeoutMs: 10_000 });
    const late = rejection(node.call(ref, { type: 'work', n: 1 }, { timeoutMs: 50 }));
    await clock.advance(50);
    expect((await late).code).toBe('TIMEOUT');
    release();
    await blocker;
    expect(await node.call(ref, { type: 'work', n: 2 })).toBeNull();
    expect(handled).toEqual([2]);
  });

  it('from.signal aborts when the caller gives up, with TIMEOUT as its reason; it never aborts for a call that was answered', async () => {
    const clock = new ManualClock();
    const seen: From[] = [];
    let finish!: () => void;
    const b = defineBehavior({
      init: () => 0,
      handleCall: async (msg: { type: 'long' } | { type: 'quick' }, s: number, from) => {
        seen.push(from);
        if (msg.type === 'long') await new Promise<void>((r) => (finish = r));
        return [msg.type, s] as const;
      },
    });
    const node = await start({ clock });
    const ref = await node.spawn(b, undefined);
    expect(await node.call(ref, { type: 'quick' }, { timeoutMs: 100 })).toBe('quick');
    const long = rejection(node.call(ref, { type: 'long' }, { timeoutMs: 100 }));
    await clock.advance(0);
    expect(seen).toHaveLength(2);
    const signal = seen[1]!.signal;
    expect(signal.aborted).toBe(false);
    let abortedAt: number | undefined;
    signal.addEventListener('abort', () => (abortedAt = clock.now()));
    await clock.advance(99);
    expect(signal.aborted).toBe(false);
    await clock.advance(1);
    expect((await long).code).toBe('TIMEOUT');
    expect(abortedAt).toBe(100);
    expect(signal.reason).toMatchObject({ code: 'TIMEOUT' });
    // The same signal on every read; and the answered call's signal stays quiet.
    expect(seen[1]!.signal).toBe(signal);
    await clock.advance(1_000);
    expect(seen[0]!.signal.aborted).toBe(false);
    finish();
  });

  it('from.signal read only after the caller gave up is already aborted', async () => {
    const clock = new ManualClock();
    let from!: From;
    let finish!: () => void;
    const b = defineBehavior({
      init: () => 0,
      handleCall: async (_msg: { type: 'long' }, s: number, f) => {
        from = f;
        await new Promise<void>((r) => (finish = r));
        return [null, s] as const;
      },
    });
    const node = await start({ clock });
    const ref = await node.spawn(b, undefined);
    const long = rejection(node.call(ref, { type: 'long' }, { timeoutMs: 50 }));
    await clock.advance(50);
    expect((await long).code).toBe('TIMEOUT');
    expect(from.signal.aborted).toBe(true);
    expect(from.signal.reason).toMatchObject({ code: 'TIMEOUT' });
    finish();
  });

  it('an invalid timeout is refused with INVALID_ARGUMENT', async () => {
    const node = await start();
    const ref = await node.spawn(counter, 0);
    for (const timeoutMs of [0, -1, Number.NaN, Infinity]) {
      expect((await rejection(node.call(ref, { type: 'get' }, { timeoutMs }))).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('init slower than the spawn timeout fails the spawn with TIMEOUT and leaves no process', async () => {
    const clock = new ManualClock();
    const b = defineBehavior({ init: () => new Promise<number>(() => {}) });
    const node = await start({ clock });
    const outcome = rejection(node.spawn(b, undefined, { timeoutMs: 100 }));
    await clock.advance(100);
    expect((await outcome).code).toBe('TIMEOUT');
    expect(node.processCount()).toBe(0);
  });
});

describe('genserver — crashes', () => {
  it('a handler that throws crashes the process: the caller gets PROCESS_EXITED with the cause, queued callers too', async () => {
    let release!: () => void;
    const b = defineBehavior({
      init: () => 0,
      handleCall: async (msg: { type: 'crash' } | { type: 'get' }, s: number) => {
        if (msg.type === 'crash') {
          await new Promise<void>((r) => (release = r));
          throw new TypeError('bad state');
        }
        return [s, s] as const;
      },
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const crashing = rejection(node.call(ref, { type: 'crash' }));
    const queued = rejection(node.call(ref, { type: 'get' }));
    await new Promise((r) => setImmediate(r));
    release();
    const e1 = await crashing;
    const e2 = await queued;
    expect(e1.code).toBe('PROCESS_EXITED');
    expect(e1.details).toMatchObject({ reason: 'error', message: 'bad state' });
    expect((e1.cause as Error).message).toBe('bad state');
    expect(e2.code).toBe('PROCESS_EXITED');
    expect(node.isAlive(ref)).toBe(false);
    expect((await rejection(node.call(ref, { type: 'get' }))).code).toBe('NOPROC');
  });

  it('terminate runs with the exit reason and the last state', async () => {
    const seen: unknown[] = [];
    const b = defineBehavior({
      init: () => 41,
      handleCast: (_m: { type: 'crash' }, _s: number): number => {
        throw new Error('cast crash');
      },
      terminate: (exit, s: number) => void seen.push([exit.reason, exit.message, s]),
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const down = new Promise((resolve) => node.monitor(ref, resolve));
    node.cast(ref, { type: 'crash' });
    await down;
    expect(seen).toEqual([['error', 'cast crash', 41]]);
  });

  it('a handleCall returning something other than [reply, state] crashes with a clear message', async () => {
    const b: Behavior = { init: () => 0, handleCall: () => 42 as never };
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const e = await rejection(node.call(ref, { type: 'x' }));
    expect(e.code).toBe('PROCESS_EXITED');
    expect(e.message).toMatch(/expected \[reply, state\] or noReply\(state\)/);
  });

  it('an init that throws fails the spawn with INIT_FAILED and the cause', async () => {
    const b = defineBehavior({
      init: (): number => {
        throw new Error('no database');
      },
    });
    const node = await start();
    const e = await rejection(node.spawn(b, undefined));
    expect(e.code).toBe('INIT_FAILED');
    expect(e.message).toMatch(/no database/);
    expect(node.processCount()).toBe(0);
  });

  it('a crash does not disturb other processes', async () => {
    const node = await start();
    const a = await node.spawn(counter, 1);
    const b = await node.spawn(counter, 2);
    await rejection(node.call(a, { type: 'crash' }));
    expect(await node.call(b, { type: 'get' })).toBe(2);
  });
});

describe('genserver — stop', () => {
  it('stopProcess lets the current message finish, runs terminate, and fails the queued calls', async () => {
    const events: string[] = [];
    let release!: () => void;
    const b = defineBehavior({
      init: () => 0,
      handleCall: async (msg: { type: 'slow' } | { type: 'get' }, s: number) => {
        if (msg.type === 'slow') await new Promise<void>((r) => (release = r));
        events.push(msg.type);
        return [msg.type, s] as const;
      },
      terminate: (exit) => void events.push(`terminate ${exit.reason}`),
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const slow = node.call(ref, { type: 'slow' });
    const queued = rejection(node.call(ref, { type: 'get' }));
    await new Promise((r) => setImmediate(r));
    const stopped = node.stopProcess(ref, 'shutdown');
    release();
    expect(await slow).toBe('slow');
    await stopped;
    expect((await queued).code).toBe('PROCESS_EXITED');
    expect(events).toEqual(['slow', 'terminate shutdown']);
  });

  it('a process that does not stop within the timeout is killed', async () => {
    const clock = new ManualClock();
    const b = defineBehavior({ init: () => 0, terminate: () => new Promise<void>(() => {}) });
    const node = await start({ clock });
    const ref = await node.spawn(b, undefined);
    let down: unknown;
    node.monitor(ref, (d) => (down = d));
    const stopped = node.stopProcess(ref, 'shutdown', 1000);
    await clock.advance(1000);
    await stopped;
    expect(node.isAlive(ref)).toBe(false);
    expect(down).toMatchObject({ reason: 'shutdown', message: expect.stringMatching(/did not stop within 1000 ms/) });
  });

  it('ctx.stop ends the process after the current handler with the given reason', async () => {
    const b = defineBehavior({
      init: () => 0,
      handleCall: (_m: { type: 'quit' }, s: number, _f, ctx) => {
        ctx.stop('normal');
        return ['bye', s] as const;
      },
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    const down = new Promise<{ reason: string }>((resolve) => node.monitor(ref, resolve));
    expect(await node.call(ref, { type: 'quit' })).toBe('bye');
    expect((await down).reason).toBe('normal');
  });

  it('stopping a process that is gone rejects with NOPROC', async () => {
    const node = await start();
    const ref = await node.spawn(counter, 0);
    await node.stopProcess(ref);
    expect((await rejection(node.stopProcess(ref))).code).toBe('NOPROC');
  });

  it('sendAfter delivers to handleInfo on the clock and is cancelled when the process ends', async () => {
    const clock = new ManualClock();
    const got: unknown[] = [];
    const b = defineBehavior({
      init: (_: undefined, ctx) => {
        ctx.sendAfter('tick', 100);
        ctx.sendAfter('late', 10_000);
        return 0;
      },
      handleInfo: (m: unknown, s: number) => {
        got.push(m);
        return s;
      },
    });
    const node = await start({ clock });
    const nodeTimers = clock.pending(); // the node's own (membership) timers
    const ref = await node.spawn(b, undefined);
    await clock.advance(100);
    expect(got).toEqual(['tick']);
    await node.stopProcess(ref);
    expect(clock.pending()).toBe(nodeTimers);
  });
});

describe('genserver — names', () => {
  it('a process registered by name is reachable by it, and the name goes when it ends', async () => {
    const node = await start();
    const ref = await node.spawn(counter, 3, { name: 'c' });
    expect(node.whereis('c')).toEqual(ref);
    node.cast('c', { type: 'inc', by: 1 });
    expect(await node.call('c', { type: 'get' })).toBe(4);
    await node.stopProcess('c');
    expect(node.whereis('c')).toBeUndefined();
    expect((await rejection(node.call('c', { type: 'get' }))).code).toBe('NOPROC');
  });

  it('a taken name fails the spawn with NAME_TAKEN before init runs', async () => {
    let inits = 0;
    const b = defineBehavior({ init: () => ++inits });
    const node = await start();
    await node.spawn(b, undefined, { name: 'x' });
    const e = await rejection(node.spawn(b, undefined, { name: 'x' }));
    expect(e.code).toBe('NAME_TAKEN');
    expect(inits).toBe(1);
  });

  it('register, unregister and registered', async () => {
    const node = await start();
    const a = await node.spawn(counter, 0);
    const b = await node.spawn(counter, 0);
    node.register('a', a);
    expect(() => node.register('a', b)).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    expect(() => node.register('other', a)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(node.registered()).toEqual(['a']);
    expect(node.unregister('a')).toBe(true);
    expect(node.unregister('a')).toBe(false);
    expect(node.whereis('a')).toBeUndefined();
  });

  it('a pid of an earlier run of the same node id is refused with NOPROC', async () => {
    const first = await start({ name: 'same' });
    const old = await first.spawn(counter, 0);
    await first.stop();
    const port = Number(first.id.split(':').pop());
    const second = await start({ name: 'same', port });
    expect(second.id).toBe(first.id);
    expect(second.incarnation).not.toBe(first.incarnation);
    await second.spawn(counter, 0); // likely the same numeric id as `old`
    const e = await rejection(second.call(old, { type: 'get' }));
    expect(e.code).toBe('NOPROC');
    expect(e.message).toMatch(/earlier run/);
  });

  it('a pid of another node is reached by dialling its node, seeds or not', async () => {
    const a = await start({ name: 'a' });
    const b = await start({ name: 'b' });
    const ref = await b.spawn(counter, 0);
    expect(await a.call(ref, { type: 'get' })).toBe(0);
  });

  it('a pid of a node nobody answers for fails with NOCONNECTION', async () => {
    const a = await start({ name: 'a' });
    const b = await start({ name: 'b' });
    const ref = await b.spawn(counter, 0);
    await b.stop();
    expect((await rejection(a.call(ref, { type: 'get' }, { timeoutMs: 10_000 }))).code).toBe('NOCONNECTION');
  });
});

describe('genserver — sharing the event loop', () => {
  /**
   * Casts `count` messages to a process that counts them, then `late` more from a microtask that
   * runs after the process's first turn; returns how many it had handled when an immediate
   * scheduled after the first casts ran (and checks that it handles them all in the end).
   */
  async function handledBeforeImmediate(count: number, late = 0): Promise<number> {
    let handled = 0;
    const b = defineBehavior({
      init: () => 0,
      handleCast: (_m: { type: 'tick' }, s: number) => {
        handled++;
        return s;
      },
      handleCall: (_m: { type: 'count' }, s: number) => [handled, s] as const,
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    for (let i = 0; i < count; i++) node.cast(ref, { type: 'tick' });
    queueMicrotask(() => {
      for (let i = 0; i < late; i++) node.cast(ref, { type: 'tick' });
    });
    const seen = await new Promise<number>((resolve) => setImmediate(() => resolve(handled)));
    expect(await node.call(ref, { type: 'count' })).toBe(count + late);
    return seen;
  }

  it('a process with more than 256 messages waiting lets the event loop run after each 256, and handles them all', async () => {
    expect(await handledBeforeImmediate(600)).toBe(256);
    expect(await handledBeforeImmediate(257)).toBe(256);
  });

  it('a process that has handled 256 with nothing more waiting ends its turn: a message that comes next is handled at once', async () => {
    expect(await handledBeforeImmediate(256, 1)).toBe(257);
    expect(await handledBeforeImmediate(100, 1)).toBe(101);
  });
});

describe('genserver — throughput sanity', () => {
  it('10,000 casts then a call: every cast is applied, in order', async () => {
    const b = defineBehavior({
      init: () => [] as number[],
      handleCast: (m: { type: 'push'; v: number }, s: number[]) => {
        s.push(m.v);
        return s;
      },
      handleCall: (_m: { type: 'get' }, s: number[]) => [s, s] as const,
    });
    const node = await start();
    const ref = await node.spawn(b, undefined);
    for (let i = 0; i < 10_000; i++) node.cast(ref, { type: 'push', v: i });
    const got = await node.call(ref, { type: 'get' });
    expect(got.length).toBe(10_000);
    expect(got.every((v, i) => v === i)).toBe(true);
  });
});
