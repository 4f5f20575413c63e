/**
 * Process churn for leak tests: start and stop many processes and supervisors on one node.
 *
 * One round starts `processes` plain processes (each named, monitored and called once) and
 * `supervisors` supervisors with one child each (each child called once), `batch` at a time, then
 * stops every one of them. A round leaves nothing of its own behind on a healthy node.
 */
import type { Node } from '../../src/node.js';
import type { Pid } from '../../src/core/ids.js';
import type { Supervisor } from '../../src/process/supervisor.js';
import { idle, worker } from './behaviors.js';

export interface ChurnOptions {
  /** Plain processes per round. @default 1000 */
  processes?: number;
  /** Supervisors (with one child each) per round. @default 1000 */
  supervisors?: number;
  /** How many are started, then stopped, at once. @default 100 */
  batch?: number;
}

/** Runs one round of churn on `node`. Returns how many processes it started. */
export async function churn(node: Node, { processes = 1000, supervisors = 1000, batch = 100 }: ChurnOptions = {}): Promise<number> {
  let started = 0;
  let downs = 0;
  for (let first = 0; first < processes; first += batch) {
    const count = Math.min(batch, processes - first);
    const refs: Pid[] = await Promise.all(
      Array.from({ length: count }, (_, i) => node.spawn(idle, null, { name: `churn-${first + i}` })),
    );
    for (const ref of refs) node.monitor(ref, () => downs++);
    await Promise.all(refs.map((ref) => node.call(ref, { type: 'ping' })));
    await Promise.all(refs.map((ref) => node.stopProcess(ref, 'shutdown')));
    started += count;
  }
  for (let first = 0; first < supervisors; first += batch) {
    const count = Math.min(batch, supervisors - first);
    const sups: Supervisor[] = await Promise.all(
      Array.from({ length: count }, (_, i) => node.supervise({ children: [{ id: 'w', behavior: worker, args: { id: `w${first + i}` } }] })),
    );
    await Promise.all(sups.map((sup) => node.call(sup.whereis('w')!, { type: 'bump' })));
    await Promise.all(sups.map((sup) => sup.stop()));
    started += count * 2;
  }
  if (downs !== processes) throw new Error(`churn: expected ${processes} down notifications, got ${downs}`);
  return started;
}
