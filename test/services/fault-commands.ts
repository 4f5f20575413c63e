/**
 * The fault and delivery steps that the services' convergence properties interleave with their
 * own operations over a {@link FakeNetwork}: a process exits, the nodes split in two, the network
 * heals, one link bounces, or a few queued messages are delivered (in the order `random` picks).
 */
import fc from 'fast-check';
import type { FakeNetwork, FakeNode } from './fake-network.js';

export type FaultCommand =
  | { kind: 'exit'; node: number; pick: number }
  | { kind: 'partition'; mask: number }
  | { kind: 'heal' }
  | { kind: 'bounce'; a: number; b: number }
  | { kind: 'deliver'; n: number };

/** Weighted arbitraries of every fault step over `nodes` nodes, for `fc.oneof` beside a service's own. */
export function faultCommands(nodes: number): fc.WeightedArbitrary<FaultCommand>[] {
  const node = fc.integer({ min: 0, max: nodes - 1 });
  return [
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('exit' as const), node, pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), mask: fc.integer({ min: 1, max: 2 ** nodes - 2 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bounce' as const), a: node, b: node }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  ];
}

/** Carries out one fault step. */
export function applyFault(net: FakeNetwork, nodes: readonly FakeNode[], c: FaultCommand, random: () => number): void {
  switch (c.kind) {
    case 'exit': {
      const alive = nodes[c.node]!.processes.alive();
      if (alive.length > 0) nodes[c.node]!.processes.exit(alive[c.pick % alive.length]!, 'error');
      break;
    }
    case 'partition':
      net.partition(nodes.filter((_, i) => (c.mask & (1 << i)) !== 0).map((n) => n.id));
      break;
    case 'heal':
      net.heal();
      break;
    case 'bounce':
      if (c.a !== c.b) net.bounce(nodes[c.a]!.id, nodes[c.b]!.id);
      break;
    case 'deliver':
      net.flush({ random, limit: c.n });
      break;
  }
}
