/**
 * The Noise `CipherState` (section 5.1 of the Noise specification, revision 34) for
 * ChaChaPoly: a 32-byte key and a 64-bit counter nonce, one per direction of a channel.
 *
 * Guarantees. The nonce is the Noise format for ChaChaPoly: 32 bits of zeros, then the counter in
 * little endian; it advances after every successful `encrypt` and `decrypt`, and does not advance
 * when `decrypt` fails, as the specification requires. So a message that was altered, replayed,
 * reordered, or encrypted under another key fails to decrypt (`PROTOCOL_ERROR`). A cipher refuses
 * to run once its nonce reaches 2^64 − 1, the value Noise reserves, so a nonce is never reused.
 * Messages (ciphertext with tag) are at most 65535 bytes, as Noise requires, in both directions.
 * Which implementation runs is invisible in the output: a message of at most 2048 bytes without
 * associated data goes through libsodium's WebAssembly once it has loaded (`wasm-aead.ts`), every
 * other one through node:crypto, and both give the same bytes.
 * `prepare` only moves work earlier: it sets up node:crypto for the current nonce (the costly part
 * of a small message) so the next `encrypt` or `decrypt` does not have to; the output is the same
 * byte for byte, and a setup is used at most once and dropped as soon as the nonce moves, so it can
 * never encrypt under a nonce that was already used. It does nothing after a message that went
 * through WebAssembly, which needs no setup, on the guess that the next is small too.
 *
 * Deliberately not done: Noise's "empty key" pass-through (a `CipherState` always has a key; the
 * handshake handles the keyless case itself), `Rekey`, and `SetNonce` for out-of-order transports
 * (the initial nonce can only be set at construction, for tests). No framing and no I/O.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { CohortError, describe } from '../../core/errors.js';
import { AeadOpener, AeadSealer, KEY_BYTES, NONCE_BYTES, TAG_BYTES, copyBytes, requireBytes } from './primitives.js';
import { WASM_AEAD_MAX_BYTES, wasmAead, type WasmAead } from './wasm-aead.js';

/** The longest Noise message, handshake or transport, that may be written or read. */
export const MAX_NOISE_MESSAGE_BYTES = 65535;

/** The authentication overhead of an encrypted Noise payload. */
export const NOISE_TAG_BYTES = TAG_BYTES;

/** What {@link CipherState.prepare} sets up: the next `encrypt` or the next `decrypt`. */
export type CipherOperation = 'encrypt' | 'decrypt';

/** Empty associated data (zero bytes, so nothing in it can change). */
const NO_AD = new Uint8Array(0);

/** 2^32, for the two 32-bit halves of the nonce. */
const U32 = 0x1_0000_0000;
const MAX_U32 = 0xffff_ffff;

/** Options for {@link CipherState}. */
export interface CipherStateOptions {
  /**
   * The first nonce to use. Only for tests and vectors: reusing a nonce with the same key breaks
   * the cipher completely.
   * @default 0n
   */
  nonce?: bigint;
}

/**
 * A Noise `CipherState`: a 32-byte key and a 64-bit counter nonce, used for one direction of a
 * channel. Obtained from `HandshakeState.split()`.
 *
 * @example
 * const { send, receive } = handshake.split();
 * const wire = send.encrypt(plaintext);        // nonce 0, then 1, ...
 * const back = peerReceive.decrypt(wire);      // must be decrypted in the same order
 */
export class CipherState {
  readonly #key: KeyObject;
  /** The key's bytes, for the WebAssembly cipher (see `wasm-aead.ts`), which takes them per call. */
  readonly #rawKey: Uint8Array;
  /** The nonce as two 32-bit halves, so counting stays on plain numbers. */
  #low: number;
  #high: number;
  /** Setups for the current nonce made by `prepare`; each is used once, both dropped when the nonce moves. */
  #sealer: AeadSealer | undefined;
  #opener: AeadOpener | undefined;
  /** Whether the last message went through node:crypto (or none has yet): only then does `prepare` set up the next. */
  #lastNative = true;
  /** The current nonce in Noise format, rewritten in place (node:crypto copies it at each setup). */
  readonly #nonceBytes = new Uint8Array(NONCE_BYTES);
  readonly #nonceView = new DataView(this.#nonceBytes.buffer);

  /**
   * @throws CohortError `INVALID_ARGUMENT` if the key is not 32 bytes or the nonce is not a
   *   64-bit unsigned integer.
   */
  constructor(key: Uint8Array, options: CipherStateOptions = {}) {
    requireBytes(key, 'CipherState key', KEY_BYTES);
    const nonce = options.nonce ?? 0n;
    if (typeof nonce !== 'bigint' || nonce < 0n || nonce > 0xffff_ffff_ffff_ffffn) {
      throw new CohortError('INVALID_ARGUMENT', `CipherState nonce must be a bigint from 0 to 2^64 - 1, got ${describe(nonce)}`);
    }
    this.#key = createSecretKey(key);
    this.#rawKey = copyBytes(key);
    this.#low = Number(nonce & 0xffff_ffffn);
    this.#high = Number(nonce >> 32n);
    this.#writeNonce();
  }

  /** The nonce the next `encrypt` or `decrypt` will use. */
  get nonce(): bigint {
    return (BigInt(this.#high) << 32n) | BigInt(this.#low);
  }

  /**
   * `EncryptWithAd(ad, plaintext)`: encrypts under the current nonce, then advances it.
   *
   * @returns ciphertext followed by a 16-byte tag.
   * @throws CohortError `INVALID_ARGUMENT` if the result would pass 65535 bytes;
   *   `PROTOCOL_ERROR` once the nonce is exhausted (the connection must be replaced).
   */
  encrypt(plaintext: Uint8Array, ad: Uint8Array = NO_AD): Uint8Array {
    this.#checkEncrypt(plaintext, ad);
    const out = this.#sealSmall(plaintext, ad) ?? this.#takeSealer().seal(ad, plaintext);
    this.#advance();
    return out;
  }

  /**
   * `EncryptWithAd` like `encrypt`, returning the ciphertext and the 16-byte tag as two arrays:
   * their concatenation is exactly what `encrypt` returns. For a caller that writes them out back
   * to back and would otherwise copy them into one array first.
   *
   * @throws the same as `encrypt`.
   */
  encryptParts(plaintext: Uint8Array, ad: Uint8Array = NO_AD): [ciphertext: Uint8Array, tag: Uint8Array] {
    this.#checkEncrypt(plaintext, ad);
    const sealed = this.#sealSmall(plaintext, ad);
    const parts: [Uint8Array, Uint8Array] =
      sealed === undefined ? this.#takeSealer().sealParts(ad, plaintext) : [sealed.subarray(0, plaintext.byteLength), sealed.subarray(plaintext.byteLength)];
    this.#advance();
    return parts;
  }

  /**
   * `EncryptWithAd` without associated data, like `encrypt`, into a new buffer that begins with
   * `room` bytes left free (for a length prefix), followed by the ciphertext and the 16-byte tag.
   * Writing a frame this way copies nothing more.
   *
   * @throws the same as `encrypt`.
   */
  encryptAfter(room: number, plaintext: Uint8Array): Buffer {
    this.#checkEncrypt(plaintext, NO_AD);
    const length = plaintext.byteLength;
    const out = Buffer.allocUnsafe(room + length + TAG_BYTES);
    const wasm = this.#wasmFor(length, NO_AD);
    if (wasm !== undefined) wasm.seal(this.#rawKey, this.#nonceBytes, plaintext, out, room);
    else {
      const [body, tag] = this.#takeSealer().sealParts(NO_AD, plaintext);
      out.set(body, room);
      out.set(tag, room + length);
    }
    this.#advance();
    return out;
  }

  /** Seals in WebAssembly when it is loaded and the message is small and has no associated data; else `undefined`. */
  #sealSmall(plaintext: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
    const wasm = this.#wasmFor(plaintext.byteLength, ad);
    if (wasm === undefined) return undefined;
    const out = new Uint8Array(plaintext.byteLength + TAG_BYTES);
    wasm.seal(this.#rawKey, this.#nonceBytes, plaintext, out, 0);
    return out;
  }

  /**
   * `DecryptWithAd(ad, ciphertext)`: decrypts and authenticates under the current nonce, then
   * advances it. On failure the nonce does not advance.
   *
   * @throws CohortError `PROTOCOL_ERROR` if the message is longer than 65535 bytes, shorter than a
   *   tag, fails authentication (altered, replayed, reordered, or from another key), or the nonce
   *   is exhausted.
   */
  decrypt(ciphertext: Uint8Array, ad: Uint8Array = NO_AD): Uint8Array {
    requireBytes(ciphertext, 'ciphertext');
    requireBytes(ad, 'associated data');
    if (ciphertext.byteLength > MAX_NOISE_MESSAGE_BYTES) {
      throw new CohortError(
        'PROTOCOL_ERROR',
        `an encrypted message of ${ciphertext.byteLength} bytes is longer than the Noise limit of ${MAX_NOISE_MESSAGE_BYTES}`,
        { details: { reason: 'too-long', length: ciphertext.byteLength } },
      );
    }
    if (ciphertext.byteLength < TAG_BYTES) {
      throw new CohortError(
        'PROTOCOL_ERROR',
        `an encrypted message of ${ciphertext.byteLength} bytes is shorter than its ${TAG_BYTES}-byte authentication tag`,
        { details: { reason: 'truncated', length: ciphertext.byteLength } },
      );
    }
    this.#checkNonce();
    const wasm = this.#wasmFor(ciphertext.byteLength - TAG_BYTES, ad);
    let plain: Uint8Array | undefined;
    if (wasm !== undefined) plain = wasm.open(this.#rawKey, this.#nonceBytes, ciphertext);
    else {
      const opener = this.#opener ?? new AeadOpener(this.#key, this.#nonceBytes);
      this.#opener = undefined;
      plain = opener.open(ad, ciphertext);
    }
    if (plain === undefined) {
      const nonce = this.nonce;
      throw new CohortError(
        'PROTOCOL_ERROR',
        `an encrypted message failed authentication at nonce ${nonce}: it was altered, replayed, reordered or encrypted under another key`,
        { details: { reason: 'authentication', nonce: nonce.toString() } },
      );
    }
    this.#advance();
    return plain;
  }

  /**
   * Sets up node:crypto for the next `encrypt` or `decrypt` under the current nonce, so that call
   * only runs the cipher. Worth calling off the path of a message (e.g. right after writing one);
   * it changes no output and no state a peer can see. Does nothing if that setup is already made,
   * the nonce is exhausted (the call itself will throw), or the last message went through the
   * WebAssembly cipher (which needs no setup; the next message is likely the same size).
   *
   * @example
   * socket.write(send.encrypt(frame));
   * send.prepare('encrypt'); // the next encrypt skips the setup
   */
  prepare(operation: CipherOperation): void {
    // A message for the WebAssembly cipher needs no setup; guess the next is like the last one.
    if ((this.#high === MAX_U32 && this.#low === MAX_U32) || !this.#lastNative) return;
    if (operation === 'encrypt') this.#sealer ??= new AeadSealer(this.#key, this.#nonceBytes);
    else this.#opener ??= new AeadOpener(this.#key, this.#nonceBytes);
  }

  /**
   * The WebAssembly cipher when it is loaded and a message of `length` plaintext bytes with `ad`
   * goes there (small, no associated data), else `undefined`: node:crypto. Remembers which, for
   * `prepare`.
   */
  #wasmFor(length: number, ad: Uint8Array): WasmAead | undefined {
    const wasm = ad.byteLength === 0 && length <= WASM_AEAD_MAX_BYTES ? wasmAead() : undefined;
    this.#lastNative = wasm === undefined;
    return wasm;
  }

  /** Checks an encryption's inputs and nonce. */
  #checkEncrypt(plaintext: Uint8Array, ad: Uint8Array): void {
    requireBytes(plaintext, 'plaintext');
    requireBytes(ad, 'associated data');
    if (plaintext.byteLength + TAG_BYTES > MAX_NOISE_MESSAGE_BYTES) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `a Noise message holds at most ${MAX_NOISE_MESSAGE_BYTES - TAG_BYTES} plaintext bytes, got ${plaintext.byteLength}`,
      );
    }
    this.#checkNonce();
  }

  /** Hands over the node:crypto setup for the current nonce, made now if `prepare` did not. */
  #takeSealer(): AeadSealer {
    const sealer = this.#sealer ?? new AeadSealer(this.#key, this.#nonceBytes);
    this.#sealer = undefined;
    return sealer;
  }

  #checkNonce(): void {
    if (this.#high === MAX_U32 && this.#low === MAX_U32) {
      throw new CohortError(
        'PROTOCOL_ERROR',
        'this cipher has used every nonce up to 2^64 - 2 (2^64 - 1 is reserved by Noise); open a new connection',
        { details: { reason: 'nonce-exhausted' } },
      );
    }
  }

  /** The Noise nonce: 32 bits of zeros, then the 64-bit counter in little endian. */
  #writeNonce(): void {
    this.#nonceView.setUint32(4, this.#low, true);
    this.#nonceView.setUint32(8, this.#high, true);
  }

  #advance(): void {
    this.#low += 1;
    if (this.#low === U32) {
      this.#low = 0;
      this.#high += 1;
    }
    this.#writeNonce();
    this.#sealer = undefined;
    this.#opener = undefined;
  }
}
