/**
 * Encryption of a stream of frames after the handshake: one Noise transport message per frame,
 * with a separate key and counter nonce in each direction.
 *
 * Guarantees.
 * - Confidentiality and integrity of every frame, and of the order of frames: frame n is sealed
 *   under nonce n, so a frame that was altered, replayed, dropped before another, reordered,
 *   truncated or reflected back to its sender fails to open with `PROTOCOL_ERROR`.
 * - Fail-closed: after the first frame that fails to open, every later `open` fails too (the
 *   stream is out of step and may be under attack), so a caller cannot accidentally carry on.
 * - A frame's ciphertext is its plaintext plus 16 bytes; plaintexts up to
 *   `MAX_PLAINTEXT_BYTES` (65519) are accepted, so each sealed frame fits Noise's 65535-byte limit.
 * - `prepare` is an optimisation only: it sets up the cipher for the next frame in each direction
 *   ahead of time, so a small frame costs less when it is sealed or opened; no output changes.
 *
 * Deliberately not done: no chunking (the link layer cuts messages to fit), no length prefix or
 * framing on the wire (see `codec/framing.ts`), no padding (frame lengths are visible), no rekeying
 * (a link is replaced long before 2^64 frames). The sender must seal frames in the order it writes
 * them, and the receiver must open them in the order they arrive.
 */
import { CohortError, describe } from '../../core/errors.js';
import { CipherState, MAX_NOISE_MESSAGE_BYTES, NOISE_TAG_BYTES } from './cipher-state.js';

/** The largest plaintext one frame may carry: Noise's 65535-byte message limit minus the tag. */
export const MAX_PLAINTEXT_BYTES = MAX_NOISE_MESSAGE_BYTES - NOISE_TAG_BYTES;

/** Bytes a sealed frame adds to its plaintext. */
export const FRAME_OVERHEAD_BYTES = NOISE_TAG_BYTES;

/**
 * Seals outgoing frames and opens incoming ones with the two ciphers of a completed handshake.
 * It takes ownership of them: do not use either `CipherState` anywhere else.
 *
 * @example
 * const { send, receive } = handshake.split();
 * const cipher = new FrameCipher(send, receive);
 * socketWrite(cipher.seal(frame));
 * const plain = cipher.open(incoming); // throws PROTOCOL_ERROR on anything not sealed by the peer, in order
 */
export class FrameCipher {
  readonly #send: CipherState;
  readonly #receive: CipherState;
  #broken: CohortError | undefined;

  /** @throws CohortError `INVALID_ARGUMENT` unless given two distinct `CipherState`s. */
  constructor(send: CipherState, receive: CipherState) {
    if (!(send instanceof CipherState) || !(receive instanceof CipherState)) {
      throw new CohortError('INVALID_ARGUMENT', `FrameCipher needs two CipherStates, got ${describe(send)} and ${describe(receive)}`);
    }
    if (send === receive) {
      throw new CohortError('INVALID_ARGUMENT', 'FrameCipher needs one CipherState per direction, got the same one twice');
    }
    this.#send = send;
    this.#receive = receive;
  }

  /** How many frames have been sealed. */
  get sealed(): bigint {
    return this.#send.nonce;
  }

  /** How many frames have been opened. */
  get opened(): bigint {
    return this.#receive.nonce;
  }

  /**
   * Sets up node:crypto for the next frame to seal and the next frame to open, so that `seal` and
   * `open` then only run the cipher: for a 100-byte frame that setup is about half the cost. Call
   * it off the path of a message, e.g. right after writing one. Safe at any time and any number of
   * times (a setup is made once per nonce and direction); does nothing once the stream has failed.
   *
   * @example
   * socket.write(cipher.seal(frame));
   * cipher.prepare(); // the next seal and open skip the setup
   */
  prepare(): void {
    if (this.#broken !== undefined) return;
    this.#send.prepare('encrypt');
    this.#receive.prepare('decrypt');
  }

  /**
   * Encrypts the next outgoing frame.
   *
   * @returns the plaintext's length plus 16 bytes.
   * @throws CohortError `INVALID_ARGUMENT` for a plaintext over `MAX_PLAINTEXT_BYTES` or not
   *   bytes; `PROTOCOL_ERROR` once 2^64 − 1 frames have been sealed.
   */
  seal(plaintext: Uint8Array): Uint8Array {
    return this.#send.encrypt(this.#checkFrame(plaintext));
  }

  /**
   * Encrypts the next outgoing frame like `seal`, returning the ciphertext and the 16-byte tag as
   * two arrays to be written back to back (their concatenation is the sealed frame), which saves
   * joining them when the caller copies them into a larger buffer anyway.
   *
   * @throws the same as `seal`.
   * @example
   * stream.writeMany([cipher.sealParts(frame)]); // one frame: ciphertext then tag
   */
  sealParts(plaintext: Uint8Array): [ciphertext: Uint8Array, tag: Uint8Array] {
    return this.#send.encryptParts(this.#checkFrame(plaintext));
  }

  /**
   * Encrypts the next outgoing frame like `seal`, into a new buffer that begins with `room` bytes
   * left free for the caller's length prefix, followed by the sealed frame.
   *
   * @throws the same as `seal`.
   * @example
   * stream.writeInPlace([cipher.sealAfter(FRAME_HEADER_BYTES, frame)]);
   */
  sealAfter(room: number, plaintext: Uint8Array): Buffer {
    return this.#send.encryptAfter(room, this.#checkFrame(plaintext));
  }

  #checkFrame(plaintext: Uint8Array): Uint8Array {
    if (!(plaintext instanceof Uint8Array)) {
      throw new CohortError('INVALID_ARGUMENT', `a frame must be a Uint8Array, got ${describe(plaintext)}`);
    }
    if (plaintext.byteLength > MAX_PLAINTEXT_BYTES) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `a frame holds at most ${MAX_PLAINTEXT_BYTES} plaintext bytes, got ${plaintext.byteLength}; split the message into chunks first`,
        { details: { length: plaintext.byteLength, max: MAX_PLAINTEXT_BYTES } },
      );
    }
    return plaintext;
  }

  /**
   * Decrypts and authenticates the next incoming frame.
   *
   * @throws CohortError `PROTOCOL_ERROR` if the frame is not the peer's next sealed frame
   *   (altered, replayed, reordered, truncated, reflected or under another key), is longer than a
   *   Noise message, or if an earlier frame already failed.
   */
  open(ciphertext: Uint8Array): Uint8Array {
    if (this.#broken !== undefined) {
      throw new CohortError('PROTOCOL_ERROR', 'this encrypted stream already failed; it cannot be used any more', {
        cause: this.#broken,
      });
    }
    if (!(ciphertext instanceof Uint8Array)) {
      throw new CohortError('INVALID_ARGUMENT', `a frame must be a Uint8Array, got ${describe(ciphertext)}`);
    }
    try {
      return this.#receive.decrypt(ciphertext);
    } catch (cause) {
      const error = new CohortError(
        'PROTOCOL_ERROR',
        `encrypted frame ${this.#receive.nonce} from the peer could not be opened: it was altered, replayed, reordered, truncated or not sealed by the peer`,
        { cause, details: { frame: this.#receive.nonce.toString() } },
      );
      this.#broken = error;
      throw error;
    }
  }
}
