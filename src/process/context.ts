/**
 * The context a process's handlers receive: its pid, its clock, and what it may do with the
 * runtime (spawn, call, cast, send, link, monitor, stop, reply later, timers). Calls made through
 * it carry the process as the caller, so a process that calls itself gets a clear error instead of
 * a deadlock; timers made through it are cancelled when the process ends.
 */
import type { MonitorRef, ProcessContext } from './behavior.js';
import type { ProcessCell } from './process.js';
import type { ProcessRuntime } from './runtime.js';

/** Builds the context of one process. */
export function processContext(runtime: ProcessRuntime, cell: ProcessCell): ProcessContext {
  const self = cell.pid;
  return {
    self,
    clock: runtime.clock,
    get parent() {
      return cell.parent;
    },
    reply: (from, value) => runtime.reply(from, value),
    stop: (reason = 'normal', message) => cell.requestStop(message === undefined ? { reason } : { reason, message }),
    trapExit: (on) => {
      cell.trapExit = on;
    },
    spawn: (behavior, args, options) => runtime.spawn(behavior, args, options) as never,
    call: (target, message, options) => runtime.call(target, message, options, self) as never,
    cast: (target, message) => runtime.cast(target, message),
    send: (target, message) => runtime.send(target, message),
    link: (target) => runtime.link(self, target),
    unlink: (target) => runtime.unlink(self, target),
    monitor: (target): MonitorRef => ({ ref: runtime.monitor(target, { kind: 'process', watcher: self }) }),
    demonitor: (ref) => void runtime.demonitor(ref.ref),
    stopProcess: (target, reason, timeoutMs) => runtime.stop(target, reason, timeoutMs),
    sendAfter: (message, ms) => cell.timers.setTimeout(() => runtime.send(self, message), ms),
  };
}
