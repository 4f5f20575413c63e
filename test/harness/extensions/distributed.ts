/**
 * Harness extension for distributed-supervisor tests: a `session` behavior (a counter per child
 * id) registered on every child, commands to join the supervisor `sessions`, start many children,
 * and report where children run — by the supervisor's table and by the processes that are really
 * alive on this node (to count instances).
 */
import { isCohortError } from '../../../src/core/errors.js';
import type { Behavior } from '../../../src/process/behavior.js';
import type { DistributedSupervisor, DistributedSupervisorOptions } from '../../../src/services/distributed/supervisor.js';
import type { ChildContext } from '../protocol.js';

type SessionCall = { type: 'get' } | { type: 'add'; n: number };
type SessionInfo = { type: 'handoff'; id: string; state: { n: number } };
interface SessionState {
  readonly id: string;
  readonly n: number;
}

/** Session instances alive on this node, by child id (more than 1 would be a duplicate here). */
const live = new Map<string, number>();
let supervisor: DistributedSupervisor | undefined;
const started: string[] = [];

export function setup(ctx: ChildContext): void {
  const session: Behavior<{ id: string }, SessionState, SessionCall, unknown, never, SessionInfo> = {
    init: (args) => {
      live.set(args.id, (live.get(args.id) ?? 0) + 1);
      return { id: args.id, n: 0 };
    },
    terminate: (_reason, s) => {
      const n = (live.get(s.id) ?? 1) - 1;
      if (n === 0) live.delete(s.id);
      else live.set(s.id, n);
    },
    handleCall: (msg, s) => (msg.type === 'get' ? [s.n, s] : [s.n + msg.n, { ...s, n: s.n + msg.n }]),
    handleInfo: (msg, s) => (msg.type === 'handoff' ? { ...s, n: msg.state.n } : s),
  };
  ctx.node.behaviors.register('session', session);
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, code: isCohortError(error) ? error.code : 'NOT_COHORT', message: String((error as Error)?.message ?? error) }),
  );

export const commands = {
  /** Joins the distributed supervisor `sessions`; with `active`, moving children hand off their count. */
  joinSessions: async (ctx: ChildContext, rebalance: 'passive' | 'active' = 'passive') => {
    const options: DistributedSupervisorOptions = {
      rebalance,
      handoff: async ({ ref }) => ({ n: (await ctx.node.call(ref as never, { type: 'get' } as never)) as number }),
    };
    supervisor = await ctx.node.distributedSupervisor('sessions', options);
    supervisor.on('childStarted', (e) => started.push(e.id));
  },
  supMembers: () => supervisor?.members() ?? [],
  /** Starts `count` children `<prefix><i>` from this node; returns how many started. */
  startSessions: async (_ctx: ChildContext, prefix: string, count: number, restart: 'permanent' | 'transient' | 'temporary' = 'permanent') => {
    const sup = supervisor!;
    const results = await Promise.all(Array.from({ length: count }, (_, i) => outcome(sup.startChild({ id: `${prefix}${i}`, behavior: 'session', args: { id: `${prefix}${i}` }, restart }))));
    return results.filter((r) => r.ok).length;
  },
  /** The supervisor's table: id → node (or null when not running now). */
  children: () => Object.fromEntries((supervisor?.children() ?? []).map((c) => [c.id, c.node ?? null])),
  /** The child ids with an instance alive on this node, once per instance. */
  localIds: () => [...live].flatMap(([id, n]) => Array.from({ length: n }, () => id)),
  startedHere: () => [...started],
  callSession: (_ctx: ChildContext, id: string, msg: SessionCall) => outcome(supervisor!.call(id, msg)),
};
