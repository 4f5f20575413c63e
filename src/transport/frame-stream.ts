/**
 * Frames over a byte stream: writes length-prefixed frames, reads them back with a bounded
 * decoder, and hands them first to the handshake (one at a time, awaited) and then to the link
 * (pushed), without losing a frame that arrived early in the same chunk.
 *
 * Guarantees: frames are delivered in order, once; a frame longer than `maxFrameBytes` or a
 * stream that ends mid-frame closes the stream with a coded error; nothing is buffered beyond
 * one frame being assembled plus the frames not yet taken. A batch of frames is written with one
 * copy into one buffer and one write, whether each frame's payload comes whole or in parts.
 */
import type { Duplex } from 'node:stream';
import { CohortError, isCohortError } from '../core/errors.js';
import { FRAME_HEADER_BYTES, FrameDecoder, encodeFrame, tooLarge } from '../codec/framing.js';

/**
 * A frame's payload: one array, or parts that go on the wire back to back as one frame (for
 * example a ciphertext and its authentication tag).
 */
export type FramePayload = Uint8Array | readonly Uint8Array[];

/** The payload bytes of a frame given whole or in parts. */
export function payloadBytes(payload: FramePayload): number {
  if (payload instanceof Uint8Array) return payload.byteLength;
  let length = 0;
  for (const part of payload) length += part.byteLength;
  return length;
}

type Waiter = { resolve: (frame: Uint8Array) => void; reject: (error: Error) => void };

export class FrameStream {
  readonly stream: Duplex;
  readonly maxFrameBytes: number;
  readonly #decoder: FrameDecoder;
  readonly #early: Uint8Array[] = [];
  #waiter: Waiter | undefined;
  #sink: ((frame: Uint8Array) => void) | undefined;
  #closed: Error | undefined;
  readonly #closeListeners: ((error: Error | undefined) => void)[] = [];

  constructor(stream: Duplex, maxFrameBytes: number) {
    this.stream = stream;
    this.maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder({ maxFrameBytes });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', (error: Error) => this.#finish(error));
    stream.on('end', () => {
      if (this.#decoder.buffered > 0) {
        this.#finish(new CohortError('FRAME_TRUNCATED', `the peer closed the stream in the middle of a frame (${this.#decoder.buffered} bytes pending)`));
      } else this.#finish(undefined);
    });
    stream.on('close', () => this.#finish(undefined));
  }

  /** Whether the stream has closed. */
  get closed(): boolean {
    return this.#closed !== undefined || this.stream.destroyed;
  }

  /** Writes one frame. Returns false when the stream asks the writer to wait for 'drain'. */
  write(payload: Uint8Array): boolean {
    if (this.closed) return false;
    return this.stream.write(encodeFrame(payload, this.maxFrameBytes));
  }

  /**
   * Writes many frames in one call: each length prefix and payload (or its parts, back to back) is
   * copied once into one buffer, written with one syscall.
   *
   * @throws CohortError `FRAME_TOO_LARGE` if a payload is longer than `maxFrameBytes`; nothing is
   *   written then.
   */
  writeMany(payloads: readonly FramePayload[]): boolean {
    if (this.closed) return false;
    let total = 0;
    for (const payload of payloads) {
      const length = payloadBytes(payload);
      if (length > this.maxFrameBytes) {
        throw tooLarge(length, this.maxFrameBytes, 'payload is');
      }
      total += FRAME_HEADER_BYTES + length;
    }
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const payload of payloads) {
      out.writeUInt32BE(payloadBytes(payload), at);
      at += FRAME_HEADER_BYTES;
      if (payload instanceof Uint8Array) {
        out.set(payload, at);
        at += payload.byteLength;
      } else {
        for (const part of payload) {
          out.set(part, at);
          at += part.byteLength;
        }
      }
    }
    return this.stream.write(out);
  }

  /**
   * Writes frames built in place, in one write: each buffer starts with `FRAME_HEADER_BYTES` left
   * free, where its length prefix is written here, followed by its payload. Unlike `writeMany`,
   * this copies nothing when there is one frame.
   *
   * @throws CohortError `FRAME_TOO_LARGE` if a payload is longer than `maxFrameBytes`; nothing is
   *   written then.
   */
  writeInPlace(frames: readonly Buffer[]): boolean {
    if (this.closed) return false;
    for (const frame of frames) {
      const length = frame.length - FRAME_HEADER_BYTES;
      if (length > this.maxFrameBytes) {
        throw tooLarge(length, this.maxFrameBytes, 'payload is');
      }
    }
    for (const frame of frames) frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
    return this.stream.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** Waits for the next frame (handshake use). Rejects when the stream closes first. */
  read(): Promise<Uint8Array> {
    const early = this.#early.shift();
    if (early !== undefined) return Promise.resolve(early);
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (this.stream.destroyed) return Promise.reject(new CohortError('NOCONNECTION', 'the stream closed'));
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** From now on, pushes every frame to `sink`, starting with those that arrived early. */
  pipeTo(sink: (frame: Uint8Array) => void): void {
    this.#sink = sink;
    while (this.#early.length > 0 && this.#sink === sink) sink(this.#early.shift()!);
  }

  /** Called once when the stream is gone, with the error that ended it if any. */
  onClose(fn: (error: Error | undefined) => void): void {
    if (this.#closed !== undefined || this.stream.destroyed) fn(this.#closed instanceof CohortError && this.#closed.code === 'NOCONNECTION' ? undefined : this.#closed);
    else this.#closeListeners.push(fn);
  }

  /** Ends the stream after pending writes, then destroys it if the peer does not close in time. */
  end(graceMs = 1000): void {
    if (this.stream.destroyed) return;
    this.stream.end();
    const timer = setTimeout(() => this.stream.destroy(), graceMs);
    timer.unref();
    this.stream.once('close', () => clearTimeout(timer));
  }

  /** Destroys the stream at once. */
  destroy(error?: Error): void {
    this.#finish(error);
    this.stream.destroy();
  }

  #onData(chunk: Buffer): void {
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.destroy(isCohortError(error) ? error : new CohortError('PROTOCOL_ERROR', 'bad frame', { cause: error }));
      return;
    }
    for (const frame of frames) {
      if (this.#sink !== undefined) {
        this.#sink(frame);
      } else if (this.#waiter !== undefined) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w.resolve(frame);
      } else {
        this.#early.push(frame);
      }
      if (this.closed) return;
    }
  }

  #finish(error: Error | undefined): void {
    if (this.#closed !== undefined) return;
    this.#closed = error ?? new CohortError('NOCONNECTION', 'the stream closed');
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(this.#closed);
    for (const fn of this.#closeListeners.splice(0)) fn(error);
    if (!this.stream.destroyed) this.stream.destroy();
  }
}
