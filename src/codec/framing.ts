/**
 * Length-prefixed framing: each frame is a u32 big-endian payload length followed by the payload.
 *
 * Guarantees. `FrameDecoder` returns frames whole and in order, whatever the chunking of the
 * stream (headers split across chunks, many frames per chunk, empty frames). It checks each
 * announced length against `maxFrameBytes` as soon as the 4 header bytes are in, before it
 * holds a single byte of the body, so a hostile header costs nothing. It holds at most one
 * incomplete frame, as a list of views into the pushed chunks, and copies once when that frame
 * completes (never once per chunk); a frame that lies wholly inside one chunk is returned as a
 * view of that chunk without copying. After a `FRAME_TOO_LARGE` error the stream is out of step
 * and the decoder refuses all further input with the same error.
 *
 * Deliberately not done: no interpretation of payloads (see `codec.ts` and `envelope.ts`), no
 * I/O, no backpressure (the transport owns the socket). The limit counts payload bytes; the 4
 * header bytes are not included.
 */
import { CohortError, describe } from '../core/errors.js';

/** The largest payload accepted by default: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The size of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** The largest length a u32 header can announce. */
const MAX_U32 = 0xffff_ffff;

/** Options for {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest payload, in bytes, a frame may announce; a larger one is `FRAME_TOO_LARGE`.
   * An integer from 0 to 2^32 - 1.
   * @default 16 MiB ({@link DEFAULT_MAX_FRAME_BYTES})
   */
  maxFrameBytes?: number;
}

/**
 * Prefixes a payload with its length, copying both into one new Buffer.
 *
 * Throws `FRAME_TOO_LARGE` if the payload is longer than `maxFrameBytes`, and `INVALID_OPTION`
 * if `maxFrameBytes` is not an integer from 0 to 2^32 - 1.
 *
 * @example
 * socket.write(encodeFrame(codec.encode(envelope('ping', {}))));
 */
export function encodeFrame(payload: Uint8Array, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Buffer {
  checkLimit(maxFrameBytes, 'encodeFrame');
  if (!(payload instanceof Uint8Array)) {
    throw new CohortError('INVALID_ARGUMENT', `encodeFrame expected a Uint8Array payload, got ${describe(payload)}`);
  }
  if (payload.byteLength > maxFrameBytes) {
    throw tooLarge(payload.byteLength, maxFrameBytes, 'payload is');
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Splits a byte stream back into frames.
 *
 * Returned frames may share memory with the chunks passed to `push`; do not write to a chunk
 * after pushing it, and copy a frame if you keep it while reusing the chunk's memory.
 *
 * @example
 * const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
 * socket.on('data', (chunk) => {
 *   for (const frame of decoder.push(chunk)) handle(codec.decode(frame));
 * });
 * socket.on('end', () => decoder.end()); // FRAME_TRUNCATED if a frame was cut off
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Views of the bytes of the incomplete frame: header bytes while `#bodyLength < 0`, else body bytes. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The announced payload length of the frame being read, or -1 while its header is incomplete. */
  #bodyLength = -1;
  #failure: CohortError | undefined;
  #ended = false;

  constructor(options: FrameDecoderOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    checkLimit(maxFrameBytes, 'FrameDecoder');
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** The largest payload this decoder accepts. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /** Bytes pushed but not yet returned in a frame (the incomplete frame, header included). */
  get buffered(): number {
    return this.#bodyLength < 0 ? this.#pendingBytes : FRAME_HEADER_BYTES + this.#pendingBytes;
  }

  /**
   * Feeds the next chunk of the stream and returns the frames it completed, in order.
   *
   * Throws `FRAME_TOO_LARGE` when a header announces more than `maxFrameBytes` (frames completed
   * earlier in the same chunk are dropped with it: the stream is broken and must be closed),
   * and again on every later call.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#ended) {
      throw new CohortError('INVALID_ARGUMENT', 'FrameDecoder.push called after end(); expected no more input');
    }
    if (!(chunk instanceof Uint8Array)) {
      throw new CohortError('INVALID_ARGUMENT', `FrameDecoder.push expected a Uint8Array chunk, got ${describe(chunk)}`);
    }
    const frames: Uint8Array[] = [];
    const end = chunk.byteLength;
    let offset = 0;
    for (;;) {
      if (this.#bodyLength < 0) {
        if (this.#pendingBytes === 0 && end - offset >= FRAME_HEADER_BYTES) {
          this.#startBody(readU32(chunk, offset));
          offset += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#pendingBytes, end - offset);
          if (take === 0) break;
          this.#hold(chunk.subarray(offset, offset + take));
          offset += take;
          if (this.#pendingBytes < FRAME_HEADER_BYTES) break;
          const header = this.#takePending(FRAME_HEADER_BYTES);
          this.#startBody(readU32(header, 0));
        }
      }
      // Reading a body of #bodyLength bytes.
      if (this.#pendingBytes === 0 && end - offset >= this.#bodyLength) {
        frames.push(chunk.subarray(offset, offset + this.#bodyLength));
        offset += this.#bodyLength;
        this.#bodyLength = -1;
        continue;
      }
      const take = Math.min(this.#bodyLength - this.#pendingBytes, end - offset);
      if (take > 0) {
        this.#hold(chunk.subarray(offset, offset + take));
        offset += take;
      }
      if (this.#pendingBytes < this.#bodyLength) break;
      frames.push(this.#takePending(this.#bodyLength));
      this.#bodyLength = -1;
    }
    return frames;
  }

  /**
   * Declares the end of the stream. Throws `FRAME_TRUNCATED` if part of a frame is still held,
   * and the stored error if the decoder had failed. Later calls to `push` throw.
   */
  end(): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#ended = true;
    const held = this.buffered;
    if (held === 0) return;
    const what =
      this.#bodyLength < 0
        ? `${held} of the ${FRAME_HEADER_BYTES} header bytes`
        : `${this.#pendingBytes} of the ${this.#bodyLength} payload bytes its header announced`;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#bodyLength = -1;
    throw new CohortError(
      'FRAME_TRUNCATED',
      `stream ended in the middle of a frame: got ${what}; expected the stream to end on a frame boundary`,
      { details: { bufferedBytes: held } },
    );
  }

  #startBody(length: number): void {
    if (length > this.#maxFrameBytes) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#failure = tooLarge(length, this.#maxFrameBytes, 'frame header announces');
      throw this.#failure;
    }
    this.#bodyLength = length;
  }

  #hold(view: Uint8Array): void {
    this.#pending.push(view);
    this.#pendingBytes += view.byteLength;
  }

  /** Returns the held bytes (exactly `length` of them) as one array and forgets them. */
  #takePending(length: number): Uint8Array {
    const parts = this.#pending;
    const whole = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, length);
    this.#pending = [];
    this.#pendingBytes = 0;
    return whole;
  }
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) * 0x1000000 +
      (((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)))
  );
}

/** The error for a frame of `length` payload bytes over `maxFrameBytes`; `what` starts the sentence (e.g. `'payload is'`). */
export function tooLarge(length: number, maxFrameBytes: number, what: string): CohortError {
  return new CohortError(
    'FRAME_TOO_LARGE',
    `${what} ${length} bytes; expected at most maxFrameBytes = ${maxFrameBytes}`,
    { details: { length, maxFrameBytes } },
  );
}

function checkLimit(maxFrameBytes: unknown, where: string): void {
  if (!Number.isInteger(maxFrameBytes) || (maxFrameBytes as number) < 0 || (maxFrameBytes as number) > MAX_U32) {
    throw new CohortError(
      'INVALID_OPTION',
      `${where}: maxFrameBytes must be an integer from 0 to ${MAX_U32}, got ${describe(maxFrameBytes)}`,
    );
  }
}
