import { afterEach, describe, expect, it } from 'vitest';
import { defineBehavior, samePid, type DownMessage, type ExitMessage, type Pid, type SystemMessage } from '../../src/index.js';
import { Node } from '../../src/node.js';

const nodes: Node[] = [];
async function start(): Promise<Node> {
  const node = await Node.start();
  nodes.push(node);
  return node;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

/** A process that records the system messages it gets and can be told to link, monitor or crash. */
const watcher = defineBehavior({
  init: (trap: boolean, ctx) => {
    ctx.trapExit(trap);
    return { got: [] as SystemMessage[], refs: new Map<string, string>() };
  },
  handleCall: (
    msg:
      | { type: 'link'; to: Pid }
      | { type: 'unlink'; to: Pid }
      | { type: 'monitor'; to: Pid | string }
      | { type: 'demonitor'; ref: string }
      | { type: 'got' }
      | { type: 'crash' }
      | { type: 'spawnLinked' },
    s: { got: SystemMessage[]; refs: Map<string, string> },
    _from,
    ctx,
  ) => {
    switch (msg.type) {
      case 'link':
        ctx.link(msg.to);
        return [null, s] as const;
      case 'unlink':
        ctx.unlink(msg.to);
        return [null, s] as const;
      case 'monitor':
        return [ctx.monitor(msg.to).ref, s] as const;
      case 'demonitor':
        ctx.demonitor({ ref: msg.ref });
        return [null, s] as const;
      case 'got':
        return [s.got, s] as const;
      case 'crash':
        throw new Error('watcher crash');
      case 'spawnLinked':
        return [null, s] as const;
    }
  },
  handleInfo: (msg: unknown, s: { got: SystemMessage[]; refs: Map<string, string> }) => {
    s.got.push(msg as SystemMessage);
    return s;
  },
});

const worker = defineBehavior({
  init: () => 0,
  handleCall: (msg: { type: 'crash' } | { type: 'ping' }, s: number) => {
    if (msg.type === 'crash') throw new Error('worker crash');
    return ['pong', s] as const;
  },
});

function downPromise(node: Node, target: Pid): Promise<{ reason: string; message?: string }> {
  return new Promise((resolve) => node.monitor(target, resolve));
}

describe('monitors', () => {
  it('a callback monitor fires once with the reason and message of a crash', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    const calls: unknown[] = [];
    node.monitor(w, (d) => calls.push(d));
    await node.call(w, { type: 'crash' }).catch(() => {});
    await node.stopProcess(w).catch(() => {});
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ pid: w, reason: 'error', message: 'worker crash' });
  });

  it('monitoring a process that is gone fires at once with noproc', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    await node.stopProcess(w);
    const down = await downPromise(node, w);
    expect(down.reason).toBe('noproc');
    const byName = await new Promise<{ reason: string; message?: string }>((r) => node.monitor('nobody', r));
    expect(byName.reason).toBe('noproc');
    expect(byName.message).toMatch(/nobody/);
  });

  it('a normal stop and a shutdown are reported as such', async () => {
    const node = await start();
    const a = await node.spawn(worker, undefined);
    const b = await node.spawn(worker, undefined);
    const da = downPromise(node, a);
    const db = downPromise(node, b);
    await node.stopProcess(a, 'normal');
    await node.stopProcess(b, 'shutdown');
    expect((await da).reason).toBe('normal');
    expect((await db).reason).toBe('shutdown');
  });

  it('demonitor cancels the notification', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    let fired = 0;
    const handle = node.monitor(w, () => fired++);
    expect(node.demonitor(handle)).toBe(true);
    expect(node.demonitor(handle)).toBe(false);
    await node.stopProcess(w);
    expect(fired).toBe(0);
  });

  it('a process monitor delivers a $down message with the ref; demonitor from a process stops it', async () => {
    const node = await start();
    const w1 = await node.spawn(worker, undefined);
    const w2 = await node.spawn(worker, undefined);
    const m = await node.spawn(watcher, false);
    const ref1 = await node.call(m, { type: 'monitor', to: w1 });
    const ref2 = await node.call(m, { type: 'monitor', to: w2 });
    await node.call(m, { type: 'demonitor', ref: ref2 as string });
    await node.call(w1, { type: 'crash' }).catch(() => {});
    await node.stopProcess(w2);
    const got = (await node.call(m, { type: 'got' })) as DownMessage[];
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: '$down', ref: ref1, reason: 'error', message: 'worker crash' });
    expect(samePid(got[0]!.pid, w1)).toBe(true);
  });

  it('a throwing monitor callback does not stop the others', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    const seen: string[] = [];
    node.monitor(w, () => {
      throw new Error('listener bug');
    });
    node.monitor(w, (d) => seen.push(d.reason));
    await node.stopProcess(w);
    expect(seen).toEqual(['normal']);
  });
});

describe('links', () => {
  it('an abnormal exit kills a linked process that does not trap exits, with the same reason', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    const m = await node.spawn(watcher, false);
    await node.call(m, { type: 'link', to: w });
    const down = downPromise(node, m);
    await node.call(w, { type: 'crash' }).catch(() => {});
    const d = await down;
    expect(d.reason).toBe('error');
    expect(d.message).toMatch(/linked process .* exited \(error: worker crash\)/);
  });

  it('links are bidirectional: a crashing watcher takes the worker with it', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    const m = await node.spawn(watcher, false);
    await node.call(m, { type: 'link', to: w });
    const down = downPromise(node, w);
    await node.call(m, { type: 'crash' }).catch(() => {});
    expect((await down).reason).toBe('error');
  });

  it('a normal exit does not kill a linked process', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    const m = await node.spawn(watcher, false);
    await node.call(m, { type: 'link', to: w });
    await node.stopProcess(w, 'normal');
    expect(node.isAlive(m)).toBe(true);
  });

  it('a process that traps exits receives $exit messages instead of dying, also for normal exits', async () => {
    const node = await start();
    const w1 = await node.spawn(worker, undefined);
    const w2 = await node.spawn(worker, undefined);
    const m = await node.spawn(watcher, true);
    await node.call(m, { type: 'link', to: w1 });
    await node.call(m, { type: 'link', to: w2 });
    await node.call(w1, { type: 'crash' }).catch(() => {});
    await node.stopProcess(w2, 'normal');
    const got = (await node.call(m, { type: 'got' })) as ExitMessage[];
    expect(node.isAlive(m)).toBe(true);
    expect(got.map((g) => [g.type, g.reason])).toEqual([
      ['$exit', 'error'],
      ['$exit', 'normal'],
    ]);
  });

  it('unlink stops propagation', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    const m = await node.spawn(watcher, false);
    await node.call(m, { type: 'link', to: w });
    await node.call(m, { type: 'unlink', to: w });
    await node.call(w, { type: 'crash' }).catch(() => {});
    expect(node.isAlive(m)).toBe(true);
  });

  it('linking to a process that is gone sends a noproc exit signal (a trapping process gets $exit)', async () => {
    const node = await start();
    const w = await node.spawn(worker, undefined);
    await node.stopProcess(w);
    const trapping = await node.spawn(watcher, true);
    await node.call(trapping, { type: 'link', to: w });
    const got = (await node.call(trapping, { type: 'got' })) as ExitMessage[];
    expect(got).toMatchObject([{ type: '$exit', reason: 'noproc' }]);
    const plain = await node.spawn(watcher, false);
    const down = downPromise(node, plain);
    await node.call(plain, { type: 'link', to: w }).catch(() => {});
    expect((await down).reason).toBe('noproc');
  });

  it('spawn with link makes the spawner the parent: its crash takes the child down', async () => {
    const node = await start();
    const parent = await node.spawn(watcher, false);
    const child = await node.spawn(worker, undefined, { link: parent });
    const down = downPromise(node, child);
    await node.call(parent, { type: 'crash' }).catch(() => {});
    expect((await down).reason).toBe('error');
  });

  it('a chain of links propagates a crash to every member', async () => {
    const node = await start();
    const chain: Pid[] = [await node.spawn(worker, undefined)];
    for (let i = 0; i < 5; i++) chain.push(await node.spawn(worker, undefined, { link: chain[chain.length - 1]! }));
    const downs = chain.map((p) => downPromise(node, p));
    await node.call(chain[2]!, { type: 'crash' }).catch(() => {});
    const reasons = (await Promise.all(downs)).map((d) => d.reason);
    expect(reasons).toEqual(['error', 'error', 'error', 'error', 'error', 'error']);
    expect(node.processCount()).toBe(0);
  });
});
