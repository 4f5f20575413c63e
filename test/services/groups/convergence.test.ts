/**
 * The groups service over the fake network under random joins, leaves, exits, partitions, link
 * bounces and delivery orders: once the network heals and messages stop, every node lists the
 * same members, all of them live processes, each exactly as often as its own node says.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Groups } from '../../../src/services/groups/groups.js';
import { comparePids } from '../../../src/services/registry/entry.js';
import { mulberry32 } from '../../helpers/prng.js';
import { FakeNetwork } from '../fake-network.js';
import { applyFault, faultCommands, type FaultCommand } from '../fault-commands.js';

type Command = { kind: 'join' | 'leave'; node: number; group: number; pick: number; fresh: boolean } | FaultCommand;

const N = 3;
const node = fc.integer({ min: 0, max: N - 1 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom('join' as const, 'leave' as const),
      node,
      group: fc.integer({ min: 0, max: 2 }),
      pick: fc.nat(),
      fresh: fc.boolean(),
    }),
  },
  ...faultCommands(N),
);

describe('groups — convergence over a faulty network', () => {
  it('groups — after random changes, partitions and heals, every node lists the same live members', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 50 }), fc.integer(), (commands, seed) => {
        const random = mulberry32(seed);
        const net = new FakeNetwork();
        const nodes = ['a', 'b', 'c'].map((name) => net.add(name));
        const services = nodes.map((n) => new Groups({ cluster: n.cluster, processes: n.processes, send: () => undefined }));
        net.flush({ random });
        for (const c of commands) {
          switch (c.kind) {
            case 'join':
            case 'leave': {
              const procs = nodes[c.node]!.processes;
              const alive = procs.alive();
              const pid = c.fresh || alive.length === 0 ? procs.spawn() : alive[c.pick % alive.length]!;
              if (c.kind === 'join') services[c.node]!.join(`g${c.group}`, pid);
              else services[c.node]!.leave(`g${c.group}`, pid);
              break;
            }
            default:
              applyFault(net, nodes, c, random);
          }
        }
        net.heal();
        net.flush({ random });
        const names = services[0]!.groups();
        for (const s of services) expect(s.groups()).toEqual(names);
        for (const group of names) {
          const members = services[0]!.members(group);
          for (const s of services) expect(s.members(group)).toEqual(members);
          // The cluster view is exactly the union of what each node holds for its own processes.
          expect(members).toEqual(services.flatMap((s) => s.localMembers(group)).sort(comparePids));
          for (const pid of members) expect(nodes.find((n) => n.id === pid.node)!.processes.isAlive(pid)).toBe(true);
        }
        for (const n of nodes) expect(n.logs.filter((l) => l.level === 'error')).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
