/**
 * The codec layer: turning values into frames of bytes and back.
 *
 * It offers the `Codec` seam with two built-in codecs (msgpack, the default, and JSON for
 * debugging), the versioned message envelope and length-prefixed framing, and resolves a codec
 * option given by name or by value. It knows nothing of sockets, nodes or processes.
 */
import { CohortError, describe } from '../core/errors.js';
import type { Codec } from './codec.js';
import { jsonCodec } from './json.js';
import { msgpackCodec } from './msgpack.js';

export type { Codec } from './codec.js';
export { msgpackCodec, MSGPACK_DEFAULTS, type MsgpackCodecOptions } from './msgpack.js';
export { jsonCodec, JSON_DEFAULTS, JSON_TAG_KEY, type JsonCodecOptions } from './json.js';
export { ENVELOPE_VERSION, MAX_ENVELOPE_TYPE_LENGTH, envelope, openEnvelope, type Envelope, type WireEnvelope } from './envelope.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  encodeFrame,
  type FrameDecoderOptions,
} from './framing.js';

/** The names of the built-in codecs. */
export const CODEC_NAMES = Object.freeze(['msgpack', 'json'] as const);

/** The name of a built-in codec. */
export type CodecName = (typeof CODEC_NAMES)[number];

/**
 * Returns a codec for a codec option: a fresh instance for a built-in name, or the given object
 * if it is a codec (a string `name` and `encode` and `decode` functions).
 *
 * Throws `INVALID_OPTION` for an unknown name or any other value; the message lists the names.
 *
 * @example
 * const codec = resolveCodec(options.codec ?? 'msgpack');
 */
export function resolveCodec(nameOrCodec: CodecName | Codec): Codec {
  if (nameOrCodec === 'msgpack') return msgpackCodec();
  if (nameOrCodec === 'json') return jsonCodec();
  if (isCodec(nameOrCodec)) return nameOrCodec;
  const names = CODEC_NAMES.map((name) => `'${name}'`).join(', ');
  throw new CohortError(
    'INVALID_OPTION',
    `unknown codec ${describe(nameOrCodec)}; expected one of ${names} or an object with a string name ` +
      'and encode and decode functions',
  );
}

function isCodec(value: unknown): value is Codec {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof Codec, unknown>>;
  return (
    typeof candidate.name === 'string' &&
    candidate.name.length > 0 &&
    typeof candidate.encode === 'function' &&
    typeof candidate.decode === 'function'
  );
}
