import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/clock.js';
import { defineBehavior, isCohortError, type Logger } from '../src/index.js';
import { Node, type NodeOptions } from '../src/node.js';

const nodes: Node[] = [];
async function start(options?: NodeOptions): Promise<Node> {
  const node = await Node.start(options);
  nodes.push(node);
  return node;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

const counter = defineBehavior({
  init: (n: number) => n,
  handleCall: (_m: { type: 'get' }, n: number) => [n, n] as const,
  handleCast: (m: { type: 'inc'; by: number }, n: number) => n + m.by,
});

function startError(options: unknown): unknown {
  try {
    // Node.start validates synchronously before its first await.
    return Node.start(options as NodeOptions).then(
      () => undefined,
      (e: unknown) => e,
    );
  } catch (e) {
    return Promise.resolve(e);
  }
}

describe('node — options', () => {
  it('has an id of name@host:port with the port it listens on, and a fresh incarnation at every start', async () => {
    const a = await start({ name: 'app1', host: '127.0.0.1' });
    expect(a.id).toMatch(/^app1@127\.0\.0\.1:[1-9][0-9]*$/);
    const port = Number(a.id.split(':').pop());
    await a.stop();
    const again = await start({ name: 'app1', host: '127.0.0.1', port });
    expect(again.id).toBe(a.id);
    expect(again.incarnation).not.toBe(a.incarnation);
    const advertised = await start({ name: 'adv', host: '127.0.0.1', advertiseHost: 'localhost' });
    expect(advertised.id).toMatch(/^adv@localhost:[0-9]+$/);
  });

  it.each([
    [{ name: 'bad name' }, /invalid option 'name'/],
    [{ name: '' }, /invalid option 'name'/],
    [{ host: 'not a host!' }, /invalid option 'host'/],
    [{ port: 70000 }, /invalid option 'port'.*0 to 65535/],
    [{ port: 1.5 }, /invalid option 'port'/],
    [{ callTimeoutMs: 0 }, /invalid option 'callTimeoutMs'/],
    [{ maxFrameBytes: 1000 }, /invalid option 'maxFrameBytes'.*integer from 4096/],
    [{ maxFrameBytes: 65536.5 }, /invalid option 'maxFrameBytes'/],
    [{ maxFrameBytes: 1 << 20, maxQueueBytes: 1 << 16 }, /invalid option 'maxQueueBytes'.*less than maxFrameBytes/],
    [{ shutdownTimeoutMs: -5 }, /invalid option 'shutdownTimeoutMs'/],
    [{ meta: { a: 1 } }, /invalid option 'meta'.*meta.a must be a string/],
    [{ clock: {} }, /invalid option 'clock'/],
    [{ logger: { info: () => {} } }, /invalid option 'logger'.*missing debug/],
    [{ sedes: ['x'] }, /unknown option 'sedes'; known options: name, host/],
  ])('refuses %j with INVALID_OPTION saying which option and why', async (options, pattern) => {
    const e = await startError(options);
    expect(isCohortError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('INVALID_OPTION');
    expect((e as Error).message).toMatch(pattern);
  });

  it('members() lists the node itself with its meta', async () => {
    const node = await start({ name: 'm', meta: { zone: 'a' } });
    expect(node.members()).toEqual([{ id: node.id, status: 'alive', incarnation: node.incarnation, meta: { zone: 'a' } }]);
  });
});

describe('node — independence', () => {
  it('two nodes in one process share no processes, names or behaviors', async () => {
    const a = await start({ name: 'a' });
    const b = await start({ name: 'b' });
    a.behaviors.register('counter', counter);
    expect(b.behaviors.names()).toEqual([]);
    await a.spawn('counter', 1, { name: 'c' });
    await b.spawn(counter, 2, { name: 'c' });
    expect(await a.call('c', { type: 'get' })).toBe(1);
    expect(await b.call('c', { type: 'get' })).toBe(2);
    await a.stop();
    expect(b.processCount()).toBe(1);
    expect(await b.call('c', { type: 'get' })).toBe(2);
  });

  it('each node uses its own clock', async () => {
    const clock = new ManualClock();
    const manual = await start({ name: 'manual', clock });
    const b = defineBehavior({ init: () => 0, handleCall: (_m: { type: 'hang' }, s: number) => ({ noreply: true, state: s }) as const });
    const ref = await manual.spawn(b, undefined);
    let failed = false;
    const p = manual.call(ref, { type: 'hang' }, { timeoutMs: 1000 }).catch(() => (failed = true));
    await clock.advance(999);
    expect(failed).toBe(false);
    await clock.advance(1);
    await p;
    expect(failed).toBe(true);
  });
});

describe('node — behaviors', () => {
  it('spawns registered behaviors by name and says which names exist for an unknown one', async () => {
    const node = await start();
    node.behaviors.register('counter', counter);
    node.behaviors.register('counter', counter); // same behavior again: fine
    expect(() => node.behaviors.register('counter', { init: () => 0 })).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    const ref = await node.spawn('counter', 5);
    expect(await node.call(ref, { type: 'get' })).toBe(5);
    await expect(node.spawn('nope')).rejects.toMatchObject({ code: 'UNKNOWN_BEHAVIOR', message: expect.stringMatching(/registered: counter/) });
  });

  it('refuses a value that is not a behavior with INVALID_ARGUMENT', async () => {
    const node = await start();
    await expect(node.spawn({ handleCall: () => [1, 1] } as never, undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => node.behaviors.register('x', { init: 1 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => node.behaviors.register('bad name', counter)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('node — events and stop', () => {
  it('reports process starts, exits and dropped messages; on returns an unsubscribe', async () => {
    const node = await start();
    const seen: string[] = [];
    const off = node.on('processStart', () => seen.push('start'));
    node.on('processExit', (e) => seen.push(`exit ${e.exit.reason}`));
    node.on('messageDropped', (e) => seen.push(`dropped ${e.kind}`));
    const ref = await node.spawn(counter, 0);
    off();
    await node.spawn(counter, 0);
    await node.stopProcess(ref);
    node.cast(ref, { type: 'inc', by: 1 });
    node.send('nobody', 'hello');
    expect(seen).toEqual(['start', 'exit normal', 'dropped cast', 'dropped info']);
  });

  it('stop() stops every process, fails the calls waiting on them, refuses new spawns with NODE_STOPPED, and is idempotent', async () => {
    const node = await start();
    const hang = defineBehavior({ init: () => 0, handleCall: (_m: { type: 'hang' }, s: number) => ({ noreply: true, state: s }) as const });
    const ref = await node.spawn(hang, undefined);
    await node.spawn(counter, 0);
    const pending = node.call(ref, { type: 'hang' }).catch((e: unknown) => e);
    let stoppedEvents = 0;
    node.on('stopped', () => stoppedEvents++);
    await Promise.all([node.stop(), node.stop()]);
    await node.stop();
    expect(stoppedEvents).toBe(1);
    expect(node.processCount()).toBe(0);
    expect(await pending).toMatchObject({ code: 'PROCESS_EXITED' });
    await expect(node.spawn(counter, 0)).rejects.toMatchObject({ code: 'NODE_STOPPED' });
    expect(node.members()[0]!.status).toBe('left');
  });

  it('a listener that throws is logged and does not break the node', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: () => {} };
    const node = await start({ logger });
    node.on('processStart', () => {
      throw new Error('listener bug');
    });
    const ref = await node.spawn(counter, 1);
    expect(await node.call(ref, { type: 'get' })).toBe(1);
    expect(warnings).toContain('node event listener threw');
  });
});
