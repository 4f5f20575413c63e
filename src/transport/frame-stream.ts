/**
 * Frames over a byte stream: writes length-prefixed frames, reads them back with a bounded
 * decoder, and hands them first to the handshake (one at a time, awaited) and then to the link
 * (pushed), without losing a frame that arrived early in the same chunk.
 *
 * Guarantees: frames are delivered in order, once; a frame longer than `maxFrameBytes` or a
 * stream that ends mid-frame closes the stream with a coded error; nothing is buffered beyond
 * one frame being assembled plus the frames not yet taken.
 */
import type { Duplex } from 'node:stream';
import { CohortError, isCohortError } from '../core/errors.js';
import { FrameDecoder, encodeFrame } from '../codec/framing.js';

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

  /** Writes many frames in one call (one syscall for a batch of small frames). */
  writeMany(payloads: readonly Uint8Array[]): boolean {
    if (this.closed) return false;
    if (payloads.length === 1) return this.write(payloads[0]!);
    return this.stream.write(Buffer.concat(payloads.map((p) => encodeFrame(p, this.maxFrameBytes))));
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
