/**
 * What the distributed-supervisor extension (`extensions/distributed.ts`) reports, gathered in the
 * parent: where each child really runs, counted by the processes alive on each node.
 */
import type { TestCluster } from './cluster.js';

/** Every instance alive on the nodes in slots `indexes`: child id → the nodes running one. */
export async function instances(cluster: TestCluster, indexes: readonly number[]): Promise<Map<string, string[]>> {
  const where = new Map<string, string[]>();
  for (const i of indexes) {
    const node = cluster.node(i);
    for (const id of await node.command<string[]>('localIds')) where.set(id, [...(where.get(id) ?? []), node.id]);
  }
  return where;
}
