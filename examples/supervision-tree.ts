/**
 * A supervision tree: supervisors nest with `supervisorChild`, and each level picks a strategy.
 *
 *   root (one_for_one)
 *   ├── config                      a worker
 *   ├── pipeline (rest_for_one)     source → parser → sink: a crash restarts the crashed child
 *   │   ├── source                  and every child started after it
 *   │   ├── parser
 *   │   └── sink
 *   └── cache (one_for_all)         index and store depend on each other: a crash restarts both
 *       ├── index
 *       └── store
 *
 * Then the pipeline crashes more often than its restart intensity allows: it gives up, exits,
 * and the root supervisor restarts the whole pipeline subtree.
 *
 * Run it with `npx tsx examples/supervision-tree.ts`.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, defineBehavior, isCohortError, samePid, supervisorChild, type Pid } from '../src/index.js';

/** A worker that counts the calls it handled and crashes on request. */
const worker = defineBehavior({
  init: (label: string) => ({ label, handled: 0 }),
  handleCall: (msg: { type: 'ping' } | { type: 'crash' }, s: { label: string; handled: number }) => {
    if (msg.type === 'crash') throw new Error(`${s.label} was asked to crash`);
    const next = { ...s, handled: s.handled + 1 };
    return [next.handled, next] as const;
  },
});

/** A child spec for a worker, registered under a local name equal to its id. */
const child = (id: string) => ({ id, behavior: worker, args: id, name: id });

const node = await Node.start({ name: 'tree' });
const root = await node.supervise({
  strategy: 'one_for_one',
  maxRestarts: 5,
  withinMs: 10_000,
  children: [
    child('config'),
    supervisorChild('pipeline', { strategy: 'rest_for_one', maxRestarts: 2, withinMs: 10_000, children: [child('source'), child('parser'), child('sink')] }),
    supervisorChild('cache', { strategy: 'one_for_all', children: [child('index'), child('store')] }),
  ],
});

const layout = { config: [], pipeline: ['source', 'parser', 'sink'], cache: ['index', 'store'] } as const;
const workers = ['config', 'source', 'parser', 'sink', 'index', 'store'] as const;
type WorkerName = (typeof workers)[number];

const short = (pid: Pid | undefined) => (pid === undefined ? '(down)' : `<${pid.id}>`);

function printTree(title: string): void {
  console.log(`\n${title}`);
  console.log(`  root ${short(root.ref)}`);
  const top = Object.entries(layout);
  top.forEach(([id, kids], i) => {
    const last = i === top.length - 1;
    console.log(`  ${last ? '└──' : '├──'} ${id} ${short(root.whereis(id))}`);
    kids.forEach((k, j) => console.log(`  ${last ? '   ' : '│  '} ${j === kids.length - 1 ? '└──' : '├──'} ${k} ${short(node.whereis(k))}`));
  });
}

/** The pid of every worker and sub-supervisor, by name. */
function snapshot(): Record<string, Pid | undefined> {
  const pids: Record<string, Pid | undefined> = {};
  for (const w of workers) pids[w] = node.whereis(w);
  pids.pipeline = root.whereis('pipeline');
  pids.cache = root.whereis('cache');
  return pids;
}

/** Waits until `check` holds (the tree restarts asynchronously), or fails after `ms`. */
async function eventually(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await delay(5);
  }
}

/** Crashes worker `name` through a call; the caller sees PROCESS_EXITED. */
async function crash(name: WorkerName): Promise<void> {
  try {
    await node.call(name, { type: 'crash' });
    assert.fail('the crash call must fail');
  } catch (error) {
    assert.ok(isCohortError(error));
    assert.equal(error.code, 'PROCESS_EXITED');
    console.log(`  crashed ${name}: the caller got ${error.code}`);
  }
}

/** Which names got a new pid between two snapshots, and whether all are running again. */
function changed(before: Record<string, Pid | undefined>, after: Record<string, Pid | undefined>): string[] {
  return Object.keys(before).filter((k) => {
    const a = before[k];
    const b = after[k];
    return a === undefined || b === undefined || !samePid(a, b);
  });
}
const allUp = () => Object.values(snapshot()).every((p) => p !== undefined);
const restartedSince = (before: Record<string, Pid | undefined>, names: readonly string[]) => () =>
  allUp() && names.every((n) => changed(before, snapshot()).includes(n));

printTree('The tree at start (pids in <>):');
for (const w of workers) assert.equal(await node.call(w, { type: 'ping' }), 1);

// 1. rest_for_one: the parser crashes; parser and sink (started after it) restart, source stays.
console.log('\n1. pipeline is rest_for_one: crash the parser');
let before = snapshot();
await crash('parser');
await eventually(restartedSince(before, ['parser', 'sink']), 'parser and sink restart');
let moved = changed(before, snapshot());
console.log(`  new pids for: ${moved.join(', ')}`);
assert.deepEqual(moved.sort(), ['parser', 'sink']);
assert.equal(await node.call('parser', { type: 'ping' }), 1, 'a restarted worker starts from a fresh state');
assert.equal(await node.call('source', { type: 'ping' }), 2, 'source kept its state');

// 2. one_for_all: the store crashes; index restarts with it.
console.log('\n2. cache is one_for_all: crash the store');
before = snapshot();
await crash('store');
await eventually(restartedSince(before, ['index', 'store']), 'index and store restart');
moved = changed(before, snapshot());
console.log(`  new pids for: ${moved.join(', ')}`);
assert.deepEqual(moved.sort(), ['index', 'store']);

// 3. Escalation: the pipeline allows 2 restarts in 10 s and has used 1. Two more crashes exceed
// it: the pipeline supervisor stops its children and exits, and root restarts the whole subtree.
console.log('\n3. restart intensity: the pipeline allows 2 restarts within 10 s; crash the source twice');
const pipelineDown = new Promise<string>((resolve) => node.monitor(before.pipeline!, (d) => resolve(`${d.reason}: ${d.message ?? ''}`)));
await crash('source');
await eventually(allUp, 'the pipeline is running again');
before = snapshot();
await crash('source');
console.log(`  the pipeline supervisor exited (${await pipelineDown})`);
await eventually(restartedSince(before, ['pipeline', 'source', 'parser', 'sink']), 'root restarts the pipeline');
moved = changed(before, snapshot());
console.log(`  root restarted the subtree; new pids for: ${moved.join(', ')}`);
assert.deepEqual(moved.sort(), ['parser', 'pipeline', 'sink', 'source']);
assert.equal(await node.call('config', { type: 'ping' }), 2, 'config was never touched');

printTree('The tree at the end:');
await node.stop();
assert.equal(node.processCount(), 0);
console.log('\nnode stopped; every process ended');
