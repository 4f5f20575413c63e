/**
 * Behaviors: the plain objects that define what a process does.
 *
 * A behavior has `init(args)` and optional `handleCall`, `handleCast`, `handleInfo` and
 * `terminate`; each may be async. The runtime calls them one message at a time, in arrival order,
 * so a behavior's state needs no locking. A behavior may declare Standard Schema validators for its
 * args, calls and casts; input that fails them never reaches the handler.
 *
 * Types flow from the behavior to its refs: `ProcessRef<typeof counter>` only accepts the calls and
 * casts `counter` handles, and `call` resolves to `counter`'s reply type.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Clock } from '../core/clock.js';
import type { Pid } from '../core/ids.js';
import type { AnyMessage, Exit, ExitReason, From, Message, ProcessRef, SystemMessage } from './types.js';

/** Returned from `handleCall` to reply later with `ctx.reply(from, value)`. */
export interface NoReply<S> {
  readonly noreply: true;
  readonly state: S;
}

/** What `handleCall` returns: `[reply, newState]`, or {@link noReply} to reply later. */
export type CallResult<R, S> = readonly [reply: R, state: S] | NoReply<S>;

/** Defers the reply of a call: return `noReply(state)` and call `ctx.reply(from, value)` later. */
export function noReply<S>(state: S): NoReply<S> {
  return { noreply: true, state };
}

/** Options for calls made from a process or a node. */
export interface CallOptions {
  /**
   * How long to wait for the reply. After it, the call rejects with `TIMEOUT` and the work may or
   * may not have happened.
   * @default 5000
   */
  timeoutMs?: number;
}

/** Options for `spawn`. */
export interface SpawnOptions {
  /** Registers the process under this local name; spawn fails with `NAME_TAKEN` if it is in use. */
  name?: string;
  /** Links the new process to this pid (from a handler: `{ link: ctx.self }`); it becomes the parent. */
  link?: Pid;
  /**
   * How long `init` may take before spawn fails with `TIMEOUT` and the process is discarded.
   * @default 5000
   */
  timeoutMs?: number;
}

/** A monitor set up from inside a process. */
export interface MonitorRef {
  readonly ref: string;
}

/** What a process can do with the runtime from inside its handlers. */
export interface ProcessContext {
  /** This process's pid. */
  readonly self: Pid;
  /** The node's clock: use it for time, so tests can drive it. */
  readonly clock: Clock;
  /** The process this one was spawned linked to (its supervisor, typically), if any. */
  readonly parent: Pid | undefined;
  /** Replies to a call whose `handleCall` returned {@link noReply}. Replying twice does nothing. */
  reply(from: From, value: unknown): void;
  /** Stops this process with `reason` once the current handler returns (default `normal`). */
  stop(reason?: ExitReason, message?: string): void;
  /** Turns exit trapping on or off: linked exits arrive as `$exit` messages instead of killing. */
  trapExit(on: boolean): void;
  /** Spawns a process. */
  spawn<B extends AnyBehavior>(behavior: B | string, args: ArgsOf<B>, options?: SpawnOptions): Promise<ProcessRef<B>>;
  /** Calls a process (by ref or local name) and awaits its reply. */
  call<B>(target: ProcessRef<B> | string, message: CallOf<B>, options?: CallOptions): Promise<ReplyOf<B>>;
  /** Casts to a process; never fails, a cast to a dead process is dropped. */
  cast<B>(target: ProcessRef<B> | string, message: CastOf<B>): void;
  /** Sends a message to a process's `handleInfo`. */
  send(target: Pid | string, message: unknown): void;
  /** Links this process to `target`: when either ends abnormally, the other does too (unless trapping). */
  link(target: Pid): void;
  /** Removes a link. */
  unlink(target: Pid): void;
  /** Monitors `target`: a `$down` message arrives when it ends (at once with `noproc` if it is gone). */
  monitor(target: Pid | string): MonitorRef;
  /** Cancels a monitor; no `$down` arrives for it afterwards. */
  demonitor(ref: MonitorRef): void;
  /**
   * Stops another process: it finishes its current message, runs `terminate` and ends; it is killed
   * if it has not ended after `timeoutMs` (default 5000). Rejects with `NOPROC` if it is not alive.
   */
  stopProcess(target: Pid | string, reason?: ExitReason, timeoutMs?: number): Promise<void>;
  /** Schedules `message` to arrive at `handleInfo` after `ms`; cancelled when the process ends. */
  sendAfter(message: unknown, ms: number): { cancel(): void };
}

/**
 * A behavior: the callbacks of a process.
 *
 * @typeParam A - the args `init` takes
 * @typeParam S - the state
 * @typeParam C - the calls it handles (a union discriminated on `type`)
 * @typeParam R - what its calls reply
 * @typeParam K - the casts it handles
 * @typeParam I - the info messages it handles (besides system messages)
 */
export interface Behavior<A = any, S = any, C extends Message = any, R = any, K extends Message = any, I = any> {
  /** Builds the initial state. Throwing fails the spawn with `INIT_FAILED`. */
  init(args: A, ctx: ProcessContext): S | Promise<S>;
  /** Answers a call: return `[reply, newState]`, or `noReply(state)` and reply later. Throwing crashes the process. */
  handleCall?(message: C, state: S, from: From, ctx: ProcessContext): CallResult<R, S> | Promise<CallResult<R, S>>;
  /** Handles a cast; returns the new state. Throwing crashes the process. */
  handleCast?(message: K, state: S, ctx: ProcessContext): S | Promise<S>;
  /** Handles anything else: `send`, timers, `$down` and `$exit`. Returns the new state. */
  handleInfo?(message: I | SystemMessage, state: S, ctx: ProcessContext): S | Promise<S>;
  /** Runs when the process ends, except when it is killed after its shutdown timeout. */
  terminate?(exit: Exit, state: S, ctx: ProcessContext): void | Promise<void>;
  /** Standard Schema validators (zod, valibot, arktype...); failing input gets `BAD_REQUEST`. */
  schemas?: {
    args?: StandardSchemaV1<unknown, A>;
    call?: StandardSchemaV1<unknown, C>;
    cast?: StandardSchemaV1<unknown, K>;
  };
  /** Starts the process trapping exits. @default false */
  trapExit?: boolean;
}

/** Any behavior. */
export type AnyBehavior = Behavior<any, any, any, any, any, any>;

type Handler<B, K extends 'init' | 'handleCall' | 'handleCast' | 'handleInfo'> = B extends { readonly [P in K]?: infer F }
  ? NonNullable<F>
  : never;
type ReplyOfResult<T> = T extends readonly [infer R, unknown] ? R : never;
type OrUnknown<T> = [T] extends [never] ? unknown : T;

/** The args of a behavior (or of the behavior a ref points to). */
export type ArgsOf<B> = Handler<B, 'init'> extends (args: infer A, ...rest: any[]) => any ? A : unknown;
/** The calls a behavior handles (`never` if it has no `handleCall`); any message for an untyped ref. */
export type CallOf<B> = B extends AnyBehavior
  ? Handler<B, 'handleCall'> extends (message: infer C, ...rest: any[]) => any
    ? C
    : never
  : AnyMessage;
/** What a behavior's calls reply (`unknown` when every reply is deferred, or for an untyped ref). */
export type ReplyOf<B> = B extends AnyBehavior
  ? Handler<B, 'handleCall'> extends (...args: any[]) => infer T
    ? OrUnknown<ReplyOfResult<Awaited<T>>>
    : unknown
  : unknown;
/** The casts a behavior handles (`never` if it has no `handleCast`); any message for an untyped ref. */
export type CastOf<B> = B extends AnyBehavior
  ? Handler<B, 'handleCast'> extends (message: infer K, ...rest: any[]) => any
    ? K
    : never
  : AnyMessage;
/** The state of a behavior. */
export type StateOf<B> = Handler<B, 'init'> extends (...args: any[]) => infer S ? Awaited<S> : unknown;

/**
 * Declares a behavior, keeping the types of its handlers so refs to it are typed: annotate each
 * handler's message and state parameters; calls, casts, replies and args are read from them.
 * For the type-first style, annotate the object as `Behavior<Args, State, Call, Reply, Cast>`.
 *
 * @example
 * const counter = defineBehavior({
 *   init: (start: number) => start,
 *   handleCall: (msg: { type: 'get' }, n: number) => [n, n] as const,
 *   handleCast: (msg: { type: 'inc'; by: number }, n: number) => n + msg.by,
 * });
 */
export function defineBehavior<B extends AnyBehavior>(behavior: B): B {
  return behavior;
}

/** Whether a value looks like a behavior (has an `init` function and no handler that is not one). */
export function isBehavior(value: unknown): value is AnyBehavior {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  if (typeof b.init !== 'function') return false;
  for (const key of ['handleCall', 'handleCast', 'handleInfo', 'terminate'] as const) {
    if (b[key] !== undefined && typeof b[key] !== 'function') return false;
  }
  return true;
}
