/**
 * The catalog of error codes, grouped by the layer that raises them.
 *
 * A code is a stable string: once released it never changes meaning and is never removed, so
 * callers may switch on it and peers running other versions can rebuild errors from it. Each
 * entry says whether a failure with that code is worth retrying elsewhere by default; the
 * error itself may override that. New codes are only ever added.
 */

/** Static facts about one error code. */
export interface CodeInfo {
  /** The layer that raises it. */
  readonly layer: 'core' | 'codec' | 'transport' | 'cluster' | 'process' | 'remote' | 'services';
  /** Whether a caller may retry the operation (possibly elsewhere) by default. */
  readonly retryable: boolean;
  /** One line for docs and diagnostics. */
  readonly summary: string;
}

const entry = (layer: CodeInfo['layer'], retryable: boolean, summary: string): CodeInfo =>
  Object.freeze({ layer, retryable, summary });

/** Every code cohort raises, with its layer and default retryability. */
export const ERROR_CODES = Object.freeze({
  // core
  INVALID_ARGUMENT: entry('core', false, 'An argument did not have the expected shape or range.'),
  INVALID_OPTION: entry('core', false, 'An option passed to an entry point was invalid.'),
  INVALID_NODE_ID: entry('core', false, 'A node id did not parse as name@host:port.'),
  INVALID_PID: entry('core', false, 'A process id did not parse or was not a pid.'),
  TIMEOUT: entry('core', true, 'The operation did not finish before its deadline; it may or may not have happened.'),
  ABORTED: entry('core', false, 'The operation was cancelled by its caller.'),
  INTERNAL: entry('core', false, 'An invariant inside cohort was broken; please report it.'),
  UNKNOWN: entry('core', false, 'An error that carried no cohort code.'),

  // codec
  ENCODE_FAILED: entry('codec', false, 'A value could not be encoded for the wire.'),
  DECODE_FAILED: entry('codec', false, 'Bytes could not be decoded into a value.'),
  FRAME_TOO_LARGE: entry('codec', false, 'A frame announced or needed more bytes than maxFrameBytes allows.'),
  FRAME_TRUNCATED: entry('codec', false, 'The stream ended in the middle of a frame.'),
  BAD_ENVELOPE: entry('codec', false, 'A decoded message was not a valid envelope.'),
  UNSUPPORTED_VERSION: entry('codec', false, 'A peer or message used a protocol version this node does not speak.'),

  // transport and cluster (raised from the cluster issue on; reserved here so codes stay stable)
  NOCONNECTION: entry('transport', true, 'The node that should handle the request is not connected.'),
  QUEUE_FULL: entry('transport', true, 'The bounded send queue to a peer is full.'),
  AUTH_FAILED: entry('transport', false, 'A peer failed authentication.'),
  PROTOCOL_ERROR: entry('transport', false, 'A peer broke the wire protocol.'),
  DUPLICATE_LINK: entry('transport', false, 'A second link to the same peer was refused; the other one is kept.'),
  NODE_STOPPED: entry('cluster', false, 'The node has been stopped.'),

  // process
  NOPROC: entry('process', false, 'No process is alive at that pid or name.'),
  PROCESS_EXITED: entry('process', true, 'The process exited before it replied.'),
  BAD_REQUEST: entry('process', false, 'A message or argument failed validation.'),
  UNKNOWN_BEHAVIOR: entry('process', false, 'No behavior is registered under that name.'),
  INIT_FAILED: entry('process', false, 'A process failed in init and did not start.'),
  NAME_TAKEN: entry('process', false, 'The name is already registered to another process.'),
  NOT_FOUND: entry('process', false, 'The named thing does not exist.'),
  MAX_RESTARTS: entry('process', false, 'A supervisor exceeded its restart intensity and exited.'),
  ALREADY_STARTED: entry('process', false, 'A child with that id is already running.'),
  MAX_CHILDREN: entry('process', true, 'A dynamic supervisor already runs its maximum number of children.'),

  // remote and services (raised from later issues on; reserved here)
  REMOTE_ERROR: entry('remote', false, 'The remote handler threw; the error carries its name, message and code.'),
  UNAVAILABLE: entry('services', true, 'The service is temporarily unavailable.'),
  NO_PROVIDERS: entry('services', true, 'No node provides the service.'),
  ALL_PROVIDERS_FAILED: entry('services', false, 'Every provider of the service failed.'),
  MAX_ATTEMPTS_EXCEEDED: entry('services', false, 'The call failed on every attempt allowed.'),
  CIRCUIT_OPEN: entry('services', true, 'The provider is failing and its circuit breaker is open.'),
} as const satisfies Record<string, CodeInfo>);

/** A code cohort itself raises. Errors from peers may carry codes outside this set. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a string is one of cohort's own codes. */
export function isKnownCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
