/**
 * Harness extension for service tests: expose a small `work` service, switch it to failing, and
 * drive load through a balancer (many calls, bounded concurrency) whose outcomes come back as
 * counts by code and by answering node. Errors come back as `{ code, message }` data.
 */
import { isCohortError } from '../../../src/core/errors.js';
import type { BalancerOptions } from '../../../src/services/balancer/balancer.js';
import type { ChildContext } from '../protocol.js';

/** The handlers every provider runs; `node` names the answering node. */
function workHandlers(ctx: ChildContext) {
  return {
    where: () => ctx.node.id,
    /** Holds the call for `ms` of real time, then answers with the node id. */
    work: async (ms: number) => {
      if (failing) throw Object.assign(new Error(`${ctx.node.id} is failing on purpose`), { code: 'E_FAILING', retryable: true });
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      return ctx.node.id;
    },
  };
}

let failing = false;

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly message: string };
const outcome = (p: Promise<unknown>): Promise<Outcome> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, code: isCohortError(error) ? error.code : 'NOT_COHORT', message: String((error as Error)?.message ?? error) }),
  );

/** Balancer options as plain data: the filter as a RegExp source. */
interface LoadOptions extends Omit<BalancerOptions, 'filter' | 'algorithm'> {
  readonly algorithm?: string;
  readonly filter?: string;
}

interface Load {
  readonly done: Promise<{ total: number; byCode: Record<string, number>; byNode: Record<string, number>; errors: string[] }>;
  readonly stats: () => unknown;
  completed: number;
}
const loads = new Map<string, Load>();
const drains = new Map<string, Promise<Outcome>>();

function balancerOptions(o: LoadOptions): BalancerOptions {
  const { filter, ...rest } = o;
  return filter === undefined ? rest : { ...rest, filter: new RegExp(filter) };
}

export const commands = {
  expose: (ctx: ChildContext, service: string) => {
    ctx.node.rpc.expose(service, workHandlers(ctx));
  },
  setFailing: (_ctx: ChildContext, value: boolean) => {
    failing = value;
  },
  /** Starts withdrawing `service`; `settleUnexpose` waits for the drain. */
  startUnexpose: (ctx: ChildContext, service: string) => {
    drains.set(service, outcome(ctx.node.rpc.unexpose(service)));
  },
  settleUnexpose: (_ctx: ChildContext, service: string) => drains.get(service) ?? null,
  running: (ctx: ChildContext, service: string) => ctx.node.rpc.running(service),
  providers: (ctx: ChildContext, service: string) => ctx.node.rpc.providers(service).map((p) => p.node),
  callBalanced: (ctx: ChildContext, service: string, method: string, args: unknown[], options: LoadOptions = {}) =>
    outcome(ctx.node.balancer(service, balancerOptions(options)).call(method, args)),
  /**
   * Starts `total` calls of `method(args)` through one balancer, `concurrency` at a time, and
   * returns at once; `loadProgress(key)` says how many settled, `settleLoad(key)` collects them.
   */
  startLoad: (ctx: ChildContext, key: string, service: string, method: string, args: unknown[], total: number, concurrency: number, options: LoadOptions = {}) => {
    const lb = ctx.node.balancer(service, balancerOptions(options));
    const byCode: Record<string, number> = {};
    const byNode: Record<string, number> = {};
    const errors: string[] = [];
    let next = 0;
    const load: Load = {
      stats: () => lb.stats(),
      completed: 0,
      done: (async () => {
        const worker = async () => {
          while (next < total) {
            next++;
            const o = await outcome(lb.call(method, args));
            load.completed++;
            const k = o.ok ? 'reply' : o.code;
            byCode[k] = (byCode[k] ?? 0) + 1;
            if (o.ok) byNode[String(o.value)] = (byNode[String(o.value)] ?? 0) + 1;
            else if (errors.length < 5) errors.push(`${o.code}: ${o.message}`);
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        return { total, byCode, byNode, errors };
      })(),
    };
    loads.set(key, load);
  },
  loadProgress: (_ctx: ChildContext, key: string) => loads.get(key)?.completed ?? 0,
  loadStats: (_ctx: ChildContext, key: string) => loads.get(key)?.stats() ?? null,
  settleLoad: async (_ctx: ChildContext, key: string) => {
    const load = loads.get(key);
    if (load === undefined) throw new Error(`no load '${key}'`);
    return load.done;
  },
};
