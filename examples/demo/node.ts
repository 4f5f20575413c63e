/**
 * One node of `npm run demo`, in its own process: this is what an application node looks like.
 *
 * It joins the cluster, takes part in the distributed supervisor `sessions` (one child per user,
 * placed on a hash ring of the nodes), and exposes the `app` service that the edge node calls
 * through a balancer: `login(user)` starts the user's session wherever it belongs, and
 * `view(user, page)` calls that session wherever it runs. So any node answers any request, and a
 * session lives on exactly one node.
 *
 * `examples/demo.ts` starts it with its settings in the COHORT_DEMO environment variable and
 * reads what it reports over the IPC channel; it is not meant to be run by hand.
 */
import { Node, defineBehavior, isCohortError, retry, type NodeId } from '../../src/index.js';

/** What examples/demo.ts passes in. */
export interface DemoNodeConfig {
  readonly name: string;
  readonly secret: string;
  readonly seeds: readonly string[];
}

/** What this node reports to examples/demo.ts. */
export type DemoReport =
  | { readonly type: 'ready'; readonly id: NodeId }
  | {
      readonly type: 'status';
      /** This node's view of the cluster. */
      readonly members: readonly { readonly id: NodeId; readonly status: string }[];
      /** The users whose sessions run here. */
      readonly sessions: readonly string[];
    }
  /** Something this node saw happen, stamped with the wall clock. */
  | { readonly type: 'event'; readonly text: string; readonly at: number };

/** A user's session: a GenServer that counts the pages the user viewed. */
const session = defineBehavior({
  init: (user: string) => ({ user, views: 0, page: '' }),
  handleCall: (msg: { type: 'view'; page: string }, s: { user: string; views: number; page: string }) => {
    const next = { ...s, views: s.views + 1, page: msg.page };
    return [next.views, next] as const;
  },
});

const config = JSON.parse(process.env.COHORT_DEMO ?? 'null') as DemoNodeConfig | null;
if (config === null || process.send === undefined) {
  console.error('examples/demo/node.ts is started by examples/demo.ts (npm run demo), not by hand');
  process.exit(2);
}
const report = (r: DemoReport) => {
  if (process.connected) process.send!(r);
};
const short = (id: NodeId) => id.split('@')[0]!;

const node = await Node.start({ name: config.name, secret: config.secret, seeds: [...config.seeds] });
// Other nodes start children here by behavior name only: no code travels.
node.behaviors.register('session', session);
const sessions = await node.distributedSupervisor('sessions');

node.rpc.expose('app', {
  /** Starts the user's session on its ring owner (any node may be asked). */
  login: async (user: string) => {
    const child = await sessions.startChild({ id: `session:${user}`, behavior: 'session', args: user }).catch((error: unknown) => {
      if (isCohortError(error) && error.code === 'ALREADY_STARTED') return { node: sessions.whereis(`session:${user}`)?.node };
      throw error;
    });
    return { user, sessionOn: child.node === undefined ? '?' : short(child.node) };
  },
  /**
   * Records a page view in the user's session. While a session's node has just died, the session
   * is briefly not running anywhere (until the others agree the node is gone and restart it), so
   * the call is retried for a few seconds before it gives up.
   */
  view: async (user: string, page: string) => {
    const id = `session:${user}`;
    const views = await retry(() => sessions.call<typeof session>(id, { type: 'view', page }, { timeoutMs: 1_000 }), {
      maxAttempts: 60, // about 3 s with full jitter, at most 6 s
      baseMs: 10,
      maxMs: 100,
      jitter: 'full',
      retryIf: (error) => isCohortError(error) && (error.code === 'NOPROC' || error.code === 'NOCONNECTION'),
    });
    return { user, views, servedBy: short(node.id), sessionOn: short(sessions.whereis(id)?.node ?? node.id) };
  },
});

// What this node sees, for the live view.
const event = (text: string) => report({ type: 'event', text, at: Date.now() });
node.on('suspect', (e) => event(`suspects ${short(e.node)}`));
node.on('nodeDown', (e) => event(`declares ${short(e.node)} down (${e.reason})`));
sessions.on('childStarted', (e) => event(`runs ${e.id}`));
sessions.on('childRestarted', (e) => event(`restarted ${e.id}`));

const status = () =>
  report({
    type: 'status',
    members: node.members().map((m) => ({ id: m.id, status: m.status })),
    sessions: sessions
      .children()
      .filter((c) => c.node === node.id)
      .map((c) => c.id.slice('session:'.length)),
  });
const ticker = setInterval(status, 100);

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  await node.stop().catch(() => {});
  process.exit(code);
}
// `stop` from the demo: leave the cluster gracefully. A vanished parent: stop too, leave nothing behind.
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') void stop(0);
});
process.on('disconnect', () => void stop(0));

report({ type: 'ready', id: node.id });
