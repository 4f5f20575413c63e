import { describe, expect, it } from 'vitest';
import { SimNetwork, simId, type SimNetwork as Net } from './helpers/sim.js';

/** A network of `n` nodes that joined through `simId(0)` and converged. */
async function cluster(n: number, seed = 1, meta?: (i: number) => Record<string, string>) {
  const net = new SimNetwork({ seed });
  const nodes = Array.from({ length: n }, (_, i) => net.add(simId(i), meta === undefined ? {} : { meta: meta(i) }));
  nodes[0]!.m.start();
  for (const node of nodes.slice(1)) node.m.join([simId(0)]);
  const ids = nodes.map((x) => x.id);
  const took = await net.runUntil(() => net.converged(ids), 60_000);
  return { net, nodes, ids, took };
}

const others = (ids: string[], ...except: string[]) => ids.filter((id) => !except.includes(id));
const statusAt = (net: Net, at: string, about: string) => net.node(at).m.member(about)?.status;
const count = (net: Net, at: string, type: Parameters<Net['eventsOf']>[1], about?: string) => net.eventsOf(at, type, about).length;

describe('cluster — join', () => {
  it('join — 5 nodes join through one seed and converge, each nodeUp seen once', async () => {
    const { net, ids, took } = await cluster(5);
    expect(took).toBeLessThanOrEqual(3_000);
    for (const at of ids) {
      expect(net.node(at).m.members().map((m) => m.id).sort()).toEqual([...ids].sort());
      for (const about of others(ids, at)) expect(count(net, at, 'nodeUp', about)).toBe(1);
      expect(net.node(at).events.filter((e) => e.type !== 'nodeUp')).toEqual([]);
    }
  });

  it('join — a node whose seed is down at first keeps retrying and joins when it comes up', async () => {
    const net = new SimNetwork({ seed: 5 });
    const a = net.add(simId(0));
    const b = net.add(simId(1));
    b.m.join([simId(0)]); // a is not started: it ignores the sync
    await net.run(5_000);
    expect(b.m.members()).toHaveLength(1);
    a.m.start();
    await net.runUntil(() => net.converged([simId(0), simId(1)]), 30_000);
  });
});

describe('cluster — failure detection', () => {
  it('crash — every member marks a crashed member dead, with one suspect at most and one nodeDown each', async () => {
    const { net, ids } = await cluster(5, 2);
    const victim = simId(3);
    net.crash(victim);
    const live = others(ids, victim);
    const took = await net.runUntil(() => live.every((at) => statusAt(net, at, victim) === 'dead'), 30_000);
    expect(took).toBeLessThanOrEqual(5_000); // detection (≤ ~2 rounds) + 3 s suspicion
    await net.run(30_000); // and nothing more happens
    for (const at of live) {
      expect(count(net, at, 'nodeDown', victim)).toBe(1);
      expect(net.eventsOf(at, 'nodeDown', victim)[0]).toMatchObject({ reason: 'failed' });
      expect(count(net, at, 'suspect', victim)).toBeLessThanOrEqual(1);
      expect(count(net, at, 'alive', victim)).toBe(0);
      // nobody else was disturbed
      expect(net.node(at).events.filter((e) => e.type !== 'nodeUp' && 'node' in e && e.node !== victim)).toEqual([]);
    }
  });

  it('probeNow — after a crash, connectionLost (probeNow with the closed-socket hint) gives nodeDown within 1 s, defaults', async () => {
    const { net, ids } = await cluster(5, 3);
    const victim = simId(4);
    const reporter = net.node(simId(0));
    net.crash(victim);
    const t0 = net.clock.now();
    expect(reporter.m.connectionLost(victim)).toBe(true);
    const took = await net.runUntil(() => count(net, reporter.id, 'nodeDown', victim) === 1, 2_000, 10);
    expect(took).toBeLessThanOrEqual(1_000);
    expect(reporter.events.find((e) => e.type === 'nodeDown')!.at - t0).toBeLessThanOrEqual(1_000);
    // The others hear the dead record by gossip within a few periods, well before their own timers.
    const all = await net.runUntil(() => others(ids, victim).every((at) => statusAt(net, at, victim) === 'dead'), 5_000, 10);
    expect(all).toBeLessThan(3_000);
  });

  it('freeze — a frozen member becomes suspect then dead; thawed in time it refutes, thawed late it comes back', async () => {
    const { net, ids } = await cluster(5, 4);
    const frozen = simId(2);
    const live = others(ids, frozen);
    const inc0 = net.node(frozen).m.incarnation;
    net.freeze(frozen);
    await net.runUntil(() => live.some((at) => statusAt(net, at, frozen) === 'suspect'), 5_000, 10);
    net.thaw(frozen); // before the suspicion timeout
    await net.runUntil(() => net.converged(ids), 10_000);
    expect(net.node(frozen).m.incarnation).toBeGreaterThan(inc0);
    for (const at of live) expect(count(net, at, 'nodeDown', frozen)).toBe(0);
    expect(live.some((at) => count(net, at, 'alive', frozen) === 1)).toBe(true);

    const inc1 = net.node(frozen).m.incarnation;
    net.freeze(frozen);
    await net.runUntil(() => live.every((at) => statusAt(net, at, frozen) === 'dead'), 15_000);
    net.thaw(frozen);
    await net.runUntil(() => net.converged(ids), 10_000);
    expect(net.node(frozen).m.incarnation).toBeGreaterThan(inc1);
    for (const at of live) {
      expect(count(net, at, 'nodeDown', frozen)).toBe(1);
      expect(count(net, at, 'nodeUp', frozen)).toBe(2); // the join, and the return
    }
  });

  it('false suspicion — a member cut off briefly is suspected, refutes, and is never declared down', async () => {
    const { net, ids } = await cluster(5, 6);
    const victim = simId(1);
    const inc0 = net.node(victim).m.incarnation;
    const undo = net.drop((_from, to) => to === victim);
    net.node(simId(0)).m.probeNow(victim); // make sure a probe falls in the window
    await net.run(600);
    undo();
    expect(ids.some((at) => count(net, at, 'suspect', victim) > 0)).toBe(true);
    await net.runUntil(() => net.converged(ids), 10_000);
    await net.run(20_000);
    expect(net.node(victim).m.incarnation).toBeGreaterThan(inc0);
    for (const at of others(ids, victim)) {
      expect(count(net, at, 'nodeDown', victim)).toBe(0);
      expect(statusAt(net, at, victim)).toBe('alive');
      expect(count(net, at, 'alive', victim)).toBe(count(net, at, 'suspect', victim)); // each suspicion refuted once
    }
  });

  it('lossy network — with 5% message loss nobody is declared dead over 2 minutes', async () => {
    const { net, ids } = await cluster(8, 7);
    net.lossRate = 0.05;
    await net.run(120_000);
    net.lossRate = 0;
    await net.runUntil(() => net.converged(ids), 10_000);
    for (const at of ids) expect(net.node(at).events.filter((e) => e.type === 'nodeDown')).toEqual([]);
  });
});

describe('cluster — leave and rejoin', () => {
  it('leave — everyone sees left within one message round, without suspicion', async () => {
    const { net, ids } = await cluster(5, 8);
    const leaver = net.node(simId(2));
    const t0 = net.clock.now();
    leaver.m.leave();
    await net.run(10); // one hop is 1-4 ms
    for (const at of others(ids, leaver.id)) {
      expect(statusAt(net, at, leaver.id)).toBe('left');
      expect(net.eventsOf(at, 'nodeDown', leaver.id)).toEqual([{ type: 'nodeDown', node: leaver.id, reason: 'left', incarnation: leaver.m.incarnation, at: expect.any(Number) }]);
      expect(net.eventsOf(at, 'nodeDown', leaver.id)[0]!.at - t0).toBeLessThanOrEqual(5);
    }
    leaver.m.stop();
    await net.run(30_000);
    for (const at of others(ids, leaver.id)) {
      expect(count(net, at, 'suspect', leaver.id)).toBe(0);
      expect(count(net, at, 'nodeDown', leaver.id)).toBe(1);
    }
  });

  it('rejoin — a member that left comes back as a new run with a higher incarnation and is up again', async () => {
    const { net, ids } = await cluster(4, 9);
    const id = simId(3);
    net.node(id).m.leave();
    await net.run(100);
    net.node(id).m.stop();
    const again = net.add(id, { incarnation: 1_000 });
    again.m.join([simId(0)]);
    await net.runUntil(() => net.converged(ids), 10_000);
    for (const at of others(ids, id)) {
      expect(count(net, at, 'nodeUp', id)).toBe(2);
      expect(net.node(at).m.member(id)).toMatchObject({ status: 'alive', incarnation: 1_000 });
    }
  });

  it('rejoin — a new run that starts below its old incarnation still comes back, by refuting its old record', async () => {
    const { net, ids } = await cluster(4, 10);
    const id = simId(1);
    net.crash(id);
    await net.runUntil(() => others(ids, id).every((at) => statusAt(net, at, id) === 'dead'), 15_000);
    const again = net.add(id, { incarnation: 0 });
    again.m.join([simId(0)]);
    await net.runUntil(() => net.converged(ids), 10_000);
    expect(again.m.incarnation).toBeGreaterThan(1);
  });
});

describe('cluster — partition and heal', () => {
  it('partition — 3+2: each side sees the other dead; after the heal push-pull restores one membership', async () => {
    const { net, ids } = await cluster(5, 11);
    const a = ids.slice(0, 3);
    const b = ids.slice(3);
    net.partition(a, b);
    await net.runUntil(
      () => a.every((x) => b.every((y) => statusAt(net, x, y) === 'dead' && statusAt(net, y, x) === 'dead')),
      30_000,
    );
    for (const x of a) for (const y of a) if (x !== y) expect(statusAt(net, x, y)).toBe('alive');
    for (const x of b) for (const y of b) if (x !== y) expect(statusAt(net, x, y)).toBe('alive');
    net.heal();
    const took = await net.runUntil(() => net.converged(ids), 120_000, 100);
    expect(took).toBeLessThanOrEqual(2 * 30_000 * 1.1); // at most two push-pull periods
    for (const x of a) for (const y of b) expect(count(net, x, 'nodeUp', y)).toBe(2);
  });
});

describe('cluster — meta', () => {
  it('meta — travels with membership, and updateMeta reaches everyone once as metaChanged', async () => {
    const { net, ids } = await cluster(5, 12, (i) => ({ zone: `z${i % 2}` }));
    for (const at of ids) {
      for (const about of others(ids, at)) expect(net.node(at).m.member(about)?.meta).toEqual({ zone: `z${Number(about[1]) % 2}` });
    }
    const changer = net.node(simId(4));
    changer.m.updateMeta({ zone: 'z9', role: 'db' });
    await net.runUntil(() => others(ids, changer.id).every((at) => net.node(at).m.member(changer.id)?.meta.role === 'db'), 5_000);
    await net.run(5_000);
    for (const at of others(ids, changer.id)) {
      expect(net.eventsOf(at, 'metaChanged', changer.id)).toEqual([
        { type: 'metaChanged', node: changer.id, meta: { zone: 'z9', role: 'db' }, previous: { zone: 'z0' }, at: expect.any(Number) },
      ]);
    }
  });
});
