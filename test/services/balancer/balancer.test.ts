/**
 * The balancer on its own: a fake host whose calls the test settles by hand, on the manual clock.
 * Failover order, the error that ends a failed call, exact in-flight counts, the bounded wait for
 * providers and the breaker's half-open probe as a balancer drives it.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../../src/core/clock.js';
import { CohortError } from '../../../src/core/errors.js';
import { AlgorithmRegistry } from '../../../src/services/balancer/algorithms/index.js';
import { Balancer, type BalancerHost, type BalancerOptions } from '../../../src/services/balancer/balancer.js';
import type { ProviderInfo } from '../../../src/services/rpc/types.js';
import { rejection, thrown } from '../../helpers/errors.js';
import { mulberry32 } from '../../helpers/prng.js';

interface Call {
  readonly node: string;
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** A host with providers the test sets, whose calls wait in `calls` until the test settles them. */
function fakeHost(nodes: readonly string[], weights: Record<string, number> = {}) {
  const clock = new ManualClock();
  const calls: Call[] = [];
  let providers: ProviderInfo[] = [];
  const set = (ids: readonly string[]) => {
    providers = [...ids].sort().map((node) => ({ node, service: 'svc', weight: weights[node] ?? 1, meta: {}, methods: ['op'] }));
  };
  set(nodes);
  const host: BalancerHost = {
    self: 'local@127.0.0.1:1',
    clock,
    random: mulberry32(7),
    algorithms: new AlgorithmRegistry(),
    providers: () => providers,
    call: (node, _service, method) => new Promise((resolve, reject) => calls.push({ node, method, resolve, reject })),
    cast: () => true,
  };
  return { host, clock, calls, setProviders: set };
}

const retryable = (code = 'TIMEOUT') => new CohortError(code, `${code} on purpose`);

async function settleNext(calls: Call[], how: (c: Call) => void): Promise<Call> {
  await flushMicrotasks();
  const call = calls.shift();
  if (call === undefined) throw new Error('no call is waiting');
  how(call);
  await flushMicrotasks();
  return call;
}

function balancer(host: BalancerHost, options: BalancerOptions = {}): Balancer {
  return new Balancer(host, 'svc', options);
}

describe('balancer — failover', () => {
  it('balancer — a retryable failure moves the call to a provider not tried yet; the result returns', async () => {
    const { host, calls } = fakeHost(['a', 'b', 'c']);
    const lb = balancer(host, { algorithm: 'first' });
    const result = lb.call('op', []);
    expect((await settleNext(calls, (c) => c.reject(retryable('NOCONNECTION')))).node).toBe('a');
    expect((await settleNext(calls, (c) => c.reject(retryable('TIMEOUT')))).node).toBe('b');
    expect((await settleNext(calls, (c) => c.resolve('from c'))).node).toBe('c');
    expect(await result).toBe('from c');
  });

  it('balancer — ALL_PROVIDERS_FAILED when every provider failed (before MAX_ATTEMPTS_EXCEEDED), listing the attempts', async () => {
    const { host, calls } = fakeHost(['a', 'b', 'c']);
    const result = rejection(balancer(host, { algorithm: 'round-robin', maxAttempts: 3 }).call('op', []));
    for (let i = 0; i < 3; i++) await settleNext(calls, (c) => c.reject(retryable('UNAVAILABLE')));
    const e = await result;
    expect(e.code).toBe('ALL_PROVIDERS_FAILED');
    expect(e.details?.attempts).toEqual(['a', 'b', 'c'].map((node) => ({ node, code: 'UNAVAILABLE', message: 'UNAVAILABLE on purpose' })));
  });

  it('balancer — MAX_ATTEMPTS_EXCEEDED when attempts run out with providers left; the default is min(3, providers)', async () => {
    const { host, calls } = fakeHost(['a', 'b', 'c', 'd', 'e']);
    const result = rejection(balancer(host).call('op', []));
    for (let i = 0; i < 3; i++) await settleNext(calls, (c) => c.reject(retryable()));
    const e = await result;
    expect(e.code).toBe('MAX_ATTEMPTS_EXCEEDED');
    expect(e.details?.attempts).toHaveLength(3);
    expect(calls).toHaveLength(0);
  });

  it('balancer — a non-retryable error returns at once, after one attempt', async () => {
    const { host, calls } = fakeHost(['a', 'b']);
    const result = rejection(balancer(host).call('op', []));
    await settleNext(calls, (c) => c.reject(new CohortError('BAD_REQUEST', 'no')));
    expect((await result).code).toBe('BAD_REQUEST');
    await flushMicrotasks();
    expect(calls).toHaveLength(0);
  });

  it('balancer — in-flight counts are exact through replies, failures and timeouts', async () => {
    const { host, calls } = fakeHost(['a', 'b']);
    const lb = balancer(host, { algorithm: 'round-robin', breaker: false });
    const results = Array.from({ length: 6 }, () => lb.call('op', []).catch((e: unknown) => e));
    await flushMicrotasks();
    expect(lb.stats().map((s) => [s.node, s.inFlight])).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    // One reply, one non-retryable error, one timeout that fails over to the other provider.
    await settleNext(calls, (c) => c.resolve(1));
    await settleNext(calls, (c) => c.reject(new CohortError('BAD_REQUEST', 'bad')));
    await settleNext(calls, (c) => c.reject(retryable('TIMEOUT')));
    expect(lb.stats().map((s) => [s.node, s.inFlight])).toEqual([
      ['a', 1],
      ['b', 3],
    ]);
    while (calls.length > 0) await settleNext(calls, (c) => c.resolve(2));
    await Promise.all(results);
    expect(lb.stats().map((s) => [s.node, s.inFlight, s.calls, s.failures])).toEqual([
      ['a', 0, 3, 1],
      ['b', 0, 4, 0],
    ]);
  });

  it('balancer — provider weights come from expose, overridden by the weights option (smooth WRR: a a b a c a a)', async () => {
    const { host, calls } = fakeHost(['a', 'b', 'c'], { a: 1, b: 1, c: 1 });
    const lb = balancer(host, { algorithm: 'weighted-round-robin', weights: { a: 5 } });
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      const p = lb.call('op', []);
      order.push((await settleNext(calls, (c) => c.resolve(null))).node);
      await p;
    }
    expect(order).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });
});

describe('balancer — no providers', () => {
  it('balancer — waits with backoff while there is none, and calls the first that appears', async () => {
    const { host, clock, calls, setProviders } = fakeHost([]);
    const result = balancer(host, { waitForProvidersMs: 2_000 }).call('op', []);
    await clock.advance(700);
    expect(calls).toHaveLength(0);
    setProviders(['late']);
    await clock.advance(600);
    expect((await settleNext(calls, (c) => c.resolve('ok'))).node).toBe('late');
    expect(await result).toBe('ok');
  });

  it('balancer — NO_PROVIDERS once the wait bound has passed, not before', async () => {
    const { host, clock } = fakeHost([]);
    let settled = false;
    const result = rejection(balancer(host, { waitForProvidersMs: 1_000 }).call('op', [])).finally(() => (settled = true));
    await clock.advance(990);
    expect(settled).toBe(false);
    await clock.advance(20);
    const e = await result;
    expect(e.code).toBe('NO_PROVIDERS');
    expect(e.details).toMatchObject({ service: 'svc', waitedMs: 1_000 });
  });

  it('balancer — NOT_FOUND at once when providers exist but none has the method', async () => {
    const { host } = fakeHost(['a']);
    const e = await rejection(balancer(host).call('nope', []));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/it has op/);
  });
});

describe('balancer — circuit breakers', () => {
  it('balancer — consecutive failures open a breaker (CIRCUIT_OPEN), one half-open probe after the cool-down, its success closes it', async () => {
    const { host, clock, calls } = fakeHost(['a']);
    const lb = balancer(host, { breaker: { failureThreshold: 2, cooldownMs: 1_000 } });
    for (let i = 0; i < 2; i++) {
      const r = rejection(lb.call('op', []));
      await settleNext(calls, (c) => c.reject(retryable()));
      expect((await r).code).toBe('ALL_PROVIDERS_FAILED');
    }
    expect(lb.stats()[0]!.breaker).toBe('open');
    expect((await rejection(lb.call('op', []))).code).toBe('CIRCUIT_OPEN');
    await clock.advance(1_000);
    expect(lb.stats()[0]!.breaker).toBe('half-open');
    const probe = lb.call('op', []);
    await flushMicrotasks();
    expect(calls).toHaveLength(1);
    // While the probe is out, the breaker lets nothing else through.
    expect((await rejection(lb.call('op', []))).code).toBe('CIRCUIT_OPEN');
    await settleNext(calls, (c) => c.resolve('probe ok'));
    expect(await probe).toBe('probe ok');
    expect(lb.stats()[0]!.breaker).toBe('closed');
  });

  it('balancer — an open breaker moves traffic to the other providers; a non-retryable error does not count against it', async () => {
    const { host, calls } = fakeHost(['a', 'b']);
    const lb = balancer(host, { algorithm: 'first', breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    const first = lb.call('op', []);
    await settleNext(calls, (c) => c.reject(retryable()));
    await settleNext(calls, (c) => c.resolve('b'));
    expect(await first).toBe('b');
    for (let i = 0; i < 3; i++) {
      const p = rejection(lb.call('op', []));
      expect((await settleNext(calls, (c) => c.reject(new CohortError('REMOTE_ERROR', 'app error')))).node).toBe('b');
      expect((await p).code).toBe('REMOTE_ERROR');
    }
    expect(lb.stats().map((s) => [s.node, s.breaker])).toEqual([
      ['a', 'open'],
      ['b', 'closed'],
    ]);
  });
});

describe('balancer — options', () => {
  it('balancer — invalid options are INVALID_OPTION saying what was expected', () => {
    const { host } = fakeHost(['a']);
    expect(thrown(() => balancer(host, { maxAttempts: 0 })).message).toMatch(/maxAttempts must be an integer >= 1/);
    expect(thrown(() => balancer(host, { timeoutMs: -5 })).message).toMatch(/timeoutMs must be a finite number > 0/);
    expect(thrown(() => balancer(host, { waitForProvidersMs: Number.NaN })).code).toBe('INVALID_OPTION');
    expect(thrown(() => balancer(host, { weights: { a: -1 } })).message).toMatch(/weight of a/);
    expect(thrown(() => balancer(host, { breaker: { failureThreshold: 0 } })).code).toBe('INVALID_OPTION');
    expect(thrown(() => balancer(host, { algorithm: 'nope' })).code).toBe('INVALID_OPTION');
  });
});
