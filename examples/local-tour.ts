/**
 * `npm run demo`: a tour of a local supervised process tree, in about a second.
 *
 * It starts a node and a one_for_one supervisor with two workers, drives some calls, crashes a
 * worker on purpose and watches the supervisor restart it (new pid, fresh state) while a monitor
 * reports the crash, lets a flaky worker fail on its own, adds children to a dynamic supervisor,
 * and stops the node. It never reads stdin and exits by itself.
 *
 * Colour is used on a terminal unless NO_COLOR is set.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, defineBehavior, formatPid, isCohortError, samePid, type Pid, type ProcessRef } from '../src/index.js';

// --- output helpers --------------------------------------------------------------------------

const colour = process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '';
const paint = (code: number) => (text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint(1);
const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);
const cyan = paint(36);

const started = performance.now();
let step = 0;
const section = (title: string) => console.log(`\n${bold(`${++step}. ${title}`)}`);
const say = (text: string) => console.log(`   ${text}`);
/** Pids are long (`<node#incarnation.n>`); inside one node the number is enough to tell them apart. */
const pid = (p: Pid | undefined) => (p === undefined ? dim('(not running)') : cyan(`<${p.id}>`));

/** Waits until `check` holds: restarts happen asynchronously, just after the crash is reported. */
async function eventually(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await delay(2);
  }
}

// --- behaviors -------------------------------------------------------------------------------

/** A counter: casts change it, calls read it, and `crash` makes it throw. */
const counter = defineBehavior({
  init: (start: number) => start,
  handleCall: (msg: { type: 'get' } | { type: 'crash' }, n: number) => {
    if (msg.type === 'crash') throw new Error('crashed on purpose');
    return [n, n] as const;
  },
  handleCast: (msg: { type: 'inc'; by: number }, n: number) => n + msg.by,
});

/** A worker whose every `failEvery`-th job throws, like a flaky network connection. */
const flaky = defineBehavior({
  init: (failEvery: number) => ({ failEvery, done: 0 }),
  handleCall: (msg: { type: 'job'; id: number }, s: { failEvery: number; done: number }) => {
    if ((s.done + 1) % s.failEvery === 0) throw new Error(`connection reset during job ${msg.id}`);
    return [`job ${msg.id} ok`, { ...s, done: s.done + 1 }] as const;
  },
});

/** A session of a user, started on demand under the dynamic supervisor. */
const session = defineBehavior({
  init: (user: string) => ({ user, since: Date.now() }),
  handleCall: (_msg: { type: 'whoami' }, s: { user: string; since: number }) => [s.user, s] as const,
});

// --- the tour --------------------------------------------------------------------------------

section('Start a node');
const node = await Node.start({ name: 'demo' });
say(`node ${bold(node.id)} is up (listening for other nodes; this tour stays on one)`);

section('Start a supervisor (one_for_one) with two workers');
const sup = await node.supervise({
  strategy: 'one_for_one',
  maxRestarts: 3,
  withinMs: 5_000,
  children: [
    { id: 'counter', behavior: counter, args: 0 },
    { id: 'flaky', behavior: flaky, args: 3 },
  ],
});
const printTree = () => {
  say(`supervisor ${pid(sup.ref)} ${dim('one_for_one, at most 3 restarts in 5 s')}`);
  const kids = sup.children();
  kids.forEach((c, i) => say(`${i === kids.length - 1 ? '└─' : '├─'} ${c.id.padEnd(8)} ${pid(c.ref)}`));
};
printTree();
say(dim(`(a pid in full reads ${formatPid(sup.ref)})`));

// Children are found by id; `whereis` returns a plain pid, so give it the counter's types.
const counterRef = () => sup.whereis('counter') as ProcessRef<typeof counter>;

section('Drive some calls');
for (const by of [1, 2, 3]) node.cast(counterRef(), { type: 'inc', by });
const total = await node.call(counterRef(), { type: 'get' });
say(`cast inc 1, 2, 3 to counter, then call get -> ${green(String(total))}`);
assert.equal(total, 6);

section('Crash the counter on purpose, with a monitor watching it');
const oldCounter = counterRef();
const downs: string[] = [];
node.monitor(oldCounter, (down) => {
  downs.push(down.reason);
  say(`${yellow('monitor fired')}: ${pid(down.pid)} went down, reason ${yellow(down.reason)} (${down.message ?? 'no message'})`);
});
try {
  await node.call(oldCounter, { type: 'crash' });
} catch (error) {
  assert.ok(isCohortError(error));
  say(`the caller got ${red(error.code)}: ${error.message.replace(/<[^>]+>/, pid(oldCounter))}`);
}
await eventually(() => sup.whereis('counter') !== undefined && !samePid(sup.whereis('counter')!, oldCounter), 'the counter restarts');
const fresh = await node.call(counterRef(), { type: 'get' });
say(`the supervisor restarted it: ${pid(oldCounter)} -> ${pid(counterRef())}, state reset to ${green(String(fresh))}`);
assert.deepEqual(downs, ['error']);
assert.equal(fresh, 0);
printTree();

section('A flaky worker fails on its own (every 3rd job)');
for (let id = 1; id <= 4; id++) {
  const before = sup.whereis('flaky');
  try {
    say(`job ${id} on ${pid(before)}: ${green(await node.call(sup.whereis('flaky')!, { type: 'job', id }) as string)}`);
  } catch (error) {
    assert.ok(isCohortError(error));
    say(`job ${id} on ${pid(before)}: ${red(error.code)}, the worker crashed`);
    await eventually(() => sup.whereis('flaky') !== undefined && !samePid(sup.whereis('flaky')!, before!), 'flaky restarts');
    say(`   restarted as ${pid(sup.whereis('flaky'))}; the caller decides whether to retry`);
  }
}

section('A dynamic supervisor starts children on demand');
const sessions = await node.dynamicSupervisor({ maxChildren: 3 });
say(`dynamic supervisor ${pid(sessions.ref)} ${dim('(maxChildren 3)')}`);
for (const user of ['ada', 'grace', 'alan']) {
  const ref = await sessions.startChild({ id: `session:${user}`, behavior: session, args: user });
  say(`startChild session:${user} -> ${pid(ref)}, whoami = ${green(String(await node.call(ref, { type: 'whoami' })))}`);
}
try {
  await sessions.startChild({ id: 'session:linus', behavior: session, args: 'linus' });
  assert.fail('a fourth child must be refused');
} catch (error) {
  assert.ok(isCohortError(error));
  say(`a fourth child is refused: ${red(error.code)}`);
  assert.equal(error.code, 'MAX_CHILDREN');
}
const listed = sessions.children();
say(`children: ${listed.map((c) => `${c.id} ${pid(c.ref)}`).join(', ')}`);
assert.equal(listed.length, 3);

section('Stop the node');
const before = node.processCount();
const t0 = performance.now();
await node.stop();
say(`stopped ${before} processes (children first, in reverse start order) in ${(performance.now() - t0).toFixed(1)} ms`);
assert.equal(node.processCount(), 0);

console.log(`\n${green('done')}: the tour took ${(performance.now() - started).toFixed(0)} ms`);
