/**
 * Starting and stopping nodes in tests.
 *
 * `startTestNode()` starts a node on a fresh `ManualClock` (unless given another clock);
 * `stopTestNode()` stops it while driving that clock, so a process whose `terminate` hangs is killed
 * after its shutdown time instead of hanging the test. Both are bounded.
 */
import { ManualClock, type Clock } from '../../src/core/clock.js';
import { Node, type NodeOptions } from '../../src/node.js';

export interface TestNode {
  readonly node: Node;
  readonly clock: ManualClock;
}

/** Starts a node on a new ManualClock. */
export async function startTestNode(options: Omit<NodeOptions, 'clock'> = {}): Promise<TestNode> {
  const clock = new ManualClock();
  const node = await Node.start({ name: 'test', ...options, clock });
  return { node, clock };
}

/**
 * Stops `node`, advancing `clock` (when it is a ManualClock) in steps of `stepMs` until the stop
 * completes, at most `maxSteps` times. Throws if it has not completed by then.
 */
export async function stopTestNode(node: Node, clock?: Clock, { stepMs = 1_000, maxSteps = 200 } = {}): Promise<void> {
  let done = false;
  let failure: unknown;
  const stopping = node.stop().then(
    () => {
      done = true;
    },
    (error: unknown) => {
      done = true;
      failure = error;
    },
  );
  if (clock instanceof ManualClock) {
    for (let i = 0; i < maxSteps && !done; i++) await clock.advance(stepMs);
    if (!done) throw new Error(`node.stop() did not complete within ${maxSteps * stepMs} ms of manual clock time`);
  }
  await stopping;
  if (failure !== undefined) throw failure;
}
