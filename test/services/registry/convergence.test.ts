/**
 * The registry service over the fake network under random operations, partitions, link bounces
 * and delivery orders: once the network heals and messages stop, every node shows the same names,
 * each held by a live process of its owner node, only conflict losers were exited, and no losing
 * claim is left behind a winner.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { samePid } from '../../../src/core/ids.js';
import { Registry } from '../../../src/services/registry/registry.js';
import { mulberry32 } from '../../helpers/prng.js';
import { FakeNetwork } from '../fake-network.js';
import { applyFault, faultCommands, type FaultCommand } from '../fault-commands.js';

type Command =
  | { kind: 'register'; node: number; name: number; fresh: boolean }
  | { kind: 'unregister'; node: number; name: number }
  | { kind: 'advance'; node: number; ms: number }
  | FaultCommand;

const N = 3;
const node = fc.integer({ min: 0, max: N - 1 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('register' as const), node, name: fc.integer({ min: 0, max: 3 }), fresh: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unregister' as const), node, name: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), node, ms: fc.integer({ min: 0, max: 3 }) }) },
  ...faultCommands(N),
);

describe('registry — convergence over a faulty network', () => {
  it('registry — after random operations, partitions and heals, every node agrees on live owners', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { maxLength: 40 }), fc.integer(), async (commands, seed) => {
        const random = mulberry32(seed);
        const net = new FakeNetwork();
        const nodes = ['a', 'b', 'c'].map((name) => net.add(name));
        const registries = nodes.map((n) => new Registry({ cluster: n.cluster, processes: n.processes }));
        net.flush({ random });
        for (const c of commands) {
          switch (c.kind) {
            case 'register': {
              const procs = nodes[c.node]!.processes;
              const alive = procs.alive();
              const pid = c.fresh || alive.length === 0 ? procs.spawn() : alive[0]!;
              await registries[c.node]!.register(`n${c.name}`, pid).catch(() => undefined);
              break;
            }
            case 'unregister':
              registries[c.node]!.unregister(`n${c.name}`);
              break;
            case 'advance':
              await nodes[c.node]!.clock.advance(c.ms);
              break;
            default:
              applyFault(net, nodes, c, random);
          }
        }
        net.heal();
        net.flush({ random });
        const view = registries[0]!.entries();
        for (const r of registries) expect(r.entries()).toEqual(view);
        for (const { pid } of view) {
          const owner = nodes.find((n) => n.id === pid.node)!;
          expect(owner.processes.isAlive(pid)).toBe(true);
        }
        // Every process that is gone and was not exited by the test lost a conflict.
        for (const n of nodes) {
          for (const e of n.processes.exits) expect(['error', 'name_conflict']).toContain(e.reason);
          for (const e of n.processes.exits.filter((x) => x.reason === 'name_conflict')) {
            expect(view.some((entry) => samePid(entry.pid, e.pid))).toBe(false);
          }
        }
        for (const n of nodes) expect(n.logs.filter((l) => l.level === 'error')).toEqual([]);
        // No losing claim lingers behind a winner: once the winners are unregistered, no name is left.
        for (const { name } of view) registries[0]!.unregister(name);
        net.flush({ random });
        for (const r of registries) expect(r.names()).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
