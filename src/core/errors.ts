/**
 * `CohortError`: the one error type every cohort API rejects or throws with.
 *
 * An error has a stable string `code` from the catalog in `codes.ts`, a `retryable` flag, optional
 * `details` (plain data), the `node` it came from and a `cause`. Errors cross the wire as plain data
 * (`WireError`) and are rebuilt by code on the other side; a code this node does not know is kept
 * as it is, never replaced. Stacks do not travel.
 */
import { ERROR_CODES, isKnownCode, type ErrorCode } from './codes.js';

/** Options for constructing a {@link CohortError}. */
export interface CohortErrorOptions {
  /** What caused this error; shown by `util.inspect` and preserved across the wire as data. */
  cause?: unknown;
  /** Structured facts about the failure (plain, wire-safe data). */
  details?: Record<string, unknown>;
  /** Overrides the code's default retryability. */
  retryable?: boolean;
  /** The node id the error was raised on. */
  node?: string;
}

/** The plain-data form of an error, as it travels between nodes. */
export interface WireError {
  code: string;
  name: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
  node?: string;
  cause?: WireError;
}

/** How deep a chain of causes is serialised before it is cut. */
const MAX_CAUSE_DEPTH = 4;

/**
 * The base error of cohort. Switch on `code`, never on `message`.
 *
 * @example
 * try { await node.call(ref, { type: 'get' }) }
 * catch (e) { if (isCohortError(e) && e.code === 'TIMEOUT') { ... } }
 */
export class CohortError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly node: string | undefined;

  constructor(code: ErrorCode | (string & {}), message: string, options: CohortErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CohortError';
    this.code = code;
    this.retryable = options.retryable ?? (isKnownCode(code) ? ERROR_CODES[code].retryable : false);
    this.details = options.details;
    this.node = options.node;
  }

  /** The wire form of this error. */
  toWire(): WireError {
    return toWireError(this);
  }

  /** Rebuilds an error from its wire form; anything malformed becomes an `UNKNOWN` error that says so. */
  static fromWire(data: unknown): CohortError {
    return fromWireError(data, 0);
  }
}

/** Whether a value is a {@link CohortError} (also one built by another copy of this package). */
export function isCohortError(value: unknown): value is CohortError {
  if (value instanceof CohortError) return true;
  return (
    value instanceof Error &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { retryable?: unknown }).retryable === 'boolean' &&
    value.name === 'CohortError'
  );
}

/** Shorthand for `new CohortError(code, message, options)`. */
export function cohortError(code: ErrorCode, message: string, options?: CohortErrorOptions): CohortError {
  return new CohortError(code, message, options);
}

/**
 * Converts any thrown value to wire data. A `CohortError` keeps its code; another `Error` keeps its
 * name and message under code `UNKNOWN` (or its own string `code`, as Node's system errors have);
 * anything else is described by `String(value)`.
 */
export function toWireError(value: unknown, depth = 0): WireError {
  if (isCohortError(value)) {
    const wire: WireError = {
      code: value.code,
      name: value.name,
      message: value.message,
      retryable: value.retryable,
    };
    if (value.details !== undefined) wire.details = value.details;
    if (value.node !== undefined) wire.node = value.node;
    if (value.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWireError(value.cause, depth + 1);
    return wire;
  }
  if (value instanceof Error) {
    const own = (value as { code?: unknown }).code;
    const wire: WireError = {
      code: typeof own === 'string' && own.length > 0 ? own : 'UNKNOWN',
      name: value.name,
      message: value.message,
      retryable: false,
    };
    if (value.cause !== undefined && depth < MAX_CAUSE_DEPTH) wire.cause = toWireError(value.cause, depth + 1);
    return wire;
  }
  return { code: 'UNKNOWN', name: 'Error', message: describe(value), retryable: false };
}

function fromWireError(data: unknown, depth: number): CohortError {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return new CohortError('UNKNOWN', `malformed error data from peer: ${describe(data)}`);
  }
  const d = data as Partial<Record<keyof WireError, unknown>>;
  const hasCode = typeof d.code === 'string' && d.code.length > 0;
  const hasMessage = typeof d.message === 'string';
  if (!hasCode || !hasMessage) {
    // Say that the data was malformed, keep what could be read, and do not trust its retryability.
    const missing = [hasCode ? '' : "'code'", hasMessage ? '' : "'message'"].filter((m) => m !== '').join(' and ');
    const options: CohortErrorOptions = { retryable: false };
    if (hasCode) options.details = { wireCode: d.code };
    if (typeof d.node === 'string') options.node = d.node;
    if (d.cause !== undefined && depth < MAX_CAUSE_DEPTH) options.cause = fromWireError(d.cause, depth + 1);
    const text = hasMessage ? `: ${String(d.message)}` : '';
    return new CohortError('UNKNOWN', `malformed error data from peer (missing ${missing})${text}`, options);
  }
  const code = d.code as string;
  const message = d.message as string;
  const options: CohortErrorOptions = {};
  if (typeof d.retryable === 'boolean') options.retryable = d.retryable;
  if (typeof d.node === 'string') options.node = d.node;
  if (typeof d.details === 'object' && d.details !== null && !Array.isArray(d.details)) {
    options.details = d.details as Record<string, unknown>;
  }
  if (typeof d.name === 'string' && d.name !== 'CohortError') {
    // Keep the original error's name (e.g. 'TypeError') visible without breaking isCohortError.
    options.details = { ...options.details, originalName: d.name };
  }
  if (d.cause !== undefined && depth < MAX_CAUSE_DEPTH) options.cause = fromWireError(d.cause, depth + 1);
  return new CohortError(code, message, options);
}

/** Wraps any thrown value into a `CohortError`, leaving `CohortError`s untouched. */
export function asCohortError(value: unknown, code: ErrorCode = 'UNKNOWN', message?: string): CohortError {
  if (isCohortError(value)) return value;
  const text = message ?? (value instanceof Error ? value.message : describe(value));
  return new CohortError(code, text, { cause: value });
}

/**
 * The error of a message to `node` that could not be sent: the send's own error when it says
 * something more specific (`QUEUE_FULL`, `FRAME_TOO_LARGE`, ...), else `NOCONNECTION` naming the
 * node and `what` was not done (e.g. "the call of math.add was not sent").
 */
export function unreachable(node: string, what: string, cause: unknown): CohortError {
  if (cause instanceof CohortError && cause.code !== 'NOCONNECTION') return cause;
  return new CohortError('NOCONNECTION', `node ${node} is not reachable; ${what}`, { details: { node }, cause });
}

/** A short, safe description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol') return value.toString();
  if (Array.isArray(value)) return `array(${value.length})`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== 'Object' ? `a ${ctor.name}` : 'an object';
}
