/**
 * RPC and balancers between nodes in one Node.js process over the memory transport (the real
 * codec on every message). Killed providers, breakers under real failures and draining across
 * real processes are in `test/services/rpc/rpc-process.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Node } from '../../../src/node.js';
import { CohortError } from '../../../src/core/errors.js';
import { serviceRef } from '../../../src/services/rpc/types.js';
import { MemoryNetwork } from '../../../src/transport/memory.js';
import { gated } from '../../transport/helpers.js';
import { eventually } from '../../helpers/eventually.js';
import { rejection, thrown } from '../../helpers/errors.js';

const SECRET = 'cohort rpc memory secret';
const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000, pushPullIntervalMs: 1_000 };

const started: Node[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

async function cluster(n: number): Promise<Node[]> {
  const network = new MemoryNetwork();
  const start = (name: string, seeds: string[]) =>
    Node.start({ name, secret: SECRET, seeds, membership: TIMINGS, discoveryIntervalMs: 500, transport: network.transport(), drainTimeoutMs: 2_000 }).then((node) => {
      started.push(node);
      return node;
    });
  const first = await start('r0', []);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => start(`r${i + 1}`, [first.id])));
  const nodes = [first, ...rest];
  await eventually(() => nodes.every((x) => x.members().filter((m) => m.status === 'alive').length === n), 10_000);
  return nodes;
}

function mathHandlers(node: string) {
  return {
    add: (a: number, b: number) => a + b,
    where: () => node,
    fail: (retryable: boolean) => {
      const e = new Error('the handler failed on purpose') as Error & { code: string; retryable: boolean };
      e.code = 'E_PURPOSE';
      e.retryable = retryable;
      throw e;
    },
    slow: async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return node;
    },
  };
}
type Math = ReturnType<typeof mathHandlers>;
const math = serviceRef<Math>('math');

describe('rpc (memory transport)', () => {
  it('expose — visible on every node with weight and meta; unexpose withdraws it everywhere', async () => {
    const [a, b, c] = await cluster(3);
    a!.rpc.expose('math', mathHandlers(a!.id), { weight: 3, meta: { zone: 'x' } });
    await eventually(() => [a!, b!, c!].every((n) => n.rpc.providers('math').length === 1), 500);
    expect(c!.rpc.providers(math)).toEqual([{ node: a!.id, service: 'math', weight: 3, meta: { zone: 'x' }, methods: ['add', 'fail', 'slow', 'where'] }]);
    expect(c!.rpc.services()).toEqual(['math']);
    expect(await a!.rpc.unexpose('math')).toBe(true);
    await eventually(() => [a!, b!, c!].every((n) => n.rpc.providers('math').length === 0), 500);
    expect(await a!.rpc.unexpose('math')).toBe(false);
  });

  it('call — the three outcomes: a result, REMOTE_ERROR with code and retryable, NOT_FOUND for an unknown service or method', async () => {
    const [a, b] = await cluster(2);
    a!.rpc.expose('math', mathHandlers(a!.id));
    await eventually(() => b!.rpc.providers(math).length === 1);
    const sum: number = await b!.rpc.call(a!.id, math, 'add', [1, 2]);
    expect(sum).toBe(3);
    const thrownError = await rejection(b!.rpc.call(a!.id, math, 'fail', [true]));
    expect(thrownError).toMatchObject({ code: 'REMOTE_ERROR', retryable: true, node: a!.id, details: { code: 'E_PURPOSE', name: 'Error', service: 'math', method: 'fail' } });
    expect((await rejection(b!.rpc.call(a!.id, math, 'fail', [false]))).retryable).toBe(false);
    expect(await rejection(b!.rpc.call(a!.id, 'nope', 'add', [1]))).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    const noMethod = await rejection(b!.rpc.call(a!.id, 'math', 'mul', [1, 2]));
    expect(noMethod.code).toBe('NOT_FOUND');
    expect(noMethod.message).toMatch(/no method 'mul'.*add, fail, slow, where/);
    // The same outcomes when the provider is this node.
    expect(await a!.rpc.call(a!.id, math, 'add', [2, 2])).toBe(4);
    expect((await rejection(a!.rpc.call(a!.id, math, 'fail', [true]))).code).toBe('REMOTE_ERROR');
  });

  it('call — TIMEOUT when the handler is slower than the limit; bad arguments are a coded error', async () => {
    const [a, b] = await cluster(2);
    a!.rpc.expose('math', mathHandlers(a!.id));
    await eventually(() => b!.rpc.providers(math).length === 1);
    expect(await rejection(b!.rpc.call(a!.id, math, 'slow', [300], { timeoutMs: 50 }))).toMatchObject({ code: 'TIMEOUT' });
    expect(thrown(() => b!.rpc.cast(a!.id, 'math', 'add', 'not an array' as never)).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(b!.rpc.call(a!.id, 'math', 'add', [1, 2], { timeoutMs: -1 }))).code).toBe('INVALID_OPTION');
  });

  it('call — one queued before the link is up and too large for the other node fails with FRAME_TOO_LARGE when the link comes up, not at its timeout', async () => {
    const network = new MemoryNetwork();
    // What a dials says nothing until released, so a's link to b is not up while a queues for it.
    const held = gated(network.transport(), 0);
    const a = await Node.start({ name: 'a', secret: SECRET, membership: TIMINGS, transport: held.transport });
    const b = await Node.start({ name: 'b', secret: SECRET, membership: TIMINGS, transport: network.transport(), maxFrameBytes: 64 * 1024 });
    started.push(a, b);
    b.rpc.expose('text', { length: (s: string) => s.length });
    const big = a.rpc.call(b.id, 'text', 'length', ['x'.repeat(100 * 1024)], { timeoutMs: 5_000 });
    const small = a.rpc.call(b.id, 'text', 'length', ['xyz']);
    await eventually(() => expect(held.held()).toBeGreaterThan(0));
    held.release();
    expect(await rejection(big)).toMatchObject({ code: 'FRAME_TOO_LARGE', message: expect.stringMatching(/maxFrameBytes of .*b.* \(65536\)/) });
    expect(await small).toBe(3);
  });

  it('schemas — arguments that fail a Standard Schema are answered BAD_REQUEST with the issues; the handler does not run', async () => {
    const [a, b] = await cluster(2);
    let ran = 0;
    a!.rpc.expose(
      'checked',
      { add: (x: number, y: number) => (ran++, x + y) },
      { schemas: { add: z.tuple([z.number(), z.number()]) } },
    );
    await eventually(() => b!.rpc.providers('checked').length === 1);
    expect(await b!.rpc.call(a!.id, 'checked', 'add', [1, 2])).toBe(3);
    const bad = await rejection(b!.rpc.call(a!.id, 'checked', 'add', [1, 'two']));
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.details?.issues).toEqual([expect.objectContaining({ path: [1] })]);
    expect(ran).toBe(1);
  });

  it('expose — bad input is a coded error that says what was expected', async () => {
    const [a] = await cluster(1);
    expect(thrown(() => a!.rpc.expose('', {})).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => a!.rpc.expose('x', { f: 1 } as never)).message).toMatch(/handler 'f' must be a function/);
    expect(thrown(() => a!.rpc.expose('x', { f: () => 1 }, { weight: -1 })).code).toBe('INVALID_OPTION');
    expect(thrown(() => a!.rpc.expose('x', { f: () => 1 }, { schemas: { g: z.tuple([]) } as never })).message).toMatch(/not one of its methods/);
    a!.rpc.expose('x', { f: () => 1 });
    expect(thrown(() => a!.rpc.expose('x', { f: () => 2 })).message).toMatch(/already exposed/);
  });

  it('callAny — a random provider that passes the filter; NO_PROVIDERS after the wait bound when none does', async () => {
    const [a, b, c] = await cluster(3);
    a!.rpc.expose('math', mathHandlers(a!.id));
    b!.rpc.expose('math', mathHandlers(b!.id));
    await eventually(() => c!.rpc.providers(math).length === 2);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(await c!.rpc.callAny(math, 'where', []));
    expect([...seen].sort()).toEqual([a!.id, b!.id].sort());
    for (let i = 0; i < 10; i++) expect(await c!.rpc.callAny(math, 'where', [], { filter: 'r1@' })).toBe(b!.id);
    const none = await rejection(c!.rpc.callAny(math, 'where', [], { filter: /^nobody/, waitForProvidersMs: 100 }));
    expect(none.code).toBe('NO_PROVIDERS');
    expect(await c!.rpc.castAny(math, 'add', [1, 1], { filter: (p) => p.node === a!.id })).toBe(a!.id);
  });

  it('callAny — waits for a provider that appears within the bound', async () => {
    const [a, b] = await cluster(2);
    const pending = b!.rpc.callAny(math, 'add', [20, 22], { waitForProvidersMs: 3_000 });
    setTimeout(() => a!.rpc.expose('math', mathHandlers(a!.id)), 100);
    expect(await pending).toBe(42);
  });
});

describe('balancer (memory transport)', () => {
  it('round-robin — calls go to each provider in turn; stats count them; in-flight is back to zero', async () => {
    const nodes = await cluster(4);
    const [client, ...providers] = nodes;
    for (const p of providers) p.rpc.expose('math', mathHandlers(p.id));
    await eventually(() => client!.rpc.providers(math).length === 3);
    const lb = client!.balancer(math, { algorithm: 'round-robin' });
    expect(lb.algorithm).toBe('round-robin');
    expect(lb.nodes()).toEqual(providers.map((p) => p.id).sort());
    const order: string[] = [];
    for (let i = 0; i < 6; i++) order.push(await lb.call('where', []));
    const sorted = providers.map((p) => p.id).sort();
    expect(order).toEqual([...sorted, ...sorted]);
    expect(lb.stats().map((s) => [s.calls, s.inFlight, s.failures, s.breaker])).toEqual([
      [2, 0, 0, 'closed'],
      [2, 0, 0, 'closed'],
      [2, 0, 0, 'closed'],
    ]);
    expect(lb.stats().every((s) => typeof s.latency.meanMs === 'number')).toBe(true);
  });

  it('failover — a retryable REMOTE_ERROR moves to another provider; a non-retryable one returns at once', async () => {
    const [client, a, b] = await cluster(3);
    let aCalls = 0;
    a!.rpc.expose('flaky', { op: () => (aCalls++, Promise.reject(Object.assign(new Error('busy'), { retryable: true }))) });
    b!.rpc.expose('flaky', { op: () => 'b' });
    await eventually(() => client!.rpc.providers('flaky').length === 2);
    const lb = client!.balancer('flaky', { algorithm: 'first' });
    expect(await lb.call('op', [])).toBe('b');
    expect(aCalls).toBe(1);
    const plain = client!.balancer(math, { algorithm: 'first' });
    a!.rpc.expose('math', mathHandlers(a!.id));
    b!.rpc.expose('math', mathHandlers(b!.id));
    await eventually(() => client!.rpc.providers('math').length === 2);
    const e = await rejection(plain.call('fail', [false]));
    expect(e.code).toBe('REMOTE_ERROR');
    expect(plain.stats().map((s) => s.calls)).toEqual([1, 0]);
  });

  it('failover — ALL_PROVIDERS_FAILED lists every attempt; MAX_ATTEMPTS_EXCEEDED when attempts run out first', async () => {
    const nodes = await cluster(4);
    const [client, ...providers] = nodes;
    for (const p of providers) p.rpc.expose('math', mathHandlers(p.id));
    await eventually(() => client!.rpc.providers(math).length === 3);
    const all = await rejection(client!.balancer(math, { breaker: false }).call('fail', [true]));
    expect(all.code).toBe('ALL_PROVIDERS_FAILED');
    expect((all.details?.attempts as { node: string; code: string }[]).map((x) => [x.node, x.code])).toEqual(
      providers.map((p) => p.id).sort().map((id) => [id, 'REMOTE_ERROR']),
    );
    const capped = await rejection(client!.balancer(math, { breaker: false, maxAttempts: 2 }).call('fail', [true]));
    expect(capped.code).toBe('MAX_ATTEMPTS_EXCEEDED');
    expect(capped.details?.attempts).toHaveLength(2);
  });

  it('breaker — consecutive retryable failures open a provider’s breaker and traffic stays on the others', async () => {
    const [client, a, b] = await cluster(3);
    let failing = true;
    a!.rpc.expose('svc', { op: () => (failing ? Promise.reject(Object.assign(new Error('down'), { retryable: true })) : 'a') });
    b!.rpc.expose('svc', { op: () => 'b' });
    await eventually(() => client!.rpc.providers('svc').length === 2);
    const lb = client!.balancer('svc', { algorithm: 'round-robin', breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    for (let i = 0; i < 10; i++) expect(await lb.call('op', [])).toBe('b');
    const stats = Object.fromEntries(lb.stats().map((s) => [s.node, s]));
    expect(stats[a!.id]).toMatchObject({ breaker: 'open', failures: 2, calls: 2 });
    expect(stats[b!.id]!.calls).toBe(10);
    failing = false;
    // Open: no traffic to `a` until the cool-down ends.
    for (let i = 0; i < 4; i++) expect(await lb.call('op', [])).toBe('b');
  });

  it('filter — a RegExp, a substring and a predicate; an invalid filter or algorithm is INVALID_OPTION', async () => {
    const [client, a, b] = await cluster(3);
    a!.rpc.expose('math', mathHandlers(a!.id));
    b!.rpc.expose('math', mathHandlers(b!.id));
    await eventually(() => client!.rpc.providers(math).length === 2);
    expect(client!.balancer(math, { filter: /^r2@/ }).nodes()).toEqual([b!.id]);
    expect(client!.balancer(math, { filter: 'r1@' }).nodes()).toEqual([a!.id]);
    expect(client!.balancer(math, { filter: (p) => p.node !== a!.id }).nodes()).toEqual([b!.id]);
    expect(await client!.balancer(math, { filter: /^r2@/g }).call('where', [])).toBe(b!.id);
    expect(thrown(() => client!.balancer(math, { filter: 42 as never })).code).toBe('INVALID_OPTION');
    const unknown = thrown(() => client!.balancer(math, { algorithm: 'fastest' }));
    expect(unknown.code).toBe('INVALID_OPTION');
    expect(unknown.message).toMatch(/round-robin/);
  });

  it('algorithms — a custom algorithm by value and registered by name', async () => {
    const [client, a, b] = await cluster(3);
    a!.rpc.expose('math', mathHandlers(a!.id));
    b!.rpc.expose('math', mathHandlers(b!.id));
    await eventually(() => client!.rpc.providers(math).length === 2);
    const last = { name: 'last', select: (cs: readonly { node: string }[]) => cs[cs.length - 1] } as never;
    expect(await client!.balancer(math, { algorithm: last }).call('where', [])).toBe([a!.id, b!.id].sort()[1]);
    client!.algorithms.register('last', () => last);
    expect(await client!.balancer(math, { algorithm: 'last' }).call('where', [])).toBe([a!.id, b!.id].sort()[1]);
  });

  it('hash-ring — the same key goes to the same provider', async () => {
    const nodes = await cluster(4);
    const [client, ...providers] = nodes;
    for (const p of providers) p.rpc.expose('math', mathHandlers(p.id));
    await eventually(() => client!.rpc.providers(math).length === 3);
    const lb = client!.balancer(math, { algorithm: 'hash-ring' });
    const owners = new Map<string, string>();
    for (let k = 0; k < 30; k++) owners.set(`user:${k}`, await lb.call('where', [], { key: `user:${k}` }));
    for (const [key, owner] of owners) expect(await lb.call('where', [], { key })).toBe(owner);
    expect(new Set(owners.values()).size).toBeGreaterThan(1);
  });

  it('NOT_FOUND at once for a method no provider has; NO_PROVIDERS after the bound for a service nobody provides', async () => {
    const [client, a] = await cluster(2);
    a!.rpc.expose('math', mathHandlers(a!.id));
    await eventually(() => client!.rpc.providers(math).length === 1);
    expect((await rejection(client!.balancer('math').call('mul', [1, 2]))).code).toBe('NOT_FOUND');
    const started = Date.now();
    const none = await rejection(client!.balancer('nothing', { waitForProvidersMs: 200 }).call('x', []));
    expect(none.code).toBe('NO_PROVIDERS');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('draining — unexpose waits for running calls; calls that arrive meanwhile fail over; none is lost', async () => {
    const [client, a, b] = await cluster(3);
    a!.rpc.expose('math', mathHandlers(a!.id));
    b!.rpc.expose('math', mathHandlers(b!.id));
    await eventually(() => client!.rpc.providers(math).length === 2);
    const lb = client!.balancer(math, { algorithm: 'round-robin' });
    const calls = Array.from({ length: 20 }, () => lb.call('slow', [150]));
    await eventually(() => a!.rpc.running('math') > 0);
    const drained = a!.rpc.unexpose('math');
    // Withdrawn at once from the client's table, while `a` still runs its calls.
    await eventually(() => client!.rpc.providers(math).length === 1, 500);
    expect(a!.rpc.running('math')).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) calls.push(lb.call('slow', [10]));
    await drained;
    expect(a!.rpc.running('math')).toBe(0);
    const results = await Promise.all(calls);
    expect(results).toHaveLength(30);
    expect(results.slice(20).every((r) => r === b!.id)).toBe(true);
    // A late call to the withdrawn provider is UNAVAILABLE (retryable), not NOT_FOUND.
    const late = await rejection(client!.rpc.call(a!.id, math, 'add', [1, 1]));
    expect(late).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(late).toBeInstanceOf(CohortError);
  });
});
