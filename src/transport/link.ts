/**
 * A link: one authenticated (and, with a secret, encrypted) connection to one peer, carrying
 * messages as opaque byte arrays.
 *
 * Guarantees:
 * - Messages arrive whole, in the order they were sent, or the link closes.
 * - Every frame fits both frame limits: this side's (`maxFrameBytes` of the frame stream) and the
 *   one the peer announced in the handshake. Small messages are packed into frames up to that
 *   limit, and a message that does not fit one frame is sent in chunks, however small the limit.
 *   A message larger than either side's limit is refused at `send` with `FRAME_TOO_LARGE`.
 * - Large messages do not hold up small ones: a message over `CHUNK_BYTES` is cut into chunks,
 *   and the writer sends every queued small message before each next chunk, so a probe or a small
 *   call waits for at most one chunk plus what the socket already holds (kept under
 *   `SOCKET_HIGH_WATER` bytes). A small message may therefore overtake a large one sent before it,
 *   unless both were sent on the same ordering lane (`send(payload, lane)`): a small message whose
 *   lane has a large one waiting goes after it. So messages of one lane keep their order, large or
 *   small; messages of the same size class keep their order whatever their lanes.
 * - Writes honour backpressure; the send queue is bounded by `maxQueueBytes` and a send that would
 *   pass it fails at once with `QUEUE_FULL`, it never grows without bound.
 * - Small messages queued in the same turn are packed as records into as few frames as fit
 *   (each frame sealed once when encrypting) and written with one syscall.
 * - Encrypted frames are sealed in write order, so counter nonces match on both sides; a tampered,
 *   replayed, reordered or truncated frame closes the link with `PROTOCOL_ERROR`. Small frames are
 *   sealed and opened in WebAssembly, which needs no setup per frame (see `crypto/wasm-aead.ts`);
 *   large ones, and all of them until that has loaded, go through node:crypto, which does. For
 *   those, right after each write the cipher is set up for the next frame in each direction
 *   (`FrameCipher.prepare`): the frames are already on their way, so on another host that setup
 *   overlaps the peer's work instead of delaying the next message.
 *
 * - A link replaced by another to the same peer is retired, not dropped: each side says goodbye on
 *   it and keeps delivering what arrives there until the other's goodbye, so what either side
 *   wrote on it before switching still arrives (see `retire`).
 *
 * Not here: which peer to link to, reconnecting, or what the bytes mean.
 */
import { CohortError, isCohortError } from '../core/errors.js';
import { FRAME_OVERHEAD_BYTES, MAX_PLAINTEXT_BYTES, type FrameCipher } from './crypto/index.js';
import { FRAME_HEADER_BYTES } from '../codec/framing.js';
import { payloadBytes, type FramePayload, type FrameStream } from './frame-stream.js';

const KIND_MESSAGE = 0x20;
const KIND_CHUNK_FIRST = 0x21;
const KIND_CHUNK = 0x22;
const KIND_BYE = 0x23;

/** Payload bytes per chunk (fewer when the frame limit is lower); a chunk record stays under the cipher's frame limit. */
export const CHUNK_BYTES = 48 * 1024;
/** The most plaintext bytes in one frame (one sealed unit when encrypting). */
const FRAME_PLAINTEXT_BYTES = MAX_PLAINTEXT_BYTES;
/** Record header: kind (1) + body length (4). */
const RECORD_HEADER = 5;
/** The body of a first chunk starts with the message id (4) and its total length (4). */
const CHUNK_FIRST_HEADER = 8;
/** The link stops writing large-message chunks while the socket holds more than this. */
export const SOCKET_HIGH_WATER = 128 * 1024;
/** The smallest frame limit a link works with: a first chunk record with one byte, sealed. */
const MIN_FRAME_BYTES = RECORD_HEADER + CHUNK_FIRST_HEADER + 1 + FRAME_OVERHEAD_BYTES;
/** The most slots the small-message queue keeps between batches (a larger burst's room is let go). */
const SMALL_ROOM = 4096;
/** How many large messages may be arriving at once on one link. */
const MAX_PARTIAL_MESSAGES = 64;

export interface LinkOptions {
  /** The largest message accepted in either direction. */
  readonly maxMessageBytes: number;
  /**
   * The largest frame the peer accepts, as it said in the handshake; frames written here stay
   * within it too, and a message it cannot take is refused at `send`. @default the frame stream's limit
   */
  readonly peerMaxFrameBytes?: number | undefined;
  /** The most bytes that may wait in the send queue. */
  readonly maxQueueBytes: number;
}

/**
 * Takes one incoming message: the bytes of `buffer` from `start` to `end`. The buffer is the
 * link's own (a received frame, which may hold other messages too); a sink reads the message from
 * it before returning, or copies it, and may cache data on the buffer object.
 */
export type MessageSink = (buffer: Buffer, start: number, end: number) => void;

/** Why a link closed. */
export interface LinkClose {
  /** `error` carries what broke it; `bye` means the peer closed it on purpose. */
  readonly reason: 'closed' | 'bye' | 'error';
  readonly error?: CohortError;
  /** Messages that were queued and never written. */
  readonly unsent: number;
}

/** A message not yet written, with the ordering lane it was sent on. */
export interface Queued {
  readonly payload: Uint8Array;
  readonly lane: number | undefined;
}

/** A message in the large queue: a large one (sent in chunks), or a small one held behind a large one of its lane. */
interface Outgoing {
  readonly payload: Uint8Array;
  offset: number;
  readonly id: number;
  readonly lane: number | undefined;
}

interface Incoming {
  readonly buffer: Buffer;
  filled: number;
}

export class Link {
  readonly peerId: string;
  /** Whether this side dialled the link. */
  readonly outbound: boolean;
  readonly #frames: FrameStream;
  readonly #cipher: FrameCipher | undefined;
  readonly #options: LinkOptions;
  /**
   * Small messages waiting, in `#small[0]` to `#small[#smallCount - 1]`. The arrays are kept
   * between batches (emptied slot by slot), so queueing a burst allocates nothing once they have
   * grown to the size of a burst; past `SMALL_ROOM` slots they are let go after the burst.
   */
  readonly #small: (Uint8Array | undefined)[] = [];
  /** The lane of each message in {@link #small}, index for index. */
  readonly #smallLanes: (number | undefined)[] = [];
  #smallCount = 0;
  readonly #large: Outgoing[] = [];
  /** How many messages of each lane wait in {@link #large}. */
  readonly #largeLanes = new Map<number, number>();
  readonly #partial = new Map<number, Incoming>();
  #queuedBytes = 0;
  #nextLargeId = 1;
  #scheduled = false;
  #waitingDrain = false;
  #retired = false;
  #closed: LinkClose | undefined;
  #onMessage: MessageSink = () => {};
  readonly #onClose: ((close: LinkClose) => void)[] = [];
  #bytesOut = 0;
  #bytesIn = 0;
  /** The most plaintext bytes one frame carries here. */
  readonly #framePlaintext: number;
  /** The largest message sent whole in a frame (bundled with others); larger ones are chunked. */
  readonly #smallBytes: number;
  /** Payload bytes per chunk of a large message. */
  readonly #chunkBytes: number;
  /** The largest message `send` takes: the smaller of the two sides' limits. */
  readonly #sendLimit: number;

  /** @throws CohortError `INVALID_ARGUMENT` when the frame limit leaves no room for a chunk. */
  constructor(peerId: string, outbound: boolean, frames: FrameStream, cipher: FrameCipher | undefined, options: LinkOptions) {
    this.peerId = peerId;
    this.outbound = outbound;
    this.#frames = frames;
    this.#cipher = cipher;
    this.#options = options;
    const frameLimit = Math.min(frames.maxFrameBytes, options.peerMaxFrameBytes ?? Infinity);
    this.#sendLimit = Math.min(options.maxMessageBytes, options.peerMaxFrameBytes ?? Infinity);
    this.#framePlaintext = Math.min(FRAME_PLAINTEXT_BYTES, frameLimit - (cipher === undefined ? 0 : FRAME_OVERHEAD_BYTES));
    this.#smallBytes = Math.min(CHUNK_BYTES, this.#framePlaintext - RECORD_HEADER);
    this.#chunkBytes = Math.min(CHUNK_BYTES, this.#framePlaintext - RECORD_HEADER - CHUNK_FIRST_HEADER);
    if (this.#chunkBytes < 1) {
      throw new CohortError('INVALID_ARGUMENT', `a frame limit of ${frameLimit} bytes leaves no room for a message; expected at least ${MIN_FRAME_BYTES}`);
    }
    frames.onClose((error) =>
      this.#finish(error === undefined ? { reason: 'closed', unsent: this.#pendingCount() } : { reason: 'error', error: asLinkError(error), unsent: this.#pendingCount() }),
    );
    frames.stream.on('drain', () => {
      this.#waitingDrain = false;
      this.#schedule();
    });
  }

  /** Where incoming messages go. Set once, right after the handshake. */
  onMessage(fn: MessageSink): void {
    this.#onMessage = fn;
    this.#frames.pipeTo((frame) => this.#receive(frame));
  }

  /** Called once when the link is gone. */
  onClose(fn: (close: LinkClose) => void): void {
    if (this.#closed !== undefined) fn(this.#closed);
    else this.#onClose.push(fn);
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Bytes waiting in the send queue. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Bytes written to and read from the socket, framing and encryption included. */
  get bytes(): { readonly out: number; readonly in: number } {
    return { out: this.#bytesOut, in: this.#bytesIn };
  }

  /**
   * Queues a message; messages with the same `lane` keep their order (see the header).
   *
   * @throws CohortError `NOCONNECTION` when the link is closed; `FRAME_TOO_LARGE` past
   *   `maxMessageBytes`; `QUEUE_FULL` when the queue would pass `maxQueueBytes`.
   */
  send(payload: Uint8Array, lane?: number): void {
    if (this.#closed !== undefined || this.#retired) {
      throw new CohortError('NOCONNECTION', `the link to ${this.peerId} is ${this.#retired ? 'retired' : 'closed'}`, { details: { peer: this.peerId } });
    }
    if (payload.byteLength > this.#sendLimit) {
      const mine = this.#sendLimit === this.#options.maxMessageBytes;
      throw new CohortError(
        'FRAME_TOO_LARGE',
        `a message of ${payload.byteLength} bytes exceeds ${mine ? 'maxFrameBytes' : `the maxFrameBytes of ${this.peerId}`} (${this.#sendLimit})`,
        { details: { bytes: payload.byteLength, max: this.#sendLimit } },
      );
    }
    if (this.#queuedBytes + payload.byteLength > this.#options.maxQueueBytes) {
      const why =
        payload.byteLength > this.#options.maxQueueBytes
          ? `a message of ${payload.byteLength} bytes does not fit the send queue to ${this.peerId} (maxQueueBytes ${this.#options.maxQueueBytes})`
          : `the send queue to ${this.peerId} is full (${this.#queuedBytes} bytes waiting, limit ${this.#options.maxQueueBytes}); the peer is not keeping up`;
      throw new CohortError('QUEUE_FULL', why, { details: { peer: this.peerId, queuedBytes: this.#queuedBytes } });
    }
    this.#queuedBytes += payload.byteLength;
    const small = payload.byteLength <= this.#smallBytes;
    if (small && (lane === undefined || !this.#largeLanes.has(lane))) {
      this.#small[this.#smallCount] = payload;
      this.#smallLanes[this.#smallCount] = lane;
      this.#smallCount++;
    } else {
      this.#large.push({ payload, offset: 0, id: small ? 0 : this.#nextLargeId++, lane });
      if (lane !== undefined) this.#largeLanes.set(lane, (this.#largeLanes.get(lane) ?? 0) + 1);
    }
    this.#schedule();
  }

  /**
   * Takes every message not yet written whole, in order (small ones first), to resend elsewhere.
   * A large message cut short is taken whole: the peer drops the chunks it got when this link
   * closes, so it arrives once, over the link it is resent on.
   */
  takeQueued(): Queued[] {
    const taken: Queued[] = [];
    for (let i = 0; i < this.#smallCount; i++) {
      const payload = this.#small[i]!;
      this.#queuedBytes -= payload.byteLength;
      taken.push({ payload, lane: this.#smallLanes[i] });
    }
    this.#clearSmall();
    for (const large of this.#large.splice(0)) {
      this.#queuedBytes -= large.payload.byteLength - large.offset;
      taken.push({ payload: large.payload, lane: large.lane });
    }
    this.#largeLanes.clear();
    return taken;
  }

  /**
   * Retires the link in favour of another to the same peer: takes what is queued (as
   * {@link takeQueued}), sends nothing more but a goodbye, and goes on delivering what the peer
   * sent before it retired its end too. The link closes (reason `bye`) when the peer's goodbye
   * arrives, so a message the peer wrote here before switching is not lost.
   */
  retire(): Queued[] {
    const taken = this.takeQueued();
    if (this.#closed !== undefined || this.#retired) return taken;
    this.#retired = true;
    try {
      this.#writeFrames([this.#seal(record(KIND_BYE, EMPTY))]);
    } catch (error) {
      this.close(asLinkError(error));
    }
    return taken;
  }

  /** Whether {@link retire} was called: nothing more is sent, the peer's last messages still arrive. */
  get retired(): boolean {
    return this.#retired;
  }

  /** Closes the link: tells the peer (best effort), stops sending, drops what is queued. */
  close(error?: CohortError): void {
    if (this.#closed !== undefined) return;
    const unsent = this.#pendingCount();
    this.#clearSmall();
    this.#large.length = 0;
    this.#largeLanes.clear();
    this.#queuedBytes = 0;
    if (!this.#retired) {
      try {
        this.#writeFrames([this.#seal(record(KIND_BYE, EMPTY))]);
      } catch {
        // The stream may already be gone.
      }
    }
    this.#finish(error === undefined ? { reason: 'closed', unsent } : { reason: 'error', error, unsent });
    this.#frames.end();
  }

  #pendingCount(): number {
    return this.#smallCount + this.#large.length;
  }

  /** Empties the small queue, letting go of the messages, and keeps the arrays' room unless a burst made it large. */
  #clearSmall(): void {
    this.#small.fill(undefined, 0, this.#smallCount);
    if (this.#small.length > SMALL_ROOM) {
      this.#small.length = 0;
      this.#smallLanes.length = 0;
    }
    this.#smallCount = 0;
  }

  #schedule(): void {
    if (this.#scheduled || this.#waitingDrain || this.#retired || this.#closed !== undefined) return;
    this.#scheduled = true;
    queueMicrotask(this.#pumpTask);
  }

  readonly #pumpTask = (): void => this.#pump();

  #pump(): void {
    this.#scheduled = false;
    if (this.#closed !== undefined || this.#retired) return;
    try {
      for (;;) {
        if (this.#smallCount > 0) {
          // Frames are built (plain) or sealed (encrypted) with room for their length prefix, and go
          // out without another copy.
          const cipher = this.#cipher;
          const frames = bundle(this.#small, this.#smallCount, this.#framePlaintext, cipher === undefined ? FRAME_HEADER_BYTES : 0);
          for (let i = 0; i < this.#smallCount; i++) this.#queuedBytes -= this.#small[i]!.byteLength;
          this.#clearSmall();
          if (cipher === undefined) {
            if (!this.#writeInPlace(frames)) break;
            continue;
          }
          const more = this.#writeInPlace(frames.map((plain) => cipher.sealAfter(FRAME_HEADER_BYTES, plain)));
          cipher.prepare();
          if (!more) break;
          continue;
        }
        const large = this.#large[0];
        if (large === undefined) return;
        if (this.#frames.stream.writableLength > SOCKET_HIGH_WATER) break;
        const whole = large.payload.byteLength <= this.#smallBytes; // a small one held behind a large one of its lane
        const end = whole ? large.payload.byteLength : Math.min(large.offset + this.#chunkBytes, large.payload.byteLength);
        const data = large.payload.subarray(large.offset, end);
        const frame = whole ? record(KIND_MESSAGE, data) : large.offset === 0 ? chunkFirst(large.id, large.payload.byteLength, data) : chunk(large.id, data);
        large.offset = end;
        this.#queuedBytes -= data.byteLength;
        if (end === large.payload.byteLength) {
          this.#large.shift();
          this.#release(large.lane);
        }
        if (!this.#writeFrames([this.#seal(frame)])) break;
        // Let small messages queued meanwhile (in later microtasks) go before the next chunk.
        if (this.#large.length > 0) {
          this.#scheduled = true;
          setImmediate(() => this.#pump());
          return;
        }
      }
      this.#waitingDrain = true;
    } catch (error) {
      this.close(asLinkError(error));
    }
  }

  /** One message of `lane` left the large queue. */
  #release(lane: number | undefined): void {
    if (lane === undefined) return;
    const left = (this.#largeLanes.get(lane) ?? 1) - 1;
    if (left === 0) this.#largeLanes.delete(lane);
    else this.#largeLanes.set(lane, left);
  }

  #writeFrames(frames: FramePayload[]): boolean {
    for (const f of frames) this.#bytesOut += payloadBytes(f) + 4;
    const more = this.#frames.writeMany(frames);
    // The frames are handed to the socket: set up the next seal and open now, off the next message's path.
    this.#cipher?.prepare();
    return more;
  }

  /** Writes frames that start with room for their length prefix (see `FrameStream.writeInPlace`). */
  #writeInPlace(frames: Buffer[]): boolean {
    for (const f of frames) this.#bytesOut += f.length;
    return this.#frames.writeInPlace(frames);
  }

  /** The frame for `plain`: itself, or when encrypting its ciphertext and tag (written back to back). */
  #seal(plain: Uint8Array): FramePayload {
    return this.#cipher === undefined ? plain : this.#cipher.sealParts(plain);
  }

  #receive(frame: Uint8Array): void {
    if (this.#closed !== undefined) return;
    this.#bytesIn += frame.byteLength + 4;
    let plain: Uint8Array;
    try {
      plain = this.#cipher === undefined ? frame : this.#cipher.open(frame);
      this.#dispatch(plain);
    } catch (error) {
      this.close(asLinkError(error));
    }
  }

  #dispatch(plain: Uint8Array): void {
    const view = Buffer.isBuffer(plain) ? plain : Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
    if (view.length === 0) throw new CohortError('PROTOCOL_ERROR', 'empty frame from the peer');
    let at = 0;
    while (at < view.length && this.#closed === undefined) {
      if (view.length - at < RECORD_HEADER) throw new CohortError('PROTOCOL_ERROR', 'truncated record header from the peer');
      const kind = view[at]!;
      const length = view.readUInt32BE(at + 1);
      const start = at + RECORD_HEADER;
      if (length > view.length - start) throw new CohortError('PROTOCOL_ERROR', 'a record runs past the end of its frame');
      at = start + length;
      if (kind === KIND_MESSAGE) this.#onMessage(view, start, at);
      else this.#record(kind, view.subarray(start, at));
    }
  }

  /** A record other than a whole message. */
  #record(kind: number, body: Buffer): void {
    switch (kind) {
      case KIND_CHUNK_FIRST: {
        if (body.length < 8) throw new CohortError('PROTOCOL_ERROR', 'truncated chunk header from the peer');
        const id = body.readUInt32BE(0);
        const total = body.readUInt32BE(4);
        if (total > this.#options.maxMessageBytes) {
          throw new CohortError('FRAME_TOO_LARGE', `the peer announced a message of ${total} bytes, over maxFrameBytes (${this.#options.maxMessageBytes})`);
        }
        if (this.#partial.has(id) || this.#partial.size >= MAX_PARTIAL_MESSAGES) {
          throw new CohortError('PROTOCOL_ERROR', 'the peer started too many or duplicate large messages');
        }
        const entry: Incoming = { buffer: Buffer.allocUnsafe(total), filled: 0 };
        this.#partial.set(id, entry);
        this.#fill(id, entry, body.subarray(8));
        return;
      }
      case KIND_CHUNK: {
        if (body.length < 4) throw new CohortError('PROTOCOL_ERROR', 'truncated chunk from the peer');
        const id = body.readUInt32BE(0);
        const entry = this.#partial.get(id);
        if (entry === undefined) throw new CohortError('PROTOCOL_ERROR', `the peer sent a chunk of unknown message ${id}`);
        this.#fill(id, entry, body.subarray(4));
        return;
      }
      case KIND_BYE:
        this.#finish({ reason: 'bye', unsent: this.#pendingCount() });
        this.#frames.end();
        return;
      default:
        throw new CohortError('PROTOCOL_ERROR', `unknown record kind ${kind} from the peer`);
    }
  }

  #fill(id: number, entry: Incoming, data: Buffer): void {
    if (entry.filled + data.length > entry.buffer.length) {
      throw new CohortError('PROTOCOL_ERROR', `the peer sent more bytes than announced for message ${id}`);
    }
    data.copy(entry.buffer, entry.filled);
    entry.filled += data.length;
    if (entry.filled === entry.buffer.length) {
      this.#partial.delete(id);
      this.#onMessage(entry.buffer, 0, entry.buffer.length);
    }
  }

  #finish(close: LinkClose): void {
    if (this.#closed !== undefined) return;
    this.#closed = close;
    this.#partial.clear();
    for (const fn of this.#onClose.splice(0)) fn(close);
  }
}

const EMPTY = new Uint8Array(0);

/** One record: kind, body length, body. */
function record(kind: number, body: Uint8Array, prefix?: Buffer): Buffer {
  const extra = prefix?.length ?? 0;
  const out = Buffer.allocUnsafe(RECORD_HEADER + extra + body.byteLength);
  out[0] = kind;
  out.writeUInt32BE(extra + body.byteLength, 1);
  if (prefix !== undefined) prefix.copy(out, RECORD_HEADER);
  out.set(body, RECORD_HEADER + extra);
  return out;
}

/**
 * Packs the first `count` of `payloads` into as few frames of at most `limit` bytes as fit, in
 * order, each record written in place after `headroom` bytes left free at the start of its frame.
 */
function bundle(payloads: readonly (Uint8Array | undefined)[], count: number, limit: number, headroom: number): Buffer[] {
  const frames: Buffer[] = [];
  let first = 0;
  let size = 0;
  const flush = (end: number) => {
    if (end === first) return;
    const out = Buffer.allocUnsafe(headroom + size);
    let at = headroom;
    for (let i = first; i < end; i++) {
      const payload = payloads[i]!;
      out[at] = KIND_MESSAGE;
      out.writeUInt32BE(payload.byteLength, at + 1);
      out.set(payload, at + RECORD_HEADER);
      at += RECORD_HEADER + payload.byteLength;
    }
    frames.push(out);
    first = end;
    size = 0;
  };
  for (let i = 0; i < count; i++) {
    const need = RECORD_HEADER + payloads[i]!.byteLength;
    if (size + need > limit) flush(i);
    size += need;
  }
  flush(count);
  return frames;
}

function chunkFirst(id: number, total: number, data: Uint8Array): Uint8Array {
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32BE(id, 0);
  prefix.writeUInt32BE(total, 4);
  return record(KIND_CHUNK_FIRST, data, prefix);
}

function chunk(id: number, data: Uint8Array): Uint8Array {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(id, 0);
  return record(KIND_CHUNK, data, prefix);
}

function asLinkError(error: unknown): CohortError {
  return isCohortError(error) ? error : new CohortError('PROTOCOL_ERROR', 'the link broke', { cause: error });
}
