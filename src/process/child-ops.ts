/**
 * What both supervisors do to children: start one linked to the supervisor, stop one within its
 * shutdown time, and carry call outcomes as plain data so they survive any codec.
 */
import { CohortError, toWireError, type WireError } from '../core/errors.js';
import type { Pid } from '../core/ids.js';
import type { ProcessContext } from './behavior.js';
import type { ProcessRuntime } from './runtime.js';
import type { NormalizedChildSpec } from './child-spec.js';

/** A child slot: its spec and, while it runs, its pid. */
export interface ChildEntry {
  readonly spec: NormalizedChildSpec;
  pid: Pid | undefined;
  /** Set while a failed restart waits to be retried; cleared when the user takes over the child. */
  retryPending?: boolean;
}

/** The reply of a supervisor call: a value, or an error as wire data. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: WireError };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const failed = (error: unknown): Outcome<never> => ({ ok: false, error: toWireError(error) });

/** Unwraps an outcome on the caller's side, rebuilding the error. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw CohortError.fromWire(outcome.error);
}

/** Starts the child of `entry`, linked to the supervisor, and records its pid. */
export async function startChild(ctx: ProcessContext, entry: ChildEntry): Promise<Pid> {
  const { behavior, args, name } = entry.spec;
  const pid = await ctx.spawn(behavior, args, name === undefined ? { link: ctx.self } : { link: ctx.self, name });
  entry.pid = pid;
  return pid;
}

/**
 * Stops the given children one after the other, in the order given, each within its shutdownMs.
 * Each slot's pid is cleared first, so the `$exit` that follows is recognised as expected.
 */
export async function stopChildren(ctx: ProcessContext, entries: readonly ChildEntry[]): Promise<void> {
  for (const entry of entries) {
    const pid = entry.pid;
    if (pid === undefined) continue;
    entry.pid = undefined;
    await ctx.stopProcess(pid, 'shutdown', entry.spec.shutdownMs).catch(() => {
      // Already gone: nothing to stop.
    });
  }
}

/** How long a supervisor handle waits for a call or a stop by default (a child's init may be slow). */
export const HANDLE_TIMEOUT_MS = 60_000;

/** A call from a supervisor handle to its supervisor process; rebuilds the error of a failed outcome. */
export async function callSupervisor(runtime: ProcessRuntime, ref: Pid, message: unknown, timeoutMs = HANDLE_TIMEOUT_MS): Promise<unknown> {
  return unwrap((await runtime.call(ref, message, { timeoutMs })) as Outcome<unknown>);
}

/** Stops a supervisor process (its children first); a supervisor already gone is not an error. */
export async function stopSupervisor(runtime: ProcessRuntime, ref: Pid, timeoutMs = HANDLE_TIMEOUT_MS): Promise<void> {
  if (!runtime.isAlive(ref)) return;
  await runtime.stop(ref, 'shutdown', timeoutMs).catch((error: unknown) => {
    if (!(error instanceof CohortError && error.code === 'NOPROC')) throw error;
  });
}
