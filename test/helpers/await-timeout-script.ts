// Run as a script by keep-alive.test.ts: nothing but cohort's own timers keeps the event loop alive.
import { Node, defineBehavior, noReply, sleep, systemClock } from '../../src/index.js';

const silent = defineBehavior({ init: () => 0, handleCall: (_m: { type: 'ask' }, s: number) => noReply(s) });
const node = await Node.start();
const ref = await node.spawn(silent, undefined);
try {
  await node.call(ref, { type: 'ask' }, { timeoutMs: 100 });
  console.log('call: replied');
} catch (error) {
  console.log(`call: ${(error as { code: string }).code}`);
}
await sleep(systemClock, 20);
console.log('sleep: done');
await node.stop();
console.log('stopped');
