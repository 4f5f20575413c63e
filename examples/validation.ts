/**
 * Schemas: a behavior declares Standard Schema validators (here zod) for its args, calls and
 * casts. Input that fails them never reaches a handler: a call is answered with `BAD_REQUEST`
 * carrying the issues, a cast is dropped and reported, and the process keeps running with its
 * state intact.
 *
 * Run it with `npx tsx examples/validation.ts`.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { Node, isCohortError, type Behavior, type ValidationIssue } from '../src/index.js';

const Args = z.object({ owner: z.string().min(1), balance: z.number().int().nonnegative() });
const Call = z.discriminatedUnion('type', [
  z.object({ type: z.literal('balance') }),
  z.object({ type: z.literal('withdraw'), amount: z.number().int().positive() }),
]);
const Cast = z.object({ type: z.literal('deposit'), amount: z.number().int().positive() });

type State = z.infer<typeof Args>;

// With schemas, the message types come from the schemas.
const account: Behavior<State, State, z.infer<typeof Call>, number, z.infer<typeof Cast>> = {
  schemas: { args: Args, call: Call, cast: Cast },
  init: (args) => ({ ...args }),
  handleCall: (msg, s) => {
    if (msg.type === 'balance') return [s.balance, s];
    const balance = s.balance - Math.min(msg.amount, s.balance);
    return [balance, { ...s, balance }];
  },
  handleCast: (msg, s) => ({ ...s, balance: s.balance + msg.amount }),
};

/** Runs `work`, expects it to fail with a CohortError, and returns that error. */
async function failure(work: Promise<unknown>): Promise<{ code: string; message: string; issues: ValidationIssue[] }> {
  try {
    await work;
  } catch (error) {
    assert.ok(isCohortError(error), 'expected a CohortError');
    return { code: error.code, message: error.message, issues: (error.details?.issues ?? []) as ValidationIssue[] };
  }
  throw new assert.AssertionError({ message: 'expected the operation to fail' });
}

const showIssues = (issues: readonly ValidationIssue[]) =>
  issues.map((i) => `      - ${(i.path ?? []).join('.') || '(root)'}: ${i.message}`).join('\n');

const node = await Node.start({ name: 'validation' });

// 1. Bad args: the spawn fails, no process is left behind.
const badSpawn = await failure(node.spawn(account, { owner: '', balance: -5 }));
console.log(`spawn with bad args -> ${badSpawn.code}\n${showIssues(badSpawn.issues)}`);
assert.equal(badSpawn.code, 'BAD_REQUEST');
assert.deepEqual(badSpawn.issues.map((i) => i.path).sort(), [['balance'], ['owner']]);
assert.equal(node.processCount(), 0);

const ref = await node.spawn(account, { owner: 'ada', balance: 100 });
console.log(`spawned account of ada, balance ${await node.call(ref, { type: 'balance' })}`);

// 2. A bad call: answered with BAD_REQUEST and the issues. `as never` defeats the compile-time
// check, as a message from an untyped caller (or another node) would.
const badCall = await failure(node.call(ref, { type: 'withdraw', amount: 'all of it' } as never));
console.log(`call with a bad amount -> ${badCall.code}\n${showIssues(badCall.issues)}`);
assert.equal(badCall.code, 'BAD_REQUEST');
assert.deepEqual(badCall.issues[0]?.path, ['amount']);

const unknownCall = await failure(node.call(ref, { type: 'close' } as never));
console.log(`call of an unknown type -> ${unknownCall.code}\n${showIssues(unknownCall.issues)}`);
assert.equal(unknownCall.code, 'BAD_REQUEST');

// 3. A bad cast: never throws at the sender; it is dropped and reported as an event.
const dropped: string[] = [];
const off = node.on('messageDropped', (e) => dropped.push(`${e.kind}: ${e.why}`));
node.cast(ref, { type: 'deposit', amount: -1 } as never);
node.cast(ref, { type: 'deposit', amount: 20 });

// 4. The process kept running and its state is intact: 100 + 20, the bad inputs changed nothing.
const balance = await node.call(ref, { type: 'balance' });
off();
console.log(`dropped: ${dropped.join(' | ')}`);
console.log(`balance after all that: ${balance}; alive: ${node.isAlive(ref)}`);
assert.equal(dropped.length, 1);
assert.match(dropped[0]!, /^cast: .*failed validation/);
assert.equal(balance, 120);
assert.equal(node.isAlive(ref), true);
assert.equal(await node.call(ref, { type: 'withdraw', amount: 30 }), 90);

await node.stop();
