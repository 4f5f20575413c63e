/**
 * Real clusters: every node its own Node.js process on its own loopback address, driven over IPC
 * by the harness (test/harness/cluster.ts). Failures are real: SIGKILL, SIGSTOP, blackholed
 * traffic, hostile bytes on real sockets. Each case starts its own cluster; cases run one at a time.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/codec/framing.js';
import { Node } from '../../src/node.js';
import { FAST_DISCOVERY_MS, FAST_MEMBERSHIP, TEST_SECRET, TestCluster, hostOf, now, type ChildNode, type HarnessEvent } from '../harness/cluster.js';
import { FrameProxy, rawClient } from '../harness/proxy.js';
import { eventually } from '../helpers/eventually.js';

const inProcess: Node[] = [];
const proxies: FrameProxy[] = [];
afterEach(async () => {
  await Promise.all(inProcess.splice(0).map((n) => n.stop()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await TestCluster.stopAll();
});

const CASE_TIMEOUT = 60_000;

const isDown = (about: string, reason: 'failed' | 'left' = 'failed') => (e: HarnessEvent) => e.type === 'nodeDown' && e.node === about && e.reason === reason;
const isType = (type: HarnessEvent['type'], about: string, after = 0) => (e: HarnessEvent) => e.type === type && 'node' in e && e.node === about && e.at >= after;
const refused = (code?: string) => (e: HarnessEvent) =>
  e.type === 'log' && e.message === 'refused an incoming link' && (code === undefined || e.fields.code === code);

/** Waits for `pred` on every node of `nodes` and returns each matching event's time minus `since`. */
async function delaysOn(nodes: readonly ChildNode[], pred: (e: HarnessEvent) => boolean, since: number, timeoutMs: number): Promise<number[]> {
  return Promise.all(nodes.map(async (n) => (await n.events.waitFor(pred, timeoutMs)).at - since));
}

const fmt = (xs: readonly number[]) => xs.map((x) => `${Math.round(x)}`).join(', ');

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Reserves a free port on `host`: binds port 0 and closes it. */
async function reservePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('cluster (processes) — forming', () => {
  it('forming — 5 nodes formed through one seed: every node lists all 5 alive, each nodeUp seen once', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(5);
    const took = await cluster.converged(10_000);
    const nodes = cluster.nodes();
    for (const n of nodes) {
      const members = await n.members();
      expect(members[0]!.id).toBe(n.id); // self first
      expect(members.map((m) => m.id).sort()).toEqual(nodes.map((x) => x.id).sort());
      expect(members.every((m) => m.status === 'alive')).toBe(true);
      for (const other of nodes.filter((x) => x !== n)) expect(n.events.of('nodeUp', other.id)).toHaveLength(1);
      expect(n.events.of('nodeDown')).toEqual([]);
    }
    console.info(`forming: 5 nodes converged ${Math.round(took)} ms after all were listening`);
  });

  it('late join — a 6th node joins through the seed and everyone sees it', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(5);
    await cluster.converged(10_000);
    const late = await cluster.add();
    const took = await cluster.converged(10_000);
    expect(cluster.running()).toHaveLength(6);
    for (const n of cluster.nodes().slice(0, 5)) expect(n.events.of('nodeUp', late.id)).toHaveLength(1);
    expect((await late.members()).map((m) => m.id).sort()).toEqual(cluster.nodes().map((n) => n.id).sort());
    console.info(`late join: everyone lists the 6th node ${Math.round(took)} ms after it listened`);
  });

  it('seed down at start — nodes whose seed is not up yet keep trying and join it when it starts', { timeout: CASE_TIMEOUT }, async () => {
    const seedHost = hostOf(2);
    const seedPort = await reservePort(seedHost);
    // Slot 0 names the seed by id, slot 1 by bare address; neither exists yet.
    const cluster = await TestCluster.start(2, {
      seed: null,
      logLevel: 'debug',
      nodeOptions: (i) => ({ seeds: [i === 0 ? `n2@${seedHost}:${seedPort}` : `${seedHost}:${seedPort}`] }),
    });
    // Both have tried (and failed) to reach the seed at least twice before it starts.
    const failedDial = (e: HarnessEvent) => e.type === 'log' && e.message === 'a discovered address did not answer';
    for (const n of cluster.nodes()) {
      await n.events.waitFor(failedDial, 10_000);
      await eventually(() => n.events.list.filter(failedDial).length >= 2, 10_000);
      expect((await n.members()).map((m) => m.id)).toEqual([n.id]);
    }
    const seed = await cluster.add({ options: { port: seedPort, seeds: [] } });
    expect(seed.id).toBe(`n2@${seedHost}:${seedPort}`);
    const took = await cluster.converged(15_000);
    console.info(`seed down at start: both joined ${Math.round(took)} ms after the seed listened`);
  });

  // Known weakness (src/cluster/cluster.ts #discoverOnce): a seed given as a bare `host:port` has no
  // node id to check with isUp, so every discovery round dials it again, even once joined, and the
  // new link replaces the working one (a full handshake each round; 30 s by default, 500 ms here).
  it('seed by address — a seed given as a bare host:port is not dialled again once its node is up', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(1);
    const seed = cluster.node(0);
    await cluster.add({ options: { seeds: [`${seed.host}:${seed.port}`] } });
    await cluster.converged(10_000);
    const before = (await seed.bytes()).streams;
    // An absence can only be checked over a window: six discovery rounds of the joiner.
    await new Promise((resolve) => setTimeout(resolve, 6 * FAST_DISCOVERY_MS));
    await cluster.converged(10_000);
    expect((await seed.bytes()).streams).toBe(before);
  });
});

describe('cluster (processes) — failures', () => {
  it('kill — every survivor sees nodeDown (failed) for a SIGKILLed node within a few seconds', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(5);
    await cluster.converged(10_000);
    const victim = cluster.node(3);
    const survivors = cluster.nodes().filter((n) => n !== victim);
    const killedAt = await cluster.kill(3);
    const delays = await delaysOn(survivors, isDown(victim.id), killedAt, 10_000);
    expect(Math.max(...delays)).toBeLessThan(3_000);
    for (const n of survivors) expect(n.events.of('nodeDown', victim.id)).toHaveLength(1);
    await cluster.converged(10_000);
    console.info(`kill: nodeDown after ${fmt(delays)} ms (max ${Math.round(Math.max(...delays))} ms)`);
  });

  it('restart — a killed node started again on the same name and port is a new run (higher incarnation) that everyone sees up again', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(4);
    await cluster.converged(10_000);
    const old = cluster.node(2);
    const survivors = cluster.nodes().filter((n) => n !== old);
    const killedAt = await cluster.kill(2);
    await delaysOn(survivors, isDown(old.id), killedAt, 10_000);
    const fresh = await cluster.restart(2);
    expect(fresh.id).toBe(old.id);
    expect(fresh.incarnation).toBeGreaterThan(old.incarnation);
    const listening = now();
    const back = await delaysOn(survivors, isType('nodeUp', fresh.id, killedAt), listening, 10_000);
    await cluster.converged(10_000);
    for (const n of survivors) {
      const record = (await n.members()).find((m) => m.id === fresh.id)!;
      expect(record.incarnation).toBeGreaterThanOrEqual(fresh.incarnation);
    }
    console.info(`restart: the new run was up at the survivors ${fmt(back)} ms after it was listening`);
  });

  it('freeze — a frozen node is suspected; thawed before it is declared dead, it refutes and is never down', { timeout: CASE_TIMEOUT }, async () => {
    // A long suspicion, so that the thaw lands well inside it even on a loaded machine.
    const cluster = await TestCluster.start(5, { membership: { suspicionTimeoutMs: 5_000 } });
    await cluster.converged(10_000);
    const victim = cluster.node(2);
    const survivors = cluster.nodes().filter((n) => n !== victim);
    const frozenAt = await cluster.freeze(2);
    const suspected = await delaysOn(survivors, isType('suspect', victim.id, frozenAt), frozenAt, 10_000);
    const thawedAt = await cluster.thaw(2);
    const refuted = await delaysOn(survivors, isType('alive', victim.id, frozenAt), thawedAt, 10_000);
    await cluster.converged(10_000);
    for (const n of survivors) expect(n.events.of('nodeDown', victim.id)).toEqual([]);
    const self = (await victim.members())[0]!;
    expect(self.incarnation).toBeGreaterThan(victim.incarnation); // it refuted with a higher incarnation
    console.info(`freeze/refute: suspected after ${fmt(suspected)} ms; alive again ${fmt(refuted)} ms after the thaw`);
  });

  it('freeze — a node frozen past its suspicion is declared down everywhere; thawed, it rejoins and membership is one again', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(5);
    await cluster.converged(10_000);
    const victim = cluster.node(2);
    const survivors = cluster.nodes().filter((n) => n !== victim);
    const frozenAt = await cluster.freeze(2);
    const suspected = await delaysOn(survivors, isType('suspect', victim.id, frozenAt), frozenAt, 10_000);
    const down = await delaysOn(survivors, isDown(victim.id), frozenAt, 10_000);
    for (const n of survivors) {
      const order = n.events.membership(victim.id).filter((e) => e.at >= frozenAt).map((e) => e.type);
      expect(order.slice(0, 2)).toEqual(['suspect', 'nodeDown']);
    }
    const thawedAt = await cluster.thaw(2);
    const back = await delaysOn(survivors, isType('nodeUp', victim.id, thawedAt), thawedAt, 15_000);
    const took = await cluster.converged(15_000);
    console.info(
      `freeze/rejoin: suspected after ${fmt(suspected)} ms, down after ${fmt(down)} ms; ` +
        `up again ${fmt(back)} ms after the thaw, converged in ${Math.round(took)} ms`,
    );
  });

  // Without push-pull, only the re-gossiped refutation can bring the node back quickly.
  it('freeze — thawed after it was declared dead, a node is up again within a few probe periods, without waiting for push-pull', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(5, { membership: { pushPullIntervalMs: 60_000 } });
    await cluster.converged(10_000);
    const victim = cluster.node(2);
    const survivors = cluster.nodes().filter((n) => n !== victim);
    const frozenAt = await cluster.freeze(2);
    await delaysOn(survivors, isDown(victim.id), frozenAt, 10_000);
    const thawedAt = await cluster.thaw(2);
    await delaysOn(survivors, isType('nodeUp', victim.id, thawedAt), thawedAt, 5_000);
  });

  it('partition — 3+2: each side sees the other down; after the heal, one membership again', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(5);
    await cluster.converged(10_000);
    const [a, b] = [[0, 1, 2], [3, 4]] as const;
    const startedAt = now();
    await cluster.partition(a, b);
    const sides = [
      [a, b],
      [b, a],
    ] as const;
    for (const [here, there] of sides) {
      for (const i of here) {
        for (const j of there) await cluster.node(i).events.waitFor(isDown(cluster.node(j).id), 15_000);
      }
    }
    // Each side still agrees within itself.
    await cluster.converged(10_000, a.map((i) => cluster.node(i)));
    await cluster.converged(10_000, b.map((i) => cluster.node(i)));
    const splitTook = now() - startedAt;
    const healedAt = now();
    await cluster.heal();
    const took = await cluster.converged(20_000);
    for (const [here, there] of sides) {
      for (const i of here) {
        for (const j of there) expect(cluster.node(i).events.list.some(isType('nodeUp', cluster.node(j).id, healedAt))).toBe(true);
      }
    }
    console.info(`partition: split seen everywhere in ${Math.round(splitTook)} ms; one membership ${Math.round(took)} ms after the heal`);
  });
});

describe('cluster (processes) — hostile peers', () => {
  it('wrong secret — a node with another secret cannot join; the others never list it and keep working', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(3, { logLevel: 'debug' }); // repeated refusals from one host are logged at debug level
    await cluster.converged(10_000);
    const seed = cluster.node(0);
    const intruder = await cluster.add({ options: { secret: 'an entirely different secret' } });
    // It tried more than once (discovery retries) and was refused each time.
    await eventually(() => seed.events.list.filter(refused('AUTH_FAILED')).length >= 2, 10_000);
    const good = cluster.nodes().filter((n) => n !== intruder);
    for (const n of good) {
      expect((await n.members()).map((m) => m.id)).not.toContain(intruder.id);
      expect(n.events.of('nodeUp', intruder.id)).toEqual([]);
    }
    expect((await intruder.members()).map((m) => m.id)).toEqual([intruder.id]);
    await cluster.converged(10_000, good);
    // The cluster keeps working: an honest late joiner gets in; the intruder still does not.
    const late = await cluster.add();
    await cluster.converged(10_000, [...good, late]);
    for (const n of [...good, late]) expect((await n.members()).map((m) => m.id)).not.toContain(intruder.id);
  });

  /**
   * A node in this process joins the cluster through a recording proxy in front of node 0, so the
   * test sees every byte of a legitimate client's handshake and can tamper with its frames.
   */
  async function withProxiedPeer() {
    const cluster = await TestCluster.start(3, { logLevel: 'debug' }); // repeated refusals from one host are logged at debug level
    await cluster.converged(10_000);
    const target = cluster.node(0);
    const proxy = await FrameProxy.start({ host: '127.0.0.2', target: { host: target.host, port: target.port } });
    proxies.push(proxy);
    const local = await Node.start({
      name: 'local',
      host: '127.0.0.3',
      secret: TEST_SECRET,
      seeds: [`${proxy.address.host}:${proxy.address.port}`],
      membership: FAST_MEMBERSHIP,
      // Slow re-discovery: the proxied link is the one under test, and nothing else should dial.
      discoveryIntervalMs: 60_000,
    });
    inProcess.push(local);
    const everyone = [...cluster.nodes().map((n) => n.id), local.id].sort();
    const agreed = async () => {
      expect(local.members().filter((m) => m.status === 'alive').map((m) => m.id).sort()).toEqual(everyone);
      for (const n of cluster.nodes()) expect((await n.members()).filter((m) => m.status === 'alive').map((m) => m.id).sort()).toEqual(everyone);
    };
    await eventually(agreed, 10_000);
    // The link in use: a bare-address seed is dialled again until the sync answer arrives, and the
    // newer link replaces the older one, so there may be closed connections before it.
    const [connection] = await eventually(() => {
      const open = proxy.connections.filter((c) => c.open);
      expect(open).toHaveLength(1);
      return open;
    }, 5_000);
    return { cluster, target, proxy, local, agreed, connection: connection! };
  }

  it('replayed handshake — the bytes of a legitimate handshake, replayed, get no link; the legitimate link and the cluster are unaffected', { timeout: CASE_TIMEOUT }, async () => {
    const { cluster, target, local, agreed, connection } = await withProxiedPeer();
    await eventually(() => connection.frames > 3, 5_000); // the handshake and some traffic
    const refusedBefore = target.events.list.filter(refused()).length;
    const replay = await rawClient(target.host, target.port);
    replay.socket.write(Buffer.concat(connection.recorded));
    await replay.closed; // the node hangs up
    const refusals = await eventually(() => {
      const after = target.events.list.filter(refused()).slice(refusedBefore);
      expect(after.length).toBeGreaterThan(0);
      return after;
    }, 10_000);
    expect(refusals.map((e) => (e.type === 'log' ? e.fields.code : undefined))).toEqual([expect.stringMatching(/^(AUTH_FAILED|PROTOCOL_ERROR)$/)]);
    await agreed();
    for (const n of cluster.nodes()) expect(n.events.of('nodeDown', local.id)).toEqual([]);
  });

  it('tampered ciphertext — a flipped bit in a data frame closes that link; the cluster keeps working', { timeout: CASE_TIMEOUT }, async () => {
    const { cluster, target, local, agreed, connection } = await withProxiedPeer();
    const closedWithError = (e: HarnessEvent) =>
      e.type === 'log' && e.message === 'link closed with an error' && e.fields.peer === local.id && e.fields.code === 'PROTOCOL_ERROR';
    await withTimeout(connection.tamperNext(), 10_000, 'no data frame went through the proxy');
    await target.events.waitFor(closedWithError, 10_000);
    await connection.closed;
    // Membership heals over a fresh link (the node dials the local node directly) and stays whole.
    await eventually(agreed, 10_000);
    for (const n of cluster.nodes()) expect(n.events.of('nodeDown', local.id)).toEqual([]);
  });

  it('hostile bytes — oversized frame headers, random bytes and a stranger hello are refused; the node keeps serving and membership stays intact', { timeout: CASE_TIMEOUT }, async () => {
    const cluster = await TestCluster.start(3, { logLevel: 'debug' }); // repeated refusals from one host are logged at debug level
    await cluster.converged(10_000);
    const target = cluster.node(1);
    const oversized = await rawClient(target.host, target.port);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffff_ff00);
    oversized.socket.write(header);
    const random = await rawClient(target.host, target.port);
    let seed = 42;
    random.socket.write(Buffer.alloc(8192).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
    const stranger = await rawClient(target.host, target.port);
    stranger.socket.write(encodeFrame(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
    await Promise.all([oversized.closed, random.closed, stranger.closed]);
    await eventually(() => target.events.list.filter(refused()).length >= 3, 10_000);
    const codes = target.events.list.filter(refused()).map((e) => (e.type === 'log' ? e.fields.code : undefined));
    expect(codes).toContain('FRAME_TOO_LARGE');
    expect(codes.every((c) => c === 'FRAME_TOO_LARGE' || c === 'PROTOCOL_ERROR')).toBe(true);
    // Membership is intact: nobody went down, and the node still accepts a newcomer.
    await cluster.converged(10_000);
    for (const n of cluster.nodes()) expect(n.events.of('nodeDown')).toEqual([]);
    await cluster.add();
    await cluster.converged(10_000);
  });
});
