/**
 * The default wire codec: MessagePack through msgpackr.
 *
 * Guarantees. Every message is self-contained: no structure table is shared between messages
 * or peers, so any message decodes on its own, in any order, by any codec instance. These
 * survive a round trip with their type: plain objects, arrays, strings, booleans, `null`,
 * `undefined` (also inside objects and arrays; holes in sparse arrays come back as `undefined`),
 * numbers including `NaN` and `±Infinity`, `BigInt` of any size (int64 or uint64 when it fits,
 * else msgpackr's bigint extension; a bigint always comes back as a bigint), `Date` (millisecond
 * precision, also invalid dates), `Map` and `Set` (insertion order kept, keys of any type),
 * `Uint8Array` (comes back as `Uint8Array`), Node `Buffer` (comes back as `Buffer`), the other
 * typed arrays, `ArrayBuffer`, `DataView`, `RegExp`, and `Error` with its `name`, `message` and
 * `cause` (`TypeError`, `RangeError` and the other built-in classes come back as themselves; any
 * other name comes back as an `Error` that keeps the name). By default decoded binary data does
 * not share memory with the input. Hostile input (random, truncated, a header that claims
 * gigabytes, deep nesting) fails with `DECODE_FAILED`, fast, and without allocating more than
 * the input justifies.
 *
 * Two forms, chosen per message by the encoder and told apart by the first byte:
 * - Small messages (at most 64 values) made only of plain objects, arrays, `Set`s and leaf values
 *   (primitives, `Date`, binary data, `RegExp`) are plain MessagePack: objects are maps, and maps
 *   decode as plain objects. This is the form almost every call, reply and cast takes, and the
 *   fastest to write and read.
 * - Everything else (a `Map` anywhere, an `Error`, a class instance, or more than 64 values) is
 *   the byte 0xc1, which MessagePack never uses, followed by MessagePack in which plain objects
 *   are msgpackr records (defined inline in the message) and maps decode as `Map`s: the only way
 *   to keep `Map` and plain objects apart, and compact for many objects of the same shape.
 * A plain MessagePack map from another encoder therefore decodes as a plain object.
 *
 * Deliberately not done, and why:
 * - `-0` arrives as `0`: msgpackr writes integral numbers in integer formats.
 * - An error's `stack`, `code` and other own properties do not travel (stacks do not leave the
 *   node that made them; send `toWireError(e)` from `core/errors` to carry a `CohortError`).
 * - `AggregateError` does not survive: msgpackr 2.x rebuilds it as `AggregateError(message)`, so
 *   its message turns into its `errors`. Send the inner errors as an array instead.
 * - Class instances travel as their `toJSON()` result if they have one, else as their own
 *   enumerable properties, and arrive as plain objects. Symbol-keyed properties are skipped.
 * - Functions and symbols are refused with `ENCODE_FAILED` rather than silently dropped; so are
 *   circular structures (no reference tracking: it costs about a quarter of the speed and would
 *   let a peer build shared or cyclic graphs in our memory).
 * - Strings must be well-formed UTF-16: a lone surrogate turns into U+FFFD, as UTF-8 demands.
 * - An object key `__proto__` arrives as an own property named `__proto_` (msgpackr renames it
 *   while decoding, before the object exists); it never becomes a prototype.
 */
import { Packr, Unpackr, type Options } from 'msgpackr';
import { CohortError, describe, isCohortError } from '../core/errors.js';
import type { Codec } from './codec.js';

/** Options for {@link msgpackCodec}. */
export interface MsgpackCodecOptions {
  /**
   * Copy decoded binary data (`Buffer`, MessagePack `bin`) out of the input. With `false` a
   * decoded `Buffer` is a view into the bytes passed to `decode`, which is faster but keeps the
   * whole input alive and lets later writes to it show through.
   * @default true
   */
  copyBuffers?: boolean;
}

/** The defaults of {@link MsgpackCodecOptions}. */
export const MSGPACK_DEFAULTS = Object.freeze({
  copyBuffers: true,
} as const satisfies Required<MsgpackCodecOptions>);

/** Longest stretch of a msgpackr error message quoted in ours. */
const MAX_QUOTED_CHARS = 200;

/**
 * The msgpackr options, chosen deliberately. A fresh object per instance, because msgpackr
 * writes into the options object it is given.
 */
function packrOptions(copyBuffers: boolean, records: boolean): Options {
  return {
    // With records: plain objects travel as msgpackr records and MessagePack maps decode as JS
    // `Map`s, which keeps the two apart. No `structures`, `saveStructures` or `sequential`, so
    // each message defines its records inline: nothing is shared between messages or peers, and
    // an untrusted decoder forgets them after every message. Without: objects are maps, and maps
    // decode as plain objects (only for messages without a `Map`, see `plainEnough`).
    useRecords: records,
    mapsAsObjects: !records,
    // Set, Error, RegExp, typed arrays (Uint8Array stays apart from Buffer) and BigInt beyond 64 bits.
    moreTypes: true,
    // No reference tracking on encode, and the reference extensions are refused on decode.
    structuredClone: false,
    // int64 and uint64 always decode as bigint, so a bigint comes back as a bigint.
    int64AsType: 'bigint',
    copyBuffers,
    // A function would otherwise be sent as `undefined`; refuse it instead.
    writeFunction: refuseFunction,
  };
}

function refuseFunction(value?: unknown): never {
  throw new CohortError(
    'ENCODE_FAILED',
    `cannot encode ${describe(value)}: functions do not cross the wire; expected plain data ` +
      '(send a registered behavior or service name instead of code)',
  );
}

/**
 * Creates a MessagePack codec backed by its own msgpackr encoder and decoder.
 *
 * `encode` throws `ENCODE_FAILED` for functions, symbols, circular structures and anything else
 * msgpackr refuses; `decode` throws `DECODE_FAILED` for bytes that are not exactly one value.
 * The bytes `encode` returns may be a view into a larger pooled buffer; do not write to them.
 *
 * @example
 * const codec = msgpackCodec();
 * const bytes = codec.encode({ at: new Date(0), tags: new Set(['a']), n: 2n ** 70n });
 * codec.decode(bytes); // { at: Date(0), tags: Set { 'a' }, n: 1180591620717411303424n }
 */
export function msgpackCodec(options: MsgpackCodecOptions = {}): Codec {
  const copyBuffers = options.copyBuffers ?? MSGPACK_DEFAULTS.copyBuffers;
  if (typeof copyBuffers !== 'boolean') {
    throw new CohortError('INVALID_OPTION', `msgpackCodec: copyBuffers must be a boolean, got ${describe(copyBuffers)}`);
  }
  // Separate encoder and decoder instances: msgpackr's would otherwise share one structure table.
  const plainPackr = new Packr(packrOptions(copyBuffers, false));
  const plainUnpackr = new Unpackr(packrOptions(copyBuffers, false));
  const recordPackr = new Packr(packrOptions(copyBuffers, true));
  const recordUnpackr = new Unpackr(packrOptions(copyBuffers, true));

  /** Decodes the one value in `buffer` from `start` to `end`. */
  const unpackRange = (buffer: Buffer, start: number, end: number): unknown => {
    try {
      if (start === end) throw new Error('no bytes to decode');
      return buffer[start] === RECORDS_MARK ? recordUnpackr.unpack(buffer, { start: start + 1, end }) : plainUnpackr.unpack(buffer, { start, end });
    } catch (error) {
      throw new CohortError(
        'DECODE_FAILED',
        `cannot decode ${end - start} bytes as msgpack: ${quote(error)}; expected exactly one ` +
          'complete value written by a cohort msgpack codec',
        { cause: error },
      );
    }
  };

  return Object.freeze({
    name: 'msgpack',
    encode(value: unknown): Uint8Array {
      try {
        if (plainEnough(value)) return plainPackr.pack(value);
        const body = recordPackr.pack(value);
        const out = Buffer.allocUnsafe(body.byteLength + 1);
        out[0] = RECORDS_MARK;
        out.set(body, 1);
        return out;
      } catch (error) {
        if (isCohortError(error)) throw error;
        throw new CohortError(
          'ENCODE_FAILED',
          `cannot encode ${describe(value)} as msgpack: ${quote(error)}; expected plain data without ` +
            'cycles, functions or symbols',
          { cause: error },
        );
      }
    },
    decode(bytes: Uint8Array): unknown {
      if (!(bytes instanceof Uint8Array)) {
        throw new CohortError('DECODE_FAILED', `msgpack decode expected a Uint8Array, got ${describe(bytes)}`);
      }
      // A fresh Buffer view (no copy): msgpackr caches a DataView on the object it reads, which
      // must not land on the caller's object, and a Buffer makes `bin` data decode as a Buffer.
      const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return unpackRange(view, 0, view.length);
    },
    decodeRange(buffer: Buffer, start: number, end: number): unknown {
      if (!Buffer.isBuffer(buffer) || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > buffer.length) {
        throw new CohortError('DECODE_FAILED', `msgpack decodeRange expected a Buffer and a range within it, got ${describe(buffer)} from ${start} to ${end}`);
      }
      return unpackRange(buffer, start, end);
    },
  });
}

/** The first byte of the record form: a code MessagePack never uses. */
const RECORDS_MARK = 0xc1;
/** The most objects, arrays and sets a message in the plain form holds. */
const PLAIN_BUDGET = 64;

/**
 * Whether `value` can travel in the plain form: at most {@link PLAIN_BUDGET} containers, each a
 * plain object, an array or a `Set`, and leaves that msgpackr writes the same way in both forms.
 * Stops at the first thing that needs records (so a cycle, too, costs at most the budget).
 */
function plainEnough(value: unknown): boolean {
  return typeof value !== 'object' || value === null || plainWithin(value, PLAIN_BUDGET) >= 0;
}

/** What is left of `budget` after the containers in `v`, or -1 when `v` needs the record form. */
function plainWithin(v: unknown, budget: number): number {
  if (typeof v !== 'object' || v === null) return budget;
  if (--budget < 0) return -1;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && budget >= 0; i++) budget = plainWithin(v[i], budget);
    return budget;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    for (const key in v) {
      budget = plainWithin((v as Record<string, unknown>)[key], budget);
      if (budget < 0) return -1;
    }
    return budget;
  }
  if (v instanceof Set) {
    for (const x of v) {
      budget = plainWithin(x, budget);
      if (budget < 0) return -1;
    }
    return budget;
  }
  return v instanceof Date || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof RegExp ? budget : -1;
}

function quote(error: unknown): string {
  const text = error instanceof Error ? error.message : describe(error);
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS - 3)}...` : text;
}
