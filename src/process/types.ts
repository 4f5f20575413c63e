/**
 * The shared vocabulary of the process layer: exit reasons, exits, system messages, typed refs.
 */
import type { Pid } from '../core/ids.js';
import type { WireError } from '../core/errors.js';

/** Why a process ended, as monitors and links report it. */
export const EXIT_REASONS = ['normal', 'shutdown', 'error', 'noproc', 'noconnection', 'name_conflict'] as const;
/**
 * - `normal`: the process stopped itself, or was stopped with reason `normal`.
 * - `shutdown`: it was stopped by its supervisor or its node.
 * - `error`: it crashed (a handler threw, `init` failed after start, or a linked process crashed).
 * - `noproc`: it was not alive when the monitor or link was set up.
 * - `noconnection`: its node went down or became unreachable.
 * - `name_conflict`: it lost its global name to another process when two registrations of the
 *   same name met (concurrent registration, or a partition healing).
 */
export type ExitReason = (typeof EXIT_REASONS)[number];

/** How a process ended. */
export interface Exit {
  readonly reason: ExitReason;
  /** A human-readable account, e.g. the crash's error message. */
  readonly message?: string;
  /** For `error`: the error that crashed it, as wire data. */
  readonly error?: WireError;
}

/** A message delivered to `handleInfo` when a monitored process ends. */
export interface DownMessage {
  readonly type: '$down';
  /** The monitor reference returned by `ctx.monitor`. */
  readonly ref: string;
  readonly pid: Pid;
  readonly reason: ExitReason;
  readonly message?: string;
}

/** A message delivered to `handleInfo` of a process that traps exits when a linked process ends. */
export interface ExitMessage {
  readonly type: '$exit';
  readonly pid: Pid;
  readonly reason: ExitReason;
  readonly message?: string;
}

/** The messages the runtime itself sends to `handleInfo`. */
export type SystemMessage = DownMessage | ExitMessage;

/** Messages are objects discriminated on `type`. */
export interface Message {
  readonly type: string;
}

/** A message to a process whose behavior is not known at compile time (a name or an untyped pid). */
export interface AnyMessage extends Message {
  readonly [key: string]: unknown;
}

/** Identifies the caller of a `handleCall`, for `ctx.reply` when the reply is deferred. */
export interface From {
  /** The calling process, when the call came from inside one. */
  readonly pid: Pid | undefined;
  /** Unique per call. */
  readonly tag: number;
  /**
   * Aborted when the caller stops waiting, with a `CohortError` as the reason: `TIMEOUT` when its
   * timeout passed (for a call from another node, its remaining time travels with the call), or
   * `NOCONNECTION` when the caller's node went down or restarted. A handler that works long can
   * give up then, e.g. `await fetch(url, { signal: from.signal })`; its reply would reach nobody.
   * A call that was answered never aborts it.
   */
  readonly signal: AbortSignal;
}

declare const behaviorTypes: unique symbol;

/**
 * A pid that carries its behavior's message types, so `call` and `cast` are checked at compile
 * time. At run time it is a plain pid: it can be stored, sent and compared.
 */
export type ProcessRef<B = unknown> = Pid & { readonly [behaviorTypes]?: B };
