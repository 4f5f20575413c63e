/**
 * The seam through which the runtime reaches processes of other nodes.
 *
 * The process layer knows nothing of the network: when a call, cast, message, stop, link or
 * monitor names a pid of another node (or a name this node does not know), the runtime hands it to
 * the router it was given, if any. The remote layer implements it; without one, such pids are
 * refused with `NOCONNECTION`.
 */
import type { Pid } from '../core/ids.js';
import type { MonitorTarget } from './process.js';
import type { Exit, ExitReason } from './types.js';

export interface Router {
  /** Calls a process of another node; settles like a local call (see the runtime's header). */
  call(target: Pid, message: unknown, timeoutMs: number, from: Pid | undefined): Promise<unknown>;
  /** Casts to a process of another node; what cannot be delivered is reported, never thrown. */
  cast(target: Pid, message: unknown): void;
  /** Sends a message to the `handleInfo` of a process of another node. */
  send(target: Pid, message: unknown): void;
  /** Stops a process of another node. */
  stop(target: Pid, reason: ExitReason, timeoutMs: number): Promise<void>;
  /**
   * Monitors a process of another node under `ref` (made by the runtime). The router reports the
   * down through the runtime's `notifyDown`, exactly once, unless `demonitor` came first.
   */
  monitor(target: Pid, ref: string, notify: MonitorTarget): void;
  /** Cancels a monitor set up by `monitor`; returns whether it was active. */
  demonitor(ref: string): boolean;
  /** A local process linked itself to a process of another node. */
  link(local: Pid, remote: Pid): void;
  /** A local process removed its link to a process of another node. */
  unlink(local: Pid, remote: Pid): void;
  /** A local process linked to a process of another node ended: tell the other side. */
  exit(local: Pid, remote: Pid, exit: Exit): void;
  /** The pid of a name this node has not registered locally (a global name), if any. */
  whereis(name: string): Pid | undefined;
}
