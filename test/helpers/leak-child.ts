/**
 * Run by test/leak.test.ts in a child Node.js process started with `--expose-gc --import tsx`:
 * repeats a round of churn on one real node and prints, after each round and a full garbage
 * collection, one JSON line `{ round, heapUsed, processCount, started }`.
 *
 * Usage: node --expose-gc --import tsx test/helpers/leak-child.ts [rounds] [processes] [supervisors]
 */
import { Node } from '../../src/node.js';
import { churn } from './churn.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write('leak-child: run with --expose-gc\n');
  process.exit(2);
}

const [rounds = 6, processes = 1000, supervisors = 1000] = process.argv.slice(2).map(Number);

/** A full collection, repeated so that objects freed by finalizers or weak refs go too. */
async function collect(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

const node = await Node.start({ name: 'leak' });
for (let round = 1; round <= rounds; round++) {
  const started = await churn(node, { processes, supervisors });
  await collect();
  const line = { round, heapUsed: process.memoryUsage().heapUsed, processCount: node.processCount(), started };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
await node.stop();
