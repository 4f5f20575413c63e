/**
 * The versioned message envelope: `{ v, type, body }`, on the wire the tuple `[v, type, body]`
 * (a tuple encodes and decodes faster than an object, and every message pays for it).
 *
 * Every message between nodes is wrapped in an envelope whose `v` is the major version of the
 * message format. A node opens only envelopes of its own major version and refuses others with
 * `UNSUPPORTED_VERSION`, naming both versions, so an incompatible peer is rejected clearly
 * instead of being misread. `openEnvelope` checks the shape only; what `body` must look like for
 * a given `type` is the business of the layer that handles that type. Fields other than `v`,
 * `type` and `body` (elements past the third) are ignored and dropped. The version is a single integer: there is no minor
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

/** An envelope as it is encoded: `[v, type, body]`. */
export type WireEnvelope<T = unknown> = readonly [v: number, type: string, body: T];

/**
 * Wraps a body in an envelope of the current version, in its wire form.
 *
 * Throws `INVALID_ARGUMENT` if `type` is not a non-empty string of at most 128 characters.
 *
 * @example
 * codec.encode(envelope('call', { ref, msg: { type: 'get' } }));
 */
export function envelope<T>(type: string, body: T): WireEnvelope<T> {
  const problem = typeProblem(type);
  if (problem !== undefined) {
    throw new CohortError('INVALID_ARGUMENT', `envelope type ${problem}`);
  }
  return [ENVELOPE_VERSION, type, body];
}

/**
 * Checks that a decoded value is an envelope this node can read and returns it as a fresh object.
 *
 * Throws `BAD_ENVELOPE` if the value is not an array of two or three elements or more, or `v` is
 * not a non-negative integer, or `type` is not a non-empty string of at most 128 characters; throws
 * `UNSUPPORTED_VERSION` if `v` is a different major version (checked before `type`, since
 * another version may shape its envelopes differently). A missing `body` reads as `undefined`.
 *
 * @example
 * const { type, body } = openEnvelope(codec.decode(frame));
 */
export function openEnvelope(value: unknown): Envelope {
  const type = envelopeType(value);
  return { v: ENVELOPE_VERSION, type, body: (value as WireEnvelope)[2] };
}

/**
 * Checks a decoded value as {@link openEnvelope} does and returns just its type, so a receiver
 * that reads the body as `value[2]` allocates nothing per message.
 *
 * @throws CohortError `BAD_ENVELOPE`, `UNSUPPORTED_VERSION` (see {@link openEnvelope}).
 */
export function envelopeType(value: unknown): string {
  if (!Array.isArray(value) || value.length < 2) {
    throw new CohortError('BAD_ENVELOPE', `expected an envelope [v, type, body], got ${describe(value)}`);
  }
  const v: unknown = value[0];
  if (v !== ENVELOPE_VERSION) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new CohortError(
        'BAD_ENVELOPE',
        `envelope version must be a non-negative integer, got ${describe(v)}; expected ${ENVELOPE_VERSION}`,
      );
    }
    throw new CohortError(
      'UNSUPPORTED_VERSION',
      `envelope version ${v} is not supported: this node speaks envelope version ${ENVELOPE_VERSION}`,
      { details: { received: v, supported: ENVELOPE_VERSION } },
    );
  }
  const type: unknown = value[1];
  if (typeof type === 'string' && type.length > 0 && type.length <= MAX_ENVELOPE_TYPE_LENGTH) return type;
  throw new CohortError('BAD_ENVELOPE', `envelope type ${typeProblem(type)!}`);
}

function typeProblem(type: unknown): string | undefined {
  if (typeof type !== 'string') return `must be a string, got ${describe(type)}`;
  if (type.length === 0) return 'must not be empty';
  if (type.length > MAX_ENVELOPE_TYPE_LENGTH) {
    return `must be at most ${MAX_ENVELOPE_TYPE_LENGTH} characters, got ${type.length}`;
  }
  return undefined;
}
