/**
 * Services and load balancing, on four nodes in one process: a `pricing` service exposed by
 * three nodes and called from the fourth through a balancer; a provider that starts failing trips
 * its circuit breaker and traffic moves; one provider drains and leaves without losing a call;
 * `retry` for an operation of your own.
 *
 * Run it with `npx tsx examples/services.ts`. On real machines each node is its own process with
 * its own host; the code is the same.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { CohortError, Node, retry, serviceRef, type Node as CohortNode } from '../src/index.js';

/** The service: plain functions; their types type every call made through a ref. */
function pricing(node: CohortNode, state: { failing: boolean }) {
  return {
    quote: async (sku: string, quantity: number) => {
      if (state.failing) throw Object.assign(new Error('the price feed is down'), { code: 'FEED_DOWN', retryable: true });
      await delay(5);
      return { sku, quantity, total: quantity * 9.5, by: node.id.split('@')[0]! };
    },
    currencies: () => ['EUR', 'USD'],
  };
}
type Pricing = ReturnType<typeof pricing>;
/** Callers that do not expose the service make a typed ref from its type alone. */
const pricingRef = serviceRef<Pricing>('pricing');

/** Polls `check` every 10 ms, at most 300 times. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await delay(10);
  assert.ok(check(), `timed out waiting until ${what}`);
}

const secret = 'use a long random secret in production';
const client = await Node.start({ name: 'shop', secret });
const providers = await Promise.all(['p1', 'p2', 'p3'].map((name) => Node.start({ name, secret, seeds: [client.id] })));
const states = providers.map(() => ({ failing: false }));

// Each provider exposes the service; every node sees every provider within milliseconds.
providers.forEach((p, i) =>
  p.rpc.expose('pricing', pricing(p, states[i]!), {
    meta: { zone: i === 0 ? 'eu' : 'us' },
    // Standard Schema validators of the argument lists: a bad call is answered BAD_REQUEST.
    schemas: { quote: z.tuple([z.string().min(1), z.number().int().positive()]) },
  }),
);
await until(() => client.rpc.providers(pricingRef).length === 3, 'every provider is visible');
console.log(`providers of pricing: ${client.rpc.providers(pricingRef).map((p) => `${p.node.split('@')[0]} (${p.meta.zone})`).join(', ')}`);

// A balancer picks a provider per call; the result is typed by the handlers.
const lb = client.balancer(pricingRef, { algorithm: 'least-connections', breaker: { failureThreshold: 3, cooldownMs: 30_000 } });
const quotes = await Promise.all(Array.from({ length: 9 }, (_, i) => lb.call('quote', [`sku-${i}`, 2])));
console.log(`9 quotes answered by: ${quotes.map((q) => q.by).join(' ')}`);

// One call to a chosen node, and one to any provider that passes a filter.
const direct = await client.rpc.call(providers[0]!.id, pricingRef, 'currencies', []);
const eu = await client.rpc.callAny(pricingRef, 'quote', ['sku-eu', 1], { filter: (p) => p.meta.zone === 'eu' });
console.log(`p1 takes ${direct.join(', ')}; the eu provider quoted ${eu.total}`);

// Bad arguments never reach the handler.
await assert.rejects(lb.call('quote', ['', 0]), (e: CohortError) => e.code === 'BAD_REQUEST');

// p2 starts failing with a retryable error: each failed call moves to another provider, and after
// three consecutive failures p2's breaker opens (calls already on their way to p2 fail over too),
// so the traffic stays on p1 and p3.
states[1]!.failing = true;
const during = await Promise.all(Array.from({ length: 30 }, (_, i) => lb.call('quote', [`sku-${i}`, 1])));
assert.ok(during.every((q) => q.by !== 'p2'));
const p2 = lb.stats().find((s) => s.node === providers[1]!.id)!;
console.log(`while p2 fails: 30 of 30 calls answered (by ${[...new Set(during.map((q) => q.by))].sort().join(', ')}); p2's breaker is ${p2.breaker} after ${p2.failures} failures`);

// Draining: p3 withdraws the service while calls are running. Every node stops choosing it first,
// then it finishes what it runs; calls that reach it late are refused as retryable and fail over.
const load = Promise.all(Array.from({ length: 40 }, (_, i) => lb.call('quote', [`sku-${i}`, 3])));
await delay(2);
await providers[2]!.rpc.unexpose('pricing');
const answered = await load;
console.log(`p3 drained and left: ${answered.length} of 40 calls answered, none lost; providers now: ${lb.nodes().map((n) => n.split('@')[0]).join(', ')}`);

// retry: the same backoff and jitter for an operation of your own.
let attempts = 0;
const value = await retry(
  async () => {
    if (++attempts < 3) throw new CohortError('UNAVAILABLE', 'not yet');
    return 'done';
  },
  { maxAttempts: 5, baseMs: 10, jitter: 'full' },
);
console.log(`retry: '${value}' after ${attempts} attempts`);

await Promise.all([client, ...providers].map((n) => n.stop()));
