/**
 * The same library in one process over the memory transport (every byte still goes through
 * framing, the handshake and encryption). Fault cases are left to the process tests: every stream
 * of the memory transport has the remote host 127.0.0.1, so per-host fault rules cannot tell peers
 * apart here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeId } from '../../src/core/ids.js';
import { Node, type NodeEvents } from '../../src/node.js';
import { FaultInjector } from '../../src/transport/faulty.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { eventually } from '../helpers/eventually.js';
import { SimNetwork, simId } from './membership/helpers/sim.js';

const SECRET = 'cohort memory cluster secret';
const TIMINGS = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000, pushPullIntervalMs: 1_000 };

const started: Node[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.stop()));
});

type Recorded = { type: 'nodeUp' | 'nodeDown' | 'suspect' | 'alive'; node: NodeId; reason?: string; at: number };

/** A node on `network`, with its membership events recorded. */
async function startNode(network: MemoryNetwork, name: string, seeds: string[] = []): Promise<{ node: Node; events: Recorded[] }> {
  const node = await Node.start({ name, secret: SECRET, seeds, membership: TIMINGS, discoveryIntervalMs: 500, transport: network.transport() });
  started.push(node);
  const events: Recorded[] = [];
  const rec = (type: Recorded['type']) => (e: NodeEvents['nodeDown'] | NodeEvents['nodeUp']) =>
    events.push({ type, node: e.node, ...('reason' in e ? { reason: e.reason } : {}), at: performance.now() });
  node.on('nodeUp', rec('nodeUp'));
  node.on('nodeDown', rec('nodeDown'));
  node.on('suspect', rec('suspect'));
  node.on('alive', rec('alive'));
  return { node, events };
}

/** `n` nodes on one network, the first the seed of the others. */
async function cluster(network: MemoryNetwork, n: number, prefix = 'm') {
  const seed = await startNode(network, `${prefix}0`);
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => startNode(network, `${prefix}${i + 1}`, [seed.node.id])));
  return [seed, ...rest];
}

/** Every node lists exactly `nodes`, all alive. */
function agree(nodes: readonly Node[]): void {
  const ids = nodes.map((n) => n.id).sort();
  for (const n of nodes) {
    const members = n.members();
    expect(members[0]!.id).toBe(n.id);
    expect(members.filter((m) => m.status === 'alive').map((m) => m.id).sort()).toEqual(ids);
  }
}

describe('cluster (memory transport)', () => {
  it('join — 5 nodes join through one seed and every node lists all 5 alive, each nodeUp once', async () => {
    const nodes = await cluster(new MemoryNetwork(), 5);
    await eventually(() => agree(nodes.map((x) => x.node)), 10_000);
    for (const { node, events } of nodes) {
      for (const other of nodes.filter((x) => x.node !== node)) expect(events.filter((e) => e.type === 'nodeUp' && e.node === other.node.id)).toHaveLength(1);
      expect(events.filter((e) => e.type === 'nodeDown')).toEqual([]);
    }
  });

  it('leave — a graceful stop is seen as left at once, without suspicion', async () => {
    const nodes = await cluster(new MemoryNetwork(), 5);
    await eventually(() => agree(nodes.map((x) => x.node)), 10_000);
    const leaving = nodes[3]!.node;
    const rest = nodes.filter((x) => x.node !== leaving);
    const stoppedAt = performance.now();
    await leaving.stop();
    // "At once": well before a probe could even time out and a suspicion start.
    await eventually(() => rest.every((x) => x.node.members().find((m) => m.id === leaving.id)?.status === 'left'), TIMINGS.probeIntervalMs);
    for (const { events } of rest) {
      const about = events.filter((e) => e.node === leaving.id && e.at >= stoppedAt);
      expect(about.map((e) => [e.type, e.reason])).toEqual([['nodeDown', 'left']]);
    }
    await eventually(() => agree(rest.map((x) => x.node)), 5_000);
  });

  it('isolation — many nodes in one process are independent: two networks with the same node ids never mix, and one stopping leaves the other intact', async () => {
    const netA = new MemoryNetwork();
    const netB = new MemoryNetwork();
    const a = await cluster(netA, 4, 'same');
    const b = await cluster(netB, 4, 'same');
    // Same names, same memory ports: the same ids, yet two clusters.
    expect(a.map((x) => x.node.id)).toEqual(b.map((x) => x.node.id));
    await eventually(() => agree(a.map((x) => x.node)), 10_000);
    await eventually(() => agree(b.map((x) => x.node)), 10_000);
    // Each side holds records of its own runs of those ids (incarnations start at each run's own).
    for (const side of [a, b]) {
      for (const { node } of side) {
        for (const m of node.members()) expect(m.incarnation).toBeGreaterThanOrEqual(side.find((x) => x.node.id === m.id)!.node.incarnation);
      }
    }
    // Stopping cluster A entirely does not disturb B.
    await Promise.all(a.map((x) => x.node.stop()));
    const quietSince = performance.now();
    await eventually(() => agree(b.map((x) => x.node)), 5_000);
    for (const { events } of b) expect(events.filter((e) => e.at >= quietSince && e.type !== 'nodeUp')).toEqual([]);
    expect(netA.listeners).toBe(0);
    expect(netB.listeners).toBe(4);
  });

  it('scale in one process — 20 nodes converge through one seed and each stays a separate node', async () => {
    const nodes = await cluster(new MemoryNetwork(), 20, 'many');
    await eventually(() => agree(nodes.map((x) => x.node)), 20_000);
    // Each node's events are its own: one nodeUp per other node.
    for (const { node, events } of nodes) expect(events.filter((e) => e.type === 'nodeUp').map((e) => e.node).sort()).toEqual(nodes.map((x) => x.node.id).filter((id) => id !== node.id).sort());
  });
});

describe('cluster (in-process simulation, manual clock) — known bugs', () => {
  // Known bug in src/cluster/membership/swim.ts #aboutSelf, seen on real processes (a node frozen past
  // its suspicion and thawed stays down everywhere until the next push-pull, 30 s by default): its
  // refutation's few retransmits are lost (written into links the survivors already closed), the
  // survivors keep telling it `dead` at incarnation i (buddy system), and it ignores that claim
  // because it is older than its own `alive` at i + 1, without announcing itself again. Fix: when a
  // claim about the local member is older but not `alive`, re-enqueue the current self record.
  // Deterministic here: seeded, on the simulation's manual clock, with the loss made explicit.
  it('rejoin — a node declared dead whose refutation was lost is up again within a few probe periods, without push-pull', async () => {
    const net = new SimNetwork({ seed: 1, defaults: { pushPullIntervalMs: 600_000 } });
    const nodes = Array.from({ length: 5 }, (_, i) => net.add(simId(i)));
    nodes[0]!.m.start();
    for (const n of nodes.slice(1)) n.m.join([simId(0)]);
    const ids = nodes.map((n) => n.id);
    await net.runUntil(() => net.converged(ids), 30_000);
    const victim = simId(2);
    const live = ids.filter((id) => id !== victim);
    net.freeze(victim);
    await net.runUntil(() => live.every((at) => net.node(at).m.member(victim)?.status === 'dead'), 30_000);
    // Thawed, it refutes; every message carrying its refutation is lost for a while.
    const undo = net.drop((from, _to, msg) => from === victim && msg.type !== 'sync' && msg.gossip.some((m) => m.id === victim));
    net.thaw(victim);
    await net.run(3_000);
    undo();
    expect(net.node(victim).m.incarnation).toBeGreaterThan(1);
    // Every later contact tells it it is dead: it must announce itself again.
    await net.runUntil(() => live.every((at) => net.node(at).m.member(victim)?.status === 'alive'), 10_000);
  });
});

describe('fault injection over the memory transport', () => {
  // Lifting (or shortening) a delay must not let later bytes overtake earlier ones: TCP never
  // reorders, and the link above would fail with a framing or decryption error.
  it('delay then heal — bytes still arrive in the order they were written', async () => {
    const faults = new FaultInjector();
    const transport = faults.wrap(new MemoryNetwork().transport());
    const received: string[] = [];
    const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (stream) => {
      stream.on('data', (chunk: Buffer) => received.push(chunk.toString('utf8')));
      stream.on('error', () => {});
    });
    const client = await transport.connect(listener.address, 1_000);
    client.on('error', () => {});
    faults.delay('127.0.0.1', 100);
    client.write('first ');
    faults.heal();
    client.write('second');
    await eventually(() => received.join('').length === 'first second'.length, 2_000);
    client.destroy();
    await listener.close();
    expect(received.join('')).toBe('first second');
  });

  it('a dial to a blocked host hangs until its timeout, and goes through when the block is lifted first', async () => {
    const faults = new FaultInjector();
    const transport = faults.wrap(new MemoryNetwork().transport());
    const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (stream) => stream.on('error', () => {}));
    faults.block('127.0.0.1', 'out');
    await expect(transport.connect(listener.address, 30)).rejects.toMatchObject({ code: 'NOCONNECTION' });
    let connected = false;
    const dial = transport.connect(listener.address, 10_000).then((stream) => {
      connected = true;
      return stream;
    });
    for (let i = 0; i < 5; i++) await new Promise(setImmediate);
    expect(connected).toBe(false);
    faults.heal('127.0.0.1');
    const stream = await dial;
    stream.on('error', () => {});
    stream.destroy();
    await listener.close();
  });
});
