/**
 * A counter GenServer: spawn it, cast to it, call it, stop the node.
 *
 * README.md quotes this file verbatim as its first example: keep the two in sync.
 * Run it with `npx tsx examples/counter.ts`.
 */
import assert from 'node:assert/strict';
import { Node, defineBehavior, isCohortError } from '../src/index.js';

// A behavior is a plain object. The parameter annotations give the ref its types.
const counter = defineBehavior({
  init: (start: number) => start,
  handleCall: (msg: { type: 'get' }, n: number) => [n, n] as const,
  handleCast: (msg: { type: 'inc'; by: number } | { type: 'reset' }, n: number) =>
    msg.type === 'inc' ? n + msg.by : 0,
});

const node = await Node.start({ name: 'example' });
const ref = await node.spawn(counter, 10, { name: 'counter' });

node.cast(ref, { type: 'inc', by: 5 }); // fire and forget
node.cast(ref, { type: 'inc', by: -2 });
const value = await node.call(ref, { type: 'get' }); // typed: number
console.log(`counter = ${value}`);
assert.equal(value, 13);

// A local name works wherever a ref does.
node.cast('counter', { type: 'reset' });
assert.equal(await node.call(ref, { type: 'get' }), 0);

// Every error a caller sees is a CohortError with a stable code.
await node.stopProcess(ref);
try {
  await node.call(ref, { type: 'get' });
  assert.fail('a call to a stopped process must fail');
} catch (error) {
  assert.ok(isCohortError(error));
  console.log(`call after stop -> ${error.code}`);
  assert.equal(error.code, 'NOPROC');
}

await node.stop();
