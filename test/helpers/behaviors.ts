/**
 * Small behaviors for supervision tests.
 *
 * `worker` records its life in a shared log (`init:<id>`, `terminate:<id>:<reason>`), counts
 * `bump` calls (so a restarted worker is visibly fresh), crashes on `crash`, stops itself on `stop`
 * and can be told to refuse `init`, to wait in `init` for a gate, or to hang in `terminate`. Options are read from the args object
 * each time, so a test can flip them while the worker is supervised (for example, make every
 * restart fail).
 */
import type { Behavior } from '../../src/process/behavior.js';
import type { ExitReason } from '../../src/process/types.js';

/** What a {@link worker} takes. The object is shared, not copied: tests may change it later. */
export interface WorkerArgs {
  /** Names the worker in the log. */
  id: string;
  /** Where `init:<id>` and `terminate:<id>:<reason>` are recorded. */
  log?: string[];
  /** When true, `init` throws. */
  failInit?: boolean;
  /** While above 0, `init` throws and counts it down by one. */
  failInits?: number;
  /** When true, `terminate` never resolves. */
  hangTerminate?: boolean;
  /** When set, `init` waits for it (then checks `failInit`): lets a test hold a start in flight. */
  initGate?: Promise<void>;
}

export interface WorkerState {
  readonly args: WorkerArgs;
  readonly count: number;
}

export type WorkerCall =
  | { readonly type: 'get' }
  | { readonly type: 'bump' }
  | { readonly type: 'crash'; readonly why?: string }
  | { readonly type: 'stop'; readonly reason?: ExitReason };

/** A supervised worker that records its life in `args.log`. */
export const worker: Behavior<WorkerArgs, WorkerState, WorkerCall, number | 'ok', never, never> = {
  init(args) {
    args.log?.push(`init:${args.id}`);
    const finish = (): WorkerState => {
      if (args.failInit === true || (args.failInits ?? 0) > 0) {
        if (args.failInits !== undefined && args.failInits > 0) args.failInits--;
        throw new Error(`worker ${args.id} refuses to start`);
      }
      return { args, count: 0 };
    };
    return args.initGate === undefined ? finish() : args.initGate.then(finish);
  },
  handleCall(message, state, _from, ctx) {
    switch (message.type) {
      case 'get':
        return [state.count, state];
      case 'bump':
        return [state.count + 1, { ...state, count: state.count + 1 }];
      case 'crash':
        throw new Error(message.why ?? `worker ${state.args.id} crashed on purpose`);
      case 'stop':
        ctx.stop(message.reason ?? 'normal');
        return ['ok', state];
    }
  },
  terminate(exit, state) {
    state.args.log?.push(`terminate:${state.args.id}:${exit.reason}`);
    if (state.args.hangTerminate === true) return new Promise<void>(() => {});
    return undefined;
  },
};

/** Args for a {@link worker} that logs to `log`. */
export const workerArgs = (id: string, log?: string[], extra: Partial<WorkerArgs> = {}): WorkerArgs =>
  log === undefined ? { id, ...extra } : { id, log, ...extra };

/** The smallest behavior there is: for leak tests and counts. */
export const idle: Behavior<unknown, null> = {
  init: () => null,
  handleCall: (_message, state) => [null, state],
};

/** A promise with its resolve function, for gates that tests open. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
