/**
 * Type tests: a wrong message to a typed ref must not compile. Each `@ts-expect-error` fails the
 * type check if the line below it compiles.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  CohortError,
  defineBehavior,
  noReply,
  type Behavior,
  type CallOf,
  type CastOf,
  type ExitReason,
  type Node,
  type Pid,
  type ProcessRef,
  type ReplyOf,
  type Supervisor,
  type ServiceRef,
  serviceRef,
} from '../../src/index.js';

type CounterCall = { type: 'get' } | { type: 'reset'; to: number };
type CounterCast = { type: 'inc'; by: number };

const counter = defineBehavior({
  init: (start: number) => start,
  handleCall: (msg: CounterCall, n: number) => (msg.type === 'get' ? ([n, n] as const) : ([n, msg.to] as const)),
  handleCast: (msg: CounterCast, n: number) => n + msg.by,
});

const explicit: Behavior<{ user: string }, string[], { type: 'list' }, string[], { type: 'add'; item: string }> = {
  init: () => [],
  handleCall: (_msg, s) => [s, s],
  handleCast: (msg, s) => [...s, msg.item],
};

declare const node: Node;

describe('types — behaviors and refs', () => {
  it('defineBehavior infers calls, casts, replies and args', () => {
    expectTypeOf<CallOf<typeof counter>>().toEqualTypeOf<CounterCall>();
    expectTypeOf<CastOf<typeof counter>>().toEqualTypeOf<CounterCast>();
    expectTypeOf<ReplyOf<typeof counter>>().toEqualTypeOf<number>();
  });

  it('spawn returns a ref typed by the behavior and checks args', async () => {
    const ref = await node.spawn(counter, 0);
    expectTypeOf(ref).toEqualTypeOf<ProcessRef<typeof counter>>();
    expectTypeOf(ref).toMatchTypeOf<Pid>();
    // @ts-expect-error args must be a number
    await node.spawn(counter, 'zero');
    const list = await node.spawn(explicit, { user: 'ann' });
    // @ts-expect-error args must have `user`
    await node.spawn(explicit, {});
    expectTypeOf(await node.call(list, { type: 'list' })).toEqualTypeOf<string[]>();
  });

  it('call accepts only the calls the behavior handles and returns its reply type', async () => {
    const ref = await node.spawn(counter, 0);
    expectTypeOf(await node.call(ref, { type: 'get' })).toEqualTypeOf<number>();
    await node.call(ref, { type: 'reset', to: 3 });
    // @ts-expect-error unknown message type
    await node.call(ref, { type: 'nope' });
    // @ts-expect-error missing field of a known message
    await node.call(ref, { type: 'reset' });
    // @ts-expect-error a cast is not a call
    await node.call(ref, { type: 'inc', by: 1 });
  });

  it('cast accepts only the casts the behavior handles', async () => {
    const ref = await node.spawn(counter, 0);
    node.cast(ref, { type: 'inc', by: 1 });
    // @ts-expect-error wrong field type
    node.cast(ref, { type: 'inc', by: '1' });
    // @ts-expect-error a call is not a cast
    node.cast(ref, { type: 'get' });
  });

  it('a name or an untyped pid accepts any message and returns unknown', async () => {
    expectTypeOf(await node.call('counter', { type: 'anything' })).toEqualTypeOf<unknown>();
    const pid = {} as Pid;
    expectTypeOf(await node.call(pid, { type: 'anything' })).toEqualTypeOf<unknown>();
  });

  it('a handler must return [reply, state] of the declared types or noReply', () => {
    defineBehavior({
      init: () => 0,
      handleCall: (_m: { type: 'x' }, s: number) => noReply(s),
    });
    const bad: Behavior<number, number, { type: 'x' }, string> = {
      init: (n) => n,
      // @ts-expect-error the reply must be a string
      handleCall: (_m, s) => [s, s],
    };
    void bad;
  });
});

describe('types — monitors, supervisors, errors', () => {
  it('monitor callbacks receive a typed down event', async () => {
    const ref = await node.spawn(counter, 0);
    node.monitor(ref, (down) => {
      expectTypeOf(down.reason).toEqualTypeOf<ExitReason>();
      expectTypeOf(down.pid).toEqualTypeOf<Pid>();
    });
  });

  it('supervise takes child specs and returns a Supervisor', async () => {
    const sup = await node.supervise({
      strategy: 'one_for_all',
      children: [{ id: 'c', behavior: counter, args: 1, restart: 'transient' }],
    });
    expectTypeOf(sup).toEqualTypeOf<Supervisor>();
    expectTypeOf(sup.children()).toEqualTypeOf<{ readonly id: string; readonly ref: Pid | undefined }[]>();
    // @ts-expect-error unknown strategy
    await node.supervise({ strategy: 'one_for_some', children: [] });
    // @ts-expect-error unknown restart type
    await node.supervise({ children: [{ id: 'c', behavior: counter, restart: 'sometimes' }] });
  });

  it('errors carry a code', () => {
    const e = new CohortError('TIMEOUT', 'late');
    expectTypeOf(e.code).toEqualTypeOf<string>();
    expectTypeOf(e.retryable).toEqualTypeOf<boolean>();
  });

  it('node events are typed', () => {
    node.on('nodeDown', (e) => expectTypeOf(e.reason).toEqualTypeOf<'left' | 'failed'>());
    // @ts-expect-error unknown event
    node.on('nodeSideways', () => {});
  });
});

const mathHandlers = {
  add: (a: number, b: number) => a + b,
  greet: async (name: string) => `hello ${name}`,
};

describe('types — services', () => {
  it('a ServiceRef types rpc calls and balancer calls by the handler object', async () => {
    const exposed = node.rpc.expose('math', mathHandlers);
    expectTypeOf(exposed).toEqualTypeOf<ServiceRef<typeof mathHandlers>>();
    const math = serviceRef<typeof mathHandlers>('math');
    expectTypeOf(await node.rpc.call('n@127.0.0.1:1', math, 'add', [1, 2])).toEqualTypeOf<number>();
    expectTypeOf(await node.rpc.callAny(math, 'greet', ['ada'])).toEqualTypeOf<string>();
    const lb = node.balancer(math, { algorithm: 'power-of-two', filter: /^worker/ });
    expectTypeOf(await lb.call('add', [1, 2], { key: 'user:42' })).toEqualTypeOf<number>();
    expectTypeOf(await lb.call('greet', ['ada'])).toEqualTypeOf<string>();
    // @ts-expect-error unknown method
    await lb.call('mul', [1, 2]);
    // @ts-expect-error wrong argument type
    await lb.call('add', [1, '2']);
    // @ts-expect-error missing argument
    await node.rpc.call('n@127.0.0.1:1', math, 'add', [1]);
    // @ts-expect-error unknown method through rpc.call
    await node.rpc.call('n@127.0.0.1:1', math, 'sub', [1, 2]);
    // A service named by a string is typed loosely.
    expectTypeOf(await node.rpc.call('n@127.0.0.1:1', 'math', 'add', [1, 2])).toEqualTypeOf<unknown>();
  });

  it('expose checks schemas against the methods and options', () => {
    // @ts-expect-error weight must be a number
    node.rpc.expose('math', mathHandlers, { weight: 'heavy' });
    // @ts-expect-error a balancer filter is a string, a RegExp or a predicate
    node.balancer('math', { filter: 42 });
  });
});

describe('types — by name and across the cluster', () => {
  it('spawn by registered name is typed when the behavior type is named, loose otherwise', async () => {
    const typed = await node.spawn<typeof counter>('counter', 0, { on: 'n@127.0.0.1:1' });
    expectTypeOf(typed).toEqualTypeOf<ProcessRef<typeof counter>>();
    expectTypeOf(await node.call(typed, { type: 'get' })).toEqualTypeOf<number>();
    // @ts-expect-error wrong args for the named behavior
    await node.spawn<typeof counter>('counter', 'zero');
    expectTypeOf(await node.spawn('counter', 'anything')).toEqualTypeOf<ProcessRef>();
  });

  it('a distributed supervisor types whereis, call and cast by the named behavior', async () => {
    const sessions = await node.distributedSupervisor('sessions');
    expectTypeOf(sessions.whereis<typeof counter>('user:1')).toEqualTypeOf<ProcessRef<typeof counter> | undefined>();
    expectTypeOf(await sessions.call<typeof counter>('user:1', { type: 'reset', to: 2 })).toEqualTypeOf<number>();
    // @ts-expect-error not a call of the counter
    await sessions.call<typeof counter>('user:1', { type: 'inc', by: 1 });
    expectTypeOf(sessions.cast<typeof counter>('user:1', { type: 'inc', by: 1 })).toEqualTypeOf<boolean>();
    // @ts-expect-error not a cast of the counter
    sessions.cast<typeof counter>('user:1', { type: 'get' });
    // Without a named behavior: any message, an unknown reply.
    expectTypeOf(await sessions.call('user:1', { anything: true })).toEqualTypeOf<unknown>();
  });
});
