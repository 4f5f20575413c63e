/**
 * The errors the runtime raises for a bad target or a bad timeout, with messages that say what was
 * wrong: no process by that name, a pid of an earlier run of this node, a pid of another node this
 * one is not connected to, or a value that is not a pid at all.
 */
import { CohortError, describe } from '../core/errors.js';
import { formatPid, isPid, type NodeId, type Pid } from '../core/ids.js';

/** The error for a target that names no live process; `consequence` says what did not happen. */
export function noproc(runtime: { readonly node: NodeId; readonly incarnation: number }, target: Pid | string, consequence: string): CohortError {
  if (typeof target === 'string') {
    return new CohortError('NOPROC', `no process is registered as '${target}'; ${consequence}`, { details: { name: target } });
  }
  if (!isPid(target)) {
    return new CohortError('INVALID_PID', `expected a pid or a registered name, got ${describe(target)}`);
  }
  if (target.node !== runtime.node) {
    return new CohortError(
      'NOCONNECTION',
      `${formatPid(target)} lives on node ${target.node}, which this node is not connected to; ${consequence}`,
      { details: { pid: target, node: target.node } },
    );
  }
  const why = target.incarnation !== runtime.incarnation ? 'it belongs to an earlier run of this node' : 'it is not alive';
  return new CohortError('NOPROC', `no process ${formatPid(target)}: ${why}; ${consequence}`, { details: { pid: target } });
}

/** Validates an optional timeout; throws `INVALID_ARGUMENT` for anything but a positive finite number. */
export function checkTimeout(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new CohortError('INVALID_ARGUMENT', `${what} must be a positive finite number of milliseconds, got ${describe(value)}`);
  }
  return value;
}
