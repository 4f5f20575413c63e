/**
 * Whole nodes (runtime, cluster, links, handshake, framing and codec) on the memory transport,
 * driven by one manual clock: convergence, failure detection, and the cost per node as the
 * cluster grows from 10 to 250 nodes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';
import type { Codec } from '../../src/codec/codec.js';
import { MEMBERSHIP_DEFAULTS } from '../../src/cluster/membership/index.js';
import { Node } from '../../src/node.js';
import { FaultInjector } from '../../src/transport/faulty.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { mulberry32 as prng } from '../helpers/prng.js';

interface SimNode {
  readonly node: Node;
  readonly host: string;
  readonly faults: FaultInjector;
  readonly sent: { count: number };
}

/** A codec that counts the cluster messages a node sends (each is encoded exactly once). */
function counting(sent: { count: number }): Codec {
  const inner = msgpackCodec();
  return { name: 'counting-msgpack', encode: (v) => (sent.count++, inner.encode(v)), decode: (b) => inner.decode(b) };
}

const hostOf = (i: number) => `127.0.${1 + (i >> 8)}.${i & 255}`;

class Simulation {
  readonly clock = new ManualClock();
  readonly network = new MemoryNetwork();
  readonly nodes: SimNode[] = [];

  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const host = hostOf(i);
      const faults = new FaultInjector();
      const sent = { count: 0 };
      const node = await Node.start({
        name: `n${i}`,
        host,
        port: 4369,
        transport: faults.wrap(this.network.transport({ host })),
        clock: this.clock,
        random: prng(i + 1),
        codec: counting(sent),
        seeds: i === 0 ? [] : [this.nodes[0]!.node.id],
        discoveryIntervalMs: 5_000,
      });
      this.nodes.push({ node, host, faults, sent });
    }
  }

  /** Advances manual time in steps, so messages between timers get delivered. */
  async run(ms: number, stepMs = 50): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) await this.clock.advance(stepMs);
  }

  /** Runs until `done()` holds, at most `maxMs` of manual time; returns the manual time it took. */
  async until(done: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
    for (let t = 0; t <= maxMs; t += stepMs) {
      if (done()) return t;
      await this.clock.advance(stepMs);
    }
    throw new Error(`not done after ${maxMs} ms of manual time`);
  }

  aliveCount(i: number): number {
    return this.nodes[i]!.node.members().filter((m) => m.status === 'alive').length;
  }

  converged(expected: number, among: readonly number[]): boolean {
    return among.every((i) => this.aliveCount(i) === expected);
  }

  /** Cuts node `k` off from everyone (both ways, silently), as a crash looks from outside. */
  crash(k: number): void {
    const victim = this.nodes[k]!;
    for (const other of this.nodes) {
      if (other === victim) continue;
      other.faults.block(victim.host);
      victim.faults.block(other.host);
    }
  }

  async stop(): Promise<void> {
    const stopping = Promise.all(this.nodes.map((n) => n.node.stop()));
    // Leaving nodes wait a little real time for their goodbyes; the manual clock needs no help.
    await stopping;
  }
}

let sim: Simulation | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('simulation — whole nodes on the memory transport and a manual clock', () => {
  it('simulation — 250 nodes converge, a crash is detected by every survivor, and the cost per node per period stays flat from 10 to 250', async () => {
    const period = MEMBERSHIP_DEFAULTS.probeIntervalMs;
    const costs = new Map<number, { mean: number; max: number }>();
    for (const n of [10, 50, 250]) {
      sim = new Simulation();
      await sim.start(n);
      const all = sim.nodes.map((_, i) => i);
      // Everyone converges: a join burst of n nodes needs push-pull (30 s) to fill the last gaps.
      await sim.until(() => sim!.converged(n, all), 90_000, 100);

      // Steady state: count messages over 40 periods.
      const before = sim.nodes.map((s) => s.sent.count);
      const windowMs = 40 * period;
      await sim.run(windowMs, 100);
      const perPeriod = sim.nodes.map((s, i) => (s.sent.count - before[i]!) / (windowMs / period));
      const mean = perPeriod.reduce((a, b) => a + b, 0) / n;
      costs.set(n, { mean, max: Math.max(...perPeriod) });

      if (n === 250) {
        // A crash: the victim goes silent; every survivor must see it down, each exactly once.
        const victim = sim.nodes[n - 1]!.node.id;
        const downs = new Map<string, number>();
        for (const s of sim.nodes.slice(0, -1)) {
          s.node.on('nodeDown', (e) => {
            if (e.node === victim) downs.set(s.node.id, (downs.get(s.node.id) ?? 0) + 1);
          });
        }
        sim.crash(n - 1);
        await sim.until(() => downs.size === n - 1, 60_000, 100);
        expect([...downs.values()].every((c) => c === 1)).toBe(true);
      }
      await sim.stop();
      sim = undefined;
    }
    const c10 = costs.get(10)!;
    const c250 = costs.get(250)!;
    // Each node sends one ping per period and answers the one ping it receives on average; failed
    // probes (none in steady state) and the rare full-state sync (one per 30 s) add a little.
    for (const [n, c] of costs) {
      expect(c.mean, `mean messages per node per period at n=${n}`).toBeLessThanOrEqual(2.5);
      expect(c.max, `max messages per node per period at n=${n}`).toBeLessThanOrEqual(5);
    }
    expect(c250.mean / c10.mean).toBeLessThanOrEqual(1.5);
    console.log(
      'messages per node per period (mean / max):',
      [...costs].map(([n, c]) => `n=${n}: ${c.mean.toFixed(2)} / ${c.max.toFixed(2)}`).join(', '),
    );
  }, 300_000);

  it.each([4, 5, 6, 7, 8])('simulation — after a partition of %i nodes in two halves heals, no node sees a member of its own side go down', async (n) => {
    sim = new Simulation();
    await sim.start(n);
    const all = Array.from({ length: n }, (_, i) => i);
    await sim.until(() => sim!.converged(n, all), 30_000);
    const half = Math.floor(n / 2);
    const sides = [all.slice(0, half), all.slice(half)];
    const sideOf = (id: string) => sides.findIndex((side) => side.some((i) => sim!.nodes[i]!.node.id === id));
    const sameSideDowns: string[] = [];
    let phase = 'partitioned';
    sim.nodes.forEach((n, i) =>
      n.node.on('nodeDown', (e) => {
        if (sideOf(e.node) === sideOf(n.node.id)) sameSideDowns.push(`${phase}: n${i} saw ${e.node.split('@')[0]} go down (${e.reason})`);
      }),
    );
    for (const i of sides[0]!) for (const j of sides[1]!) {
      sim.nodes[i]!.faults.block(sim.nodes[j]!.host);
      sim.nodes[j]!.faults.block(sim.nodes[i]!.host);
    }
    await sim.until(() => sides.every((side) => sim!.converged(side.length, side)), 60_000);
    phase = 'healed';
    for (const node of sim.nodes) node.faults.heal();
    await sim.until(() => sim!.converged(n, all), 120_000);
    await sim.run(10_000); // and it stays so
    expect(sim.converged(n, all)).toBe(true);
    expect(sameSideDowns).toEqual([]);
  }, 120_000);
});
