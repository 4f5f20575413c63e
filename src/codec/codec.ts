/**
 * `Codec`: the seam between values and the bytes that travel in frames.
 *
 * A codec turns one value into one self-contained byte string and back. It guarantees that a
 * value made of the supported types (each codec's header lists them) survives `decode(encode(v))`,
 * that `decode` never lets a hostile key such as `__proto__` become a prototype, and that every
 * failure is a `CohortError` (`ENCODE_FAILED` or `DECODE_FAILED`) that says what went wrong.
 * A codec deliberately knows nothing of frames, envelopes or sockets; it holds no state that one
 * message could leave behind for the next, so peers never need to agree on anything but its name.
 *
 * Object keys named `__proto__`: both built-in codecs deliver them as an own data property named
 * `__proto_` (the rule msgpackr applies while decoding, which the JSON codec copies so that the
 * two codecs agree). `constructor` and `prototype` stay ordinary own data properties.
 */

/**
 * Turns values into bytes and bytes into values. Implement this to plug in another wire format.
 *
 * @example
 * const codec: Codec = msgpackCodec();
 * const bytes = codec.encode({ type: 'get', at: new Date() });
 * codec.decode(bytes); // { type: 'get', at: Date }
 */
export interface Codec {
  /** A short stable name, e.g. `'msgpack'`, used in options and diagnostics. */
  readonly name: string;
  /** Encodes one value; throws `ENCODE_FAILED` for a value the codec cannot represent. */
  encode(value: unknown): Uint8Array;
  /** Decodes exactly one value from `bytes`; throws `DECODE_FAILED` for anything malformed. */
  decode(bytes: Uint8Array): unknown;
  /**
   * Optional, for speed: decodes exactly one value from the bytes of `buffer` from `start` to
   * `end`, as `decode(buffer.subarray(start, end))` would, without making that view. A node reads
   * every incoming message this way when the codec has it. `buffer` belongs to the caller, who
   * lets the codec cache data on the object (msgpackr keeps a `DataView` there).
   */
  decodeRange?(buffer: Buffer, start: number, end: number): unknown;
}

/** `codec.decodeRange`, or the same through `decode` and a view for a codec without it. */
export function rangeDecoder(codec: Codec): (buffer: Buffer, start: number, end: number) => unknown {
  const decodeRange = codec.decodeRange;
  if (decodeRange !== undefined) return (buffer, start, end) => decodeRange.call(codec, buffer, start, end);
  return (buffer, start, end) => codec.decode(buffer.subarray(start, end));
}
