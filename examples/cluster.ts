/**
 * A cluster of three nodes in one process: they join through a seed, authenticate with a shared
 * secret, encrypt their links, and see one of them leave.
 *
 * Run it with `npx tsx examples/cluster.ts`. On real machines each node is its own process with
 * its own host; the code is the same.
 */
import assert from 'node:assert/strict';
import { Node } from '../src/index.js';

const secret = 'use a long random secret in production';

const seed = await Node.start({ name: 'seed', secret });
const a = await Node.start({ name: 'a', secret, seeds: [seed.id], meta: { role: 'worker' } });
const b = await Node.start({ name: 'b', secret, seeds: [seed.id], meta: { role: 'worker' } });

// Wait until every node sees all three alive (membership spreads by gossip).
const allAlive = (n: Node) => n.members().filter((m) => m.status === 'alive').length === 3;
for (let i = 0; i < 200 && ![seed, a, b].every(allAlive); i++) await new Promise((r) => setTimeout(r, 25));
assert.ok([seed, a, b].every(allAlive), 'the cluster formed');

for (const m of seed.members()) console.log(`${m.id.padEnd(24)} ${m.status.padEnd(6)} ${JSON.stringify(m.meta)}`);

// A graceful stop is a leave: the others see it at once, with reason 'left'.
const seen = new Promise<{ node: string; reason: string }>((resolve) => seed.once('nodeDown', resolve));
await b.stop();
const down = await seen;
console.log(`nodeDown ${down.node} (${down.reason})`);
assert.equal(down.node, b.id);
assert.equal(down.reason, 'left');

await a.stop();
await seed.stop();
