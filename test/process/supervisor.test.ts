import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/core/clock.js';
import { isCohortError } from '../../src/core/errors.js';
import { samePid, type Pid } from '../../src/core/ids.js';
import type { DownEvent, Node } from '../../src/node.js';
import type { Behavior } from '../../src/process/behavior.js';
import type { ChildSpec, SupervisorSpec } from '../../src/process/child-spec.js';
import { supervisorChild, type Supervisor } from '../../src/process/supervisor.js';
import { gate, idle, worker, workerArgs, type WorkerArgs } from '../helpers/behaviors.js';
import { eventually } from '../helpers/eventually.js';
import { startTestNode, stopTestNode } from '../helpers/node.js';

let node: Node;
let clock: ManualClock;
let log: string[];

beforeEach(async () => {
  ({ node, clock } = await startTestNode());
  log = [];
});

afterEach(async () => {
  await stopTestNode(node, clock);
});

/** A process that links itself to `peer` in init, so it dies (without trapping) when `peer` stops. */
const linker: Behavior<{ peer: Pid; log: string[] }, null> = {
  init(args, ctx) {
    args.log.push('init:linked');
    ctx.link(args.peer);
    return null;
  },
};

/** A worker child that logs to the test's log. */
const child = (id: string, extra: Partial<ChildSpec> = {}, args: Partial<WorkerArgs> = {}): ChildSpec => ({
  id,
  behavior: worker,
  args: workerArgs(id, log, args),
  ...extra,
});

/** The running child `id`; fails the test if it is not running. */
function refOf(sup: Supervisor, id: string): Pid {
  const ref = sup.whereis(id);
  if (ref === undefined) throw new Error(`child '${id}' is not running; children: ${JSON.stringify(sup.children())}`);
  return ref;
}

/** Makes the process at `ref` crash from a call; the caller sees PROCESS_EXITED. */
async function crash(ref: Pid): Promise<void> {
  await expect(node.call(ref, { type: 'crash' })).rejects.toMatchObject({ code: 'PROCESS_EXITED' });
}

/** Waits until child `id` runs under a ref other than `before`, and returns it. */
function restarted(sup: Supervisor, id: string, before: Pid): Promise<Pid> {
  return eventually(() => {
    const now = refOf(sup, id);
    expect(samePid(now, before), `child '${id}' still has its old ref`).toBe(false);
    return now;
  });
}

/** A round trip through the supervisor's mailbox: everything it received before has been handled. */
async function sync(sup: Supervisor): Promise<void> {
  await expect(sup.deleteChild('__sync__')).rejects.toMatchObject({ code: 'NOT_FOUND' });
}

/** Records the down event of `ref`. */
function watch(ref: Pid): { down: DownEvent | undefined } {
  const seen: { down: DownEvent | undefined } = { down: undefined };
  node.monitor(ref, (down) => (seen.down = down));
  return seen;
}

/** Waits for the down event recorded by {@link watch}. */
function downOf(seen: { down: DownEvent | undefined }): Promise<DownEvent> {
  return eventually(() => {
    expect(seen.down, 'no down event yet').toBeDefined();
    return seen.down!;
  });
}

/** The entries of the log from index `from` on. */
const since = (from: number) => log.slice(from);

describe('supervisor — lifecycle', () => {
  it('supervisor — starts children in spec order and stops them in reverse order', async () => {
    const sup = await node.supervise({ children: [child('a'), child('b'), child('c')] });
    expect(log).toEqual(['init:a', 'init:b', 'init:c']);
    expect(sup.children().map((c) => c.id)).toEqual(['a', 'b', 'c']);
    for (const c of sup.children()) expect(node.isAlive(c.ref!)).toBe(true);
    expect(node.processCount()).toBe(4);

    await sup.stop();

    expect(since(3)).toEqual(['terminate:c:shutdown', 'terminate:b:shutdown', 'terminate:a:shutdown']);
    expect(sup.running).toBe(false);
    expect(node.processCount()).toBe(0);
  });

  it('supervisor — children() lists ids with refs and whereis() finds a child by id', async () => {
    const sup = await node.supervise({ children: [child('a'), child('b')] });
    const [a, b] = sup.children();
    expect(a!.id).toBe('a');
    expect(samePid(sup.whereis('a')!, a!.ref!)).toBe(true);
    expect(samePid(sup.whereis('b')!, b!.ref!)).toBe(true);
    expect(samePid(a!.ref!, b!.ref!)).toBe(false);
    expect(sup.whereis('nope')).toBeUndefined();
    await expect(node.call(a!.ref!, { type: 'bump' })).resolves.toBe(1);
  });

  it('supervisor — a child can be a registered behavior name', async () => {
    node.behaviors.register('worker', worker);
    const sup = await node.supervise({ children: [{ id: 'w', behavior: 'worker', args: workerArgs('w', log) }] });
    const before = refOf(sup, 'w');
    await expect(node.call(before, { type: 'bump' })).resolves.toBe(1);
    await crash(before);
    const after = await restarted(sup, 'w', before);
    await expect(node.call(after, { type: 'get' })).resolves.toBe(0);
    expect(log).toEqual(['init:w', 'terminate:w:error', 'init:w']);
  });

  it('supervisor — a child name registers it locally and node.whereis follows restarts', async () => {
    const sup = await node.supervise({ children: [child('a', { name: 'alpha' })] });
    const before = refOf(sup, 'a');
    expect(samePid(node.whereis('alpha')!, before)).toBe(true);
    await expect(node.call('alpha', { type: 'bump' })).resolves.toBe(1);

    await crash(before);
    const after = await restarted(sup, 'a', before);
    await eventually(() => expect(samePid(node.whereis('alpha')!, after)).toBe(true));
    await expect(node.call('alpha', { type: 'get' })).resolves.toBe(0);

    await sup.terminateChild('a');
    expect(node.whereis('alpha')).toBeUndefined();
  });
});

describe('supervisor — strategies', () => {
  it('one_for_one — only the crashed child gets a new ref and fresh state; siblings keep theirs', async () => {
    const sup = await node.supervise({ strategy: 'one_for_one', children: [child('a'), child('b'), child('c')] });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => refOf(sup, id)) as [Pid, Pid, Pid];
    await node.call(a, { type: 'bump' });
    await node.call(b, { type: 'bump' });
    await node.call(b, { type: 'bump' });
    const mark = log.length;

    await crash(b);
    const b2 = await restarted(sup, 'b', b);

    expect(samePid(refOf(sup, 'a'), a)).toBe(true);
    expect(samePid(refOf(sup, 'c'), c)).toBe(true);
    expect(node.isAlive(b)).toBe(false);
    await expect(node.call(b2, { type: 'get' })).resolves.toBe(0);
    await expect(node.call(a, { type: 'get' })).resolves.toBe(1);
    expect(since(mark)).toEqual(['terminate:b:error', 'init:b']);
    expect(sup.children().map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  it('one_for_all — a crash restarts every child, in order, each with a new ref', async () => {
    const sup = await node.supervise({ strategy: 'one_for_all', children: [child('a'), child('b'), child('c')] });
    const before = ['a', 'b', 'c'].map((id) => refOf(sup, id));
    await node.call(before[0]!, { type: 'bump' });
    const mark = log.length;

    await crash(before[1]!);
    await eventually(() => expect(since(mark)).toHaveLength(6));

    expect(since(mark)).toEqual([
      'terminate:b:error',
      'terminate:c:shutdown',
      'terminate:a:shutdown',
      'init:a',
      'init:b',
      'init:c',
    ]);
    const after = ['a', 'b', 'c'].map((id) => refOf(sup, id));
    after.forEach((ref, i) => expect(samePid(ref, before[i]!)).toBe(false));
    for (const ref of before) expect(node.isAlive(ref)).toBe(false);
    await expect(node.call(after[0]!, { type: 'get' })).resolves.toBe(0);
    expect(node.processCount()).toBe(4);
  });

  it('rest_for_one — the crashed child and those after it restart; those before keep their refs', async () => {
    const sup = await node.supervise({ strategy: 'rest_for_one', children: [child('a'), child('b'), child('c'), child('d')] });
    const before = ['a', 'b', 'c', 'd'].map((id) => refOf(sup, id)) as [Pid, Pid, Pid, Pid];
    const mark = log.length;

    await crash(before[1]);
    await eventually(() => expect(since(mark)).toHaveLength(6));

    expect(since(mark)).toEqual([
      'terminate:b:error',
      'terminate:d:shutdown',
      'terminate:c:shutdown',
      'init:b',
      'init:c',
      'init:d',
    ]);
    expect(samePid(refOf(sup, 'a'), before[0])).toBe(true);
    for (const [i, id] of (['b', 'c', 'd'] as const).entries()) {
      expect(samePid(refOf(sup, id), before[i + 1]!)).toBe(false);
      expect(node.isAlive(before[i + 1]!)).toBe(false);
    }
    expect(node.processCount()).toBe(5);
  });

  it('rest_for_one — a crash of the last child restarts only it', async () => {
    const sup = await node.supervise({ strategy: 'rest_for_one', children: [child('a'), child('b')] });
    const a = refOf(sup, 'a');
    const b = refOf(sup, 'b');
    await crash(b);
    await restarted(sup, 'b', b);
    expect(samePid(refOf(sup, 'a'), a)).toBe(true);
  });
});

describe('supervisor — restart types', () => {
  it('permanent — restarted after it stops itself normally (ctx.stop from a handler)', async () => {
    const sup = await node.supervise({ children: [child('p', { restart: 'permanent' })] });
    const before = refOf(sup, 'p');
    await expect(node.call(before, { type: 'stop', reason: 'normal' })).resolves.toBe('ok');
    const after = await restarted(sup, 'p', before);
    expect(node.isAlive(after)).toBe(true);
    expect(log).toEqual(['init:p', 'terminate:p:normal', 'init:p']);
  });

  it('permanent — restarted after node.stopProcess(ref, "normal")', async () => {
    const sup = await node.supervise({ children: [child('p')] });
    const before = refOf(sup, 'p');
    await node.stopProcess(before, 'normal');
    await restarted(sup, 'p', before);
  });

  it('transient — not restarted after a normal exit; its spec stays, without a ref', async () => {
    const sup = await node.supervise({ children: [child('t', { restart: 'transient' }), child('other')] });
    const before = refOf(sup, 't');
    await expect(node.call(before, { type: 'stop', reason: 'normal' })).resolves.toBe('ok');
    await eventually(() => expect(sup.whereis('t')).toBeUndefined());
    await sync(sup);

    expect(sup.children()).toEqual([
      { id: 't', ref: undefined },
      { id: 'other', ref: refOf(sup, 'other') },
    ]);
    expect(log.filter((l) => l === 'init:t')).toHaveLength(1);
    expect(node.isAlive(before)).toBe(false);
  });

  it('transient — not restarted after node.stopProcess(ref, "shutdown")', async () => {
    const sup = await node.supervise({ children: [child('t', { restart: 'transient' })] });
    await node.stopProcess(refOf(sup, 't'), 'shutdown');
    await sync(sup);
    expect(sup.whereis('t')).toBeUndefined();
    expect(log).toEqual(['init:t', 'terminate:t:shutdown']);
  });

  it('transient — restarted after a crash', async () => {
    const sup = await node.supervise({ children: [child('t', { restart: 'transient' })] });
    const before = refOf(sup, 't');
    await crash(before);
    await restarted(sup, 't', before);
    expect(log).toEqual(['init:t', 'terminate:t:error', 'init:t']);
  });

  it('temporary — never restarted after a crash, and removed from children()', async () => {
    const sup = await node.supervise({ children: [child('a'), child('tmp', { restart: 'temporary' })] });
    await crash(refOf(sup, 'tmp'));
    await eventually(() => expect(sup.children().map((c) => c.id)).toEqual(['a']));
    await sync(sup);
    expect(log).toEqual(['init:a', 'init:tmp', 'terminate:tmp:error']);
    expect(node.processCount()).toBe(2);
  });

  it('temporary — never restarted after a normal exit, and removed from children()', async () => {
    const sup = await node.supervise({ children: [child('tmp', { restart: 'temporary' })] });
    await node.call(refOf(sup, 'tmp'), { type: 'stop' });
    await eventually(() => expect(sup.children()).toEqual([]));
    await sync(sup);
    expect(log).toEqual(['init:tmp', 'terminate:tmp:normal']);
  });

  it('temporary — under one_for_all, stopped with its siblings and not restarted', async () => {
    const sup = await node.supervise({
      strategy: 'one_for_all',
      children: [child('a'), child('tmp', { restart: 'temporary' }), child('c')],
    });
    const a = refOf(sup, 'a');
    const mark = log.length;
    await crash(a);
    await restarted(sup, 'a', a);
    await eventually(() => expect(sup.children().map((c) => c.id)).toEqual(['a', 'c']));
    expect(since(mark)).toEqual(['terminate:a:error', 'terminate:c:shutdown', 'terminate:tmp:shutdown', 'init:a', 'init:c']);
  });
});

describe('supervisor — restart intensity', () => {
  const spec = (children: ChildSpec[]): SupervisorSpec => ({ strategy: 'one_for_one', maxRestarts: 2, withinMs: 1000, children });

  it('restart intensity — a third crash within withinMs makes the supervisor exit with error and stop every child', async () => {
    const sup = await node.supervise(spec([child('a'), child('b')]));
    const seen = watch(sup.ref);
    const b = refOf(sup, 'b');

    let a = refOf(sup, 'a');
    await crash(a);
    a = await restarted(sup, 'a', a);
    await clock.advance(100);
    await crash(a);
    a = await restarted(sup, 'a', a);
    await clock.advance(100);
    expect(seen.down).toBeUndefined();
    await crash(a);

    const down = await downOf(seen);
    expect(down.reason).toBe('error');
    expect(down.message).toMatch(/restart intensity/);
    expect(sup.running).toBe(false);
    expect(node.isAlive(b)).toBe(false);
    expect(node.processCount()).toBe(0);
    expect(sup.children().every((c) => c.ref === undefined)).toBe(true);
    expect(log.slice(-1)).toEqual(['terminate:b:shutdown']);
  });

  it('restart intensity — crashes spaced more than withinMs apart never exceed it', async () => {
    const sup = await node.supervise(spec([child('a')]));
    const seen = watch(sup.ref);
    let a = refOf(sup, 'a');
    for (let i = 0; i < 6; i++) {
      await crash(a);
      a = await restarted(sup, 'a', a);
      await clock.advance(1001);
    }
    await sync(sup);
    expect(seen.down).toBeUndefined();
    expect(sup.running).toBe(true);
    expect(log.filter((l) => l === 'init:a')).toHaveLength(7);
  });

  it('restart intensity — crashes in different children count together', async () => {
    const sup = await node.supervise(spec([child('a'), child('b'), child('c')]));
    const seen = watch(sup.ref);
    for (const id of ['a', 'b']) {
      const before = refOf(sup, id);
      await crash(before);
      await restarted(sup, id, before);
    }
    expect(seen.down).toBeUndefined();
    await crash(refOf(sup, 'c'));
    const down = await downOf(seen);
    expect(down.reason).toBe('error');
    expect(node.processCount()).toBe(0);
  });

  it('restart intensity — maxRestarts 0 gives up on the first crash', async () => {
    const sup = await node.supervise({ maxRestarts: 0, withinMs: 1000, children: [child('a')] });
    const seen = watch(sup.ref);
    await crash(refOf(sup, 'a'));
    const down = await downOf(seen);
    expect(down.reason).toBe('error');
    expect(log).toEqual(['init:a', 'terminate:a:error']);
  });

  it('restart intensity — a child that fails to restart counts each attempt, and the supervisor gives up', async () => {
    const args = workerArgs('a', log);
    const sup = await node.supervise(spec([{ id: 'a', behavior: worker, args }, child('b')]));
    const seen = watch(sup.ref);
    args.failInit = true;
    await crash(refOf(sup, 'a'));

    const down = await downOf(seen);
    expect(down.reason).toBe('error');
    expect(down.message).toMatch(/restart intensity/);
    // The first start, then one attempt per allowed restart (2); the third restart is refused.
    expect(log.filter((l) => l === 'init:a')).toHaveLength(3);
    expect(node.processCount()).toBe(0);
  });
});

describe('supervisor — shutdownMs', () => {
  it('shutdownMs — a child whose terminate never resolves is killed after its shutdownMs and the stop completes', async () => {
    const sup = await node.supervise({
      children: [child('a'), child('hang', { shutdownMs: 500 }, { hangTerminate: true })],
    });
    const hang = refOf(sup, 'hang');
    const a = refOf(sup, 'a');
    let stopped = false;
    const stopping = sup.stop().then(() => (stopped = true));

    await clock.advance(499);
    expect(log).toEqual(['init:a', 'init:hang', 'terminate:hang:shutdown']);
    expect(node.isAlive(hang)).toBe(true);
    expect(node.isAlive(a)).toBe(true);
    expect(stopped).toBe(false);

    await clock.advance(1);
    await eventually(() => expect(stopped).toBe(true));
    await stopping;
    expect(node.isAlive(hang)).toBe(false);
    expect(log).toEqual(['init:a', 'init:hang', 'terminate:hang:shutdown', 'terminate:a:shutdown']);
    expect(node.processCount()).toBe(0);
  });

  it('shutdownMs — terminateChild of a hanging child completes after its shutdownMs', async () => {
    const sup = await node.supervise({ children: [child('hang', { shutdownMs: 200 }, { hangTerminate: true })] });
    const hang = refOf(sup, 'hang');
    let done = false;
    const terminating = sup.terminateChild('hang').then(() => (done = true));
    await clock.advance(199);
    expect(done).toBe(false);
    await clock.advance(1);
    await eventually(() => expect(done).toBe(true));
    await terminating;
    expect(node.isAlive(hang)).toBe(false);
    expect(sup.running).toBe(true);
    expect(sup.children()).toEqual([{ id: 'hang', ref: undefined }]);
  });
});

describe('supervisor — managing children', () => {
  it('startChild — adds a child at the end and starts it', async () => {
    const sup = await node.supervise({ children: [child('a')] });
    const ref = await sup.startChild(child('b'));
    expect(node.isAlive(ref)).toBe(true);
    expect(sup.children().map((c) => c.id)).toEqual(['a', 'b']);
    expect(samePid(sup.whereis('b')!, ref)).toBe(true);
    await expect(node.call(ref, { type: 'bump' })).resolves.toBe(1);

    // A child added later is supervised like the others.
    await crash(ref);
    await restarted(sup, 'b', ref);
    await sup.stop();
    expect(log.slice(-2)).toEqual(['terminate:b:shutdown', 'terminate:a:shutdown']);
  });

  it('startChild — a duplicate id is refused with ALREADY_STARTED, running or stopped', async () => {
    const sup = await node.supervise({ children: [child('a'), child('b')] });
    await expect(sup.startChild(child('a'))).rejects.toMatchObject({ code: 'ALREADY_STARTED', message: expect.stringContaining("'a'") });
    await sup.terminateChild('b');
    await expect(sup.startChild(child('b'))).rejects.toMatchObject({ code: 'ALREADY_STARTED', message: expect.stringContaining('restartChild') });
    expect(log).toEqual(['init:a', 'init:b', 'terminate:b:shutdown']);
  });

  it('startChild — a bad spec is refused with INVALID_OPTION naming the field', async () => {
    const sup = await node.supervise({});
    const cases: [unknown, string][] = [
      [{ id: 'x', behavior: worker, restart: 'sometimes' }, 'restart'],
      [{ id: 'x', behavior: worker, shutdownMs: -1 }, 'shutdownMs'],
      [{ id: 'x', behavior: 42 }, 'behavior'],
      [{ behavior: worker }, 'id'],
      [{ id: 'x', behavior: worker, name: '' }, 'name'],
    ];
    for (const [spec, field] of cases) {
      const error = await sup.startChild(spec as ChildSpec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isCohortError(error), `spec ${JSON.stringify(spec)}`).toBe(true);
      expect(error).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(field) });
      expect(String((error as { details?: { field?: unknown } }).details?.field)).toContain(field);
    }
    expect(sup.children()).toEqual([]);
    expect(node.processCount()).toBe(1);
  });

  it('startChild — an unknown behavior name is refused with UNKNOWN_BEHAVIOR and nothing is added', async () => {
    const sup = await node.supervise({});
    await expect(sup.startChild({ id: 'x', behavior: 'no-such-behavior' })).rejects.toMatchObject({
      code: 'UNKNOWN_BEHAVIOR',
      message: expect.stringContaining('no-such-behavior'),
    });
    expect(sup.children()).toEqual([]);
  });

  it('startChild — a child whose init throws is refused with INIT_FAILED and nothing is added', async () => {
    const sup = await node.supervise({ children: [child('a')] });
    await expect(sup.startChild(child('bad', {}, { failInit: true }))).rejects.toMatchObject({
      code: 'INIT_FAILED',
      message: expect.stringContaining('refuses to start'),
    });
    expect(sup.children().map((c) => c.id)).toEqual(['a']);
    expect(node.processCount()).toBe(2);
    // The id is free again.
    await expect(sup.startChild(child('bad'))).resolves.toBeDefined();
  });

  it('terminateChild — stops the child for good, keeps its spec; restartChild starts it again', async () => {
    const sup = await node.supervise({ children: [child('a'), child('b')] });
    const before = refOf(sup, 'a');
    await sup.terminateChild('a');
    expect(node.isAlive(before)).toBe(false);
    await sync(sup);
    expect(sup.children()).toEqual([
      { id: 'a', ref: undefined },
      { id: 'b', ref: refOf(sup, 'b') },
    ]);
    expect(log).toEqual(['init:a', 'init:b', 'terminate:a:shutdown']);

    const after = await sup.restartChild('a');
    expect(samePid(after, before)).toBe(false);
    expect(samePid(refOf(sup, 'a'), after)).toBe(true);
    await expect(node.call(after, { type: 'get' })).resolves.toBe(0);
    expect(sup.children().map((c) => c.id)).toEqual(['a', 'b']);
  });

  it('terminateChild — a temporary child is stopped and its spec removed', async () => {
    const sup = await node.supervise({ children: [child('tmp', { restart: 'temporary' })] });
    await sup.terminateChild('tmp');
    expect(sup.children()).toEqual([]);
    await expect(sup.restartChild('tmp')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('terminateChild, restartChild, deleteChild — an unknown id is refused with NOT_FOUND', async () => {
    const sup = await node.supervise({ children: [child('a')] });
    for (const op of [sup.terminateChild('ghost'), sup.restartChild('ghost'), sup.deleteChild('ghost')]) {
      await expect(op).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("'ghost'") });
    }
    expect(node.isAlive(refOf(sup, 'a'))).toBe(true);
  });

  // BUG (src/process/supervisor.ts:169-170, 227): a failed restart is retried through a
  // '$supervisor.retry' message that is acted on unconditionally, so a child the user terminated in
  // between is started again.
  it('terminateChild — a child whose restart is being retried stays stopped', async () => {
    const args = workerArgs('a', log);
    const sup = await node.supervise({ maxRestarts: 5, withinMs: 1000, children: [{ id: 'a', behavior: worker, args }] });
    const held = gate();
    args.initGate = held.promise;
    args.failInits = 1; // the restart in flight fails; a retry would succeed
    await crash(refOf(sup, 'a'));
    await eventually(() => expect(log).toEqual(['init:a', 'terminate:a:error', 'init:a']));

    const terminating = sup.terminateChild('a'); // queued behind the restart in flight
    args.initGate = undefined;
    held.open();
    await terminating;
    await sync(sup);

    expect(sup.children()).toEqual([{ id: 'a', ref: undefined }]);
    expect(log).toEqual(['init:a', 'terminate:a:error', 'init:a']);
  });

  it('restartChild — a running child is refused with ALREADY_STARTED', async () => {
    const sup = await node.supervise({ children: [child('a')] });
    const ref = refOf(sup, 'a');
    await expect(sup.restartChild('a')).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    expect(samePid(refOf(sup, 'a'), ref)).toBe(true);
  });

  it('restartChild — a child whose init now throws is refused with INIT_FAILED and stays stopped', async () => {
    const args = workerArgs('a', log);
    const sup = await node.supervise({ children: [{ id: 'a', behavior: worker, args }] });
    await sup.terminateChild('a');
    args.failInit = true;
    await expect(sup.restartChild('a')).rejects.toMatchObject({ code: 'INIT_FAILED' });
    expect(sup.children()).toEqual([{ id: 'a', ref: undefined }]);
  });

  it('deleteChild — a running child is refused with INVALID_ARGUMENT; a stopped one is removed', async () => {
    const sup = await node.supervise({ children: [child('a'), child('b')] });
    await expect(sup.deleteChild('a')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('running') });
    expect(sup.children().map((c) => c.id)).toEqual(['a', 'b']);

    await sup.terminateChild('a');
    await sup.deleteChild('a');
    expect(sup.children().map((c) => c.id)).toEqual(['b']);
    await expect(sup.restartChild('a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The id can be used again.
    await sup.startChild(child('a'));
    expect(sup.children().map((c) => c.id)).toEqual(['b', 'a']);
  });

  it('supervisor calls — rejected with NOPROC once the supervisor has stopped', async () => {
    const sup = await node.supervise({ children: [child('a')] });
    await sup.stop();
    await expect(sup.startChild(child('b'))).rejects.toMatchObject({ code: 'NOPROC' });
    await sup.stop(); // a second stop is a no-op
  });
});

describe('supervisor — start failures and bad specs', () => {
  it('supervise — a child that fails to start rejects with INIT_FAILED and the children already started are stopped', async () => {
    const error = await node
      .supervise({ children: [child('a'), child('b'), child('c', {}, { failInit: true }), child('d')] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'INIT_FAILED', message: expect.stringContaining("'c'") });
    expect(log).toEqual(['init:a', 'init:b', 'init:c', 'terminate:b:shutdown', 'terminate:a:shutdown']);
    expect(node.processCount()).toBe(0);
  });

  it('supervise — a child with an unknown behavior name rejects with INIT_FAILED that says so', async () => {
    const error = await node.supervise({ children: [child('a'), { id: 'b', behavior: 'nope' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'INIT_FAILED', message: expect.stringContaining('nope') });
    expect(log).toEqual(['init:a', 'terminate:a:shutdown']);
    expect(node.processCount()).toBe(0);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['unknown strategy', { strategy: 'one_for_some' }, /strategy.*one_for_some.*one_for_one/],
    ['negative maxRestarts', { maxRestarts: -1 }, /maxRestarts -1.*>= 0/],
    ['fractional maxRestarts', { maxRestarts: 1.5 }, /maxRestarts 1\.5/],
    ['zero withinMs', { withinMs: 0 }, /withinMs 0.*positive/],
    ['children not an array', { children: 'a' }, /children.*array/],
    ['duplicate child ids', { children: [{ id: 'a', behavior: worker }, { id: 'a', behavior: worker }] }, /"a".*unique/],
    ['a child without behavior', { children: [{ id: 'a' }] }, /children\[0\] 'a' behavior/],
    ['a child with a bad restart', { children: [{ id: 'a', behavior: worker }, { id: 'b', behavior: worker, restart: 'never' }] }, /children\[1\] 'b' restart "never".*permanent/],
    ['not an object', null, /supervisor spec/],
  ];
  it.each(invalid)('supervise — %s is refused with INVALID_OPTION and a helpful message', async (_what, spec, message) => {
    const error = await node.supervise(spec as SupervisorSpec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'INVALID_OPTION' });
    expect((error as Error).message).toMatch(message);
    expect(node.processCount()).toBe(0);
  });
});

describe('supervisor — nesting', () => {
  const inner = (extra: Partial<SupervisorSpec> = {}) =>
    supervisorChild('inner', { strategy: 'one_for_one', children: [child('g', { name: 'grandchild' })], ...extra });

  it('nested supervisors — a grandchild crash is handled by the inner supervisor; the outer keeps its refs', async () => {
    const outer = await node.supervise({ children: [inner(), child('sibling')] });
    const innerRef = refOf(outer, 'inner');
    const sibling = refOf(outer, 'sibling');
    const g = node.whereis('grandchild')!;
    expect(g).toBeDefined();

    await crash(g);
    await eventually(() => {
      const now = node.whereis('grandchild');
      expect(now !== undefined && !samePid(now, g)).toBe(true);
    });
    expect(samePid(refOf(outer, 'inner'), innerRef)).toBe(true);
    expect(samePid(refOf(outer, 'sibling'), sibling)).toBe(true);
    expect(node.isAlive(innerRef)).toBe(true);
    expect(log).toEqual(['init:g', 'init:sibling', 'terminate:g:error', 'init:g']);
  });

  it('nested supervisors — an inner supervisor past its intensity is restarted by the outer one', async () => {
    const outer = await node.supervise({ maxRestarts: 5, withinMs: 1000, children: [inner({ maxRestarts: 0 }), child('sibling')] });
    const innerRef = refOf(outer, 'inner');
    const sibling = refOf(outer, 'sibling');
    const innerSeen = watch(innerRef);
    const g = node.whereis('grandchild')!;

    await crash(g);
    const down = await downOf(innerSeen);
    expect(down.reason).toBe('error');
    expect(down.message).toMatch(/restart intensity/);

    const innerRef2 = await restarted(outer, 'inner', innerRef);
    expect(node.isAlive(innerRef2)).toBe(true);
    await eventually(() => expect(node.whereis('grandchild')).toBeDefined());
    expect(samePid(node.whereis('grandchild')!, g)).toBe(false);
    await expect(node.call('grandchild', { type: 'get' })).resolves.toBe(0);
    expect(samePid(refOf(outer, 'sibling'), sibling)).toBe(true);
    expect(outer.running).toBe(true);
    expect(log).toEqual(['init:g', 'init:sibling', 'terminate:g:error', 'init:g']);
  });

  it('nested supervisors — stopping the outer stops the whole tree, deepest last-started first', async () => {
    const outer = await node.supervise({
      children: [
        child('a'),
        supervisorChild('inner', { children: [child('g1'), child('g2')] }),
        child('z'),
      ],
    });
    expect(log).toEqual(['init:a', 'init:g1', 'init:g2', 'init:z']);
    expect(node.processCount()).toBe(6);
    await outer.stop();
    expect(log.slice(4)).toEqual(['terminate:z:shutdown', 'terminate:g2:shutdown', 'terminate:g1:shutdown', 'terminate:a:shutdown']);
    expect(node.processCount()).toBe(0);
  });
});

describe('supervisor — node shutdown', () => {
  it('node.stop — stops supervisors and their children, restarting nothing', async () => {
    const s1 = await node.supervise({ children: [child('a'), child('b')] });
    const s2 = await node.supervise({ strategy: 'one_for_all', children: [child('c'), supervisorChild('inner', { children: [child('d')] })] });
    expect(node.processCount()).toBe(7);
    const inits = log.filter((l) => l.startsWith('init:')).length;

    await stopTestNode(node, clock);

    expect(node.processCount()).toBe(0);
    expect(s1.running).toBe(false);
    expect(s2.running).toBe(false);
    expect(log.filter((l) => l.startsWith('init:'))).toHaveLength(inits);
    // Supervisors stop in reverse start order, each stopping its children in reverse order.
    expect(log.slice(inits)).toEqual([
      'terminate:d:shutdown',
      'terminate:c:shutdown',
      'terminate:b:shutdown',
      'terminate:a:shutdown',
    ]);
    await expect(node.supervise({ children: [child('late')] })).rejects.toMatchObject({ code: 'NODE_STOPPED' });
  });

  it('node.stop — a child killed by a link while the node stops is not restarted', async () => {
    const sup = await node.supervise({ children: [child('a')] });
    const peer = await node.spawn(idle, null); // a later root: node.stop stops it before the supervisor
    const linked = await sup.startChild({ id: 'linked', behavior: linker, args: { peer, log } });
    expect(node.isAlive(linked)).toBe(true);
    const inits = log.filter((l) => l.startsWith('init:')).length;

    await stopTestNode(node, clock);

    expect(node.processCount()).toBe(0);
    expect(sup.running).toBe(false);
    expect(log.filter((l) => l.startsWith('init:'))).toHaveLength(inits);
  });

  it('node.stop — a child that hangs in terminate is killed after its shutdownMs and the node still stops', async () => {
    await node.supervise({ children: [child('hang', { shutdownMs: 300 }, { hangTerminate: true }), child('b')] });
    let stopped = false;
    const stopping = node.stop().then(() => (stopped = true));
    await clock.advance(299);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await eventually(() => expect(stopped).toBe(true));
    await stopping;
    expect(node.processCount()).toBe(0);
    expect(log).toEqual(['init:hang', 'init:b', 'terminate:b:shutdown', 'terminate:hang:shutdown']);
  });
});
