/**
 * The versioned message envelope: `{ v, type, body }`.
 *
 * Every message between nodes is wrapped in an envelope whose `v` is the major version of the
 * message format. A node opens only envelopes of its own major version and refuses others with
 * `UNSUPPORTED_VERSION`, naming both versions, so an incompatible peer is rejected clearly
 * instead of being misread. `openEnvelope` checks the shape only; what `body` must look like for
 * a given `type` is the business of the layer that handles that type. Fields other than `v`,
 * `type` and `body` are ignored and dropped. The version is a single integer: there is no minor
 * version, because changes that old nodes can ignore need no version bump at all.
 */
import { CohortError, describe } from '../core/errors.js';

/** The major version of the envelope format this node writes and accepts. */
export const ENVELOPE_VERSION = 1;

/** The longest `type` an envelope may carry, in UTF-16 code units. */
export const MAX_ENVELOPE_TYPE_LENGTH = 128;

/** One message on the wire. */
export interface Envelope<T = unknown> {
  /** The major version of the envelope format, {@link ENVELOPE_VERSION} when written by this node. */
  v: number;
  /** What the message is, e.g. `'call'` or `'gossip'`: a non-empty string of at most 128 characters. */
  type: string;
  /** The payload; its shape depends on `type`. */
  body: T;
}

/**
 * Wraps a body in an envelope of the current version.
 *
 * Throws `INVALID_ARGUMENT` if `type` is not a non-empty string of at most 128 characters.
 *
 * @example
 * codec.encode(envelope('call', { ref, msg: { type: 'get' } }));
 */
export function envelope<T>(type: string, body: T): Envelope<T> {
  const problem = typeProblem(type);
  if (problem !== undefined) {
    throw new CohortError('INVALID_ARGUMENT', `envelope type ${problem}`);
  }
  return { v: ENVELOPE_VERSION, type, body };
}

/**
 * Checks that a decoded value is an envelope this node can read and returns it as a fresh object.
 *
 * Throws `BAD_ENVELOPE` if the value is not a plain object, or `v` is missing or not a
 * non-negative integer, or `type` is not a non-empty string of at most 128 characters; throws
 * `UNSUPPORTED_VERSION` if `v` is a different major version (checked before `type`, since
 * another version may shape its envelopes differently). A missing `body` reads as `undefined`.
 *
 * @example
 * const { type, body } = openEnvelope(codec.decode(frame));
 */
export function openEnvelope(value: unknown): Envelope {
  if (!isPlainObject(value)) {
    throw new CohortError('BAD_ENVELOPE', `expected an envelope object { v, type, body }, got ${describe(value)}`);
  }
  if (!Object.hasOwn(value, 'v')) {
    throw new CohortError('BAD_ENVELOPE', `envelope has no version "v"; expected v: ${ENVELOPE_VERSION}`);
  }
  const v = value['v'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new CohortError(
      'BAD_ENVELOPE',
      `envelope version "v" must be a non-negative integer, got ${describe(v)}; expected ${ENVELOPE_VERSION}`,
    );
  }
  if (v !== ENVELOPE_VERSION) {
    throw new CohortError(
      'UNSUPPORTED_VERSION',
      `envelope version ${v} is not supported: this node speaks envelope version ${ENVELOPE_VERSION}`,
      { details: { received: v, supported: ENVELOPE_VERSION } },
    );
  }
  const type = Object.hasOwn(value, 'type') ? value['type'] : undefined;
  const problem = typeProblem(type);
  if (problem !== undefined) {
    throw new CohortError('BAD_ENVELOPE', `envelope type ${problem}`);
  }
  return { v, type: type as string, body: Object.hasOwn(value, 'body') ? value['body'] : undefined };
}

function typeProblem(type: unknown): string | undefined {
  if (typeof type !== 'string') return `must be a string, got ${describe(type)}`;
  if (type.length === 0) return 'must not be empty';
  if (type.length > MAX_ENVELOPE_TYPE_LENGTH) {
    return `must be at most ${MAX_ENVELOPE_TYPE_LENGTH} characters, got ${type.length}`;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
