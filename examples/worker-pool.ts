/**
 * A worker pool across three nodes in one process: workers are children of a distributed
 * supervisor, placed on a hash ring of the nodes by their id; a `jobs` service on every node hands
 * work to its local workers and is called through a balancer. When a node leaves, its workers run
 * again on the others and the calls go on.
 *
 * Run it with `npx tsx examples/worker-pool.ts`. On real machines each node is its own process with
 * its own host; the code is the same.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, defineBehavior, serviceRef } from '../src/index.js';

/** A worker counts the jobs it did. */
const worker = defineBehavior({
  init: (args: { id: string }) => ({ id: args.id, done: 0 }),
  handleCall: (msg: { type: 'work'; job: number }, s: { id: string; done: number }) => [`${s.id} did job ${msg.job}`, { ...s, done: s.done + 1 }] as const,
});

/** Polls `check` every 10 ms, at most 500 times. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await delay(10);
  assert.ok(check(), `timed out waiting until ${what}`);
}

const secret = 'use a long random secret in production';
const a = await Node.start({ name: 'a', secret });
const b = await Node.start({ name: 'b', secret, seeds: [a.id] });
const c = await Node.start({ name: 'c', secret, seeds: [a.id] });
const nodes = [a, b, c];
for (const node of nodes) node.behaviors.register('worker', worker);
await until(() => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === 3), 'the cluster formed');

// Every node takes part in the supervisor 'workers'; children go to the ring owner of their id.
const pools = await Promise.all(nodes.map((n) => n.distributedSupervisor('workers')));
await until(() => pools.every((p) => p.members().length === 3), 'every member sees the others');
for (let i = 0; i < 12; i++) await pools[0]!.startChild({ id: `worker:${i}`, behavior: 'worker', args: { id: `worker:${i}` } });
const where = (p: (typeof pools)[number]) => p.children().map((ch) => `${ch.id.split(':')[1]}@${ch.node?.split('@')[0]}`).join(' ');
console.log(`workers: ${where(pools[0]!)}`);

// A `jobs` service on each node gives a job to one of the workers that run there.
const jobs = serviceRef<{ run: (job: number) => Promise<string> }>('jobs');
nodes.forEach((node, i) => {
  const pool = pools[i]!;
  node.rpc.expose('jobs', {
    run: async (job: number) => {
      const local = pool.children().filter((ch) => ch.node === node.id);
      if (local.length === 0) throw Object.assign(new Error('no worker here'), { retryable: true });
      return pool.call<typeof worker>(local[job % local.length]!.id, { type: 'work', job });
    },
  });
});
await until(() => a.rpc.providers(jobs).length === 3, 'every jobs provider is visible');
const lb = a.balancer(jobs, { algorithm: 'least-connections' });
const first = await Promise.all(Array.from({ length: 6 }, (_, job) => lb.call('run', [job])));
console.log(first.join('; '));

// c leaves: its workers start again on a and b, and the jobs go on.
const moving = pools[0]!.children().filter((ch) => ch.node === c.id).length;
await c.stop();
await until(() => pools[0]!.children().every((ch) => ch.node !== undefined && ch.node !== c.id), 'c’s workers run elsewhere');
console.log(`c left; its ${moving} workers run on the others: ${where(pools[0]!)}`);
const after = await Promise.all(Array.from({ length: 6 }, (_, job) => lb.call('run', [job])));
assert.equal(after.length, 6);
console.log(`after: ${after.join('; ')}`);

await Promise.all([a, b].map((n) => n.stop()));
