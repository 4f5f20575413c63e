/**
 * ChaCha20-Poly1305 (RFC 8439, the IETF variant with a 96-bit nonce) for small messages, run in
 * WebAssembly: libsodium's own implementation, as libsodium-wrappers builds it.
 *
 * Why it exists. node:crypto cannot re-key or re-nonce a cipher object, so every message sealed or
 * opened through it creates an OpenSSL context first, and for a message of a few hundred bytes
 * that setup, and the calls across into C++, cost more than the cipher itself (about 11 µs per
 * 140-byte seal here, against about 3 µs in WebAssembly). A link seals and opens one frame per
 * message it sends and receives, so this is what encryption costs per call. For large messages
 * the native cipher is faster, so only messages up to {@link WASM_AEAD_MAX_BYTES} come here.
 *
 * Guarantees. The output is ChaCha20-Poly1305 byte for byte, the same as node:crypto's (the tests
 * check it against node:crypto on random keys, nonces and messages), so which side used which
 * implementation is invisible to the peer. Sizes are checked before anything is copied into the
 * WebAssembly heap (`INVALID_ARGUMENT`), so no input can write past the scratch area. `open` returns `undefined` on any authentication failure and never
 * returns unauthenticated plaintext. Outputs share no memory with the WebAssembly heap: `seal`
 * writes into the caller's buffer, and `open` returns a Buffer from Node's pool, as a socket's
 * bytes are. The key is copied into the WebAssembly heap for each call and overwritten with zeros
 * before the call returns or throws.
 *
 * Loading is asynchronous (WebAssembly compiles in the background, about 50 ms, once per process);
 * {@link loadWasmAead} starts it and {@link wasmAead} returns the instance once it is ready, or
 * `undefined` before that, or if loading failed. Callers fall back to node:crypto meanwhile, which
 * gives the same bytes, so nothing waits for the load and nothing depends on its outcome.
 *
 * Deliberately not done: associated data (the transport frames that come here have none; the
 * handshake, which has some, stays on node:crypto), and messages over the size limit.
 */
import { CohortError } from '../../core/errors.js';
import { KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './primitives.js';

/** The longest plaintext sealed or opened here; longer ones are faster through node:crypto. */
export const WASM_AEAD_MAX_BYTES = 2048;

/**
 * The part of libsodium's Emscripten module used here. Lengths are 64-bit in C and are passed as
 * two 32-bit halves (low, high); pointers are offsets into `HEAPU8`. Both functions return 0 on
 * success.
 */
interface SodiumModule {
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  /** (c, mac, maclen_p, m, mlen_lo, mlen_hi, ad, adlen_lo, adlen_hi, nsec, npub, k) */
  _crypto_aead_chacha20poly1305_ietf_encrypt_detached(...args: number[]): number;
  /** (m, nsec, c, clen_lo, clen_hi, mac, ad, adlen_lo, adlen_hi, npub, k) */
  _crypto_aead_chacha20poly1305_ietf_decrypt_detached(...args: number[]): number;
}

/** ChaCha20-Poly1305 in libsodium's WebAssembly, with one scratch area of its heap reused by every call. */
export class WasmAead {
  readonly #sodium: SodiumModule;
  /** The module's heap, kept to skip a lookup on its large module object per call. */
  #heap: Uint8Array;
  readonly #key: number;
  readonly #nonce: number;
  readonly #tag: number;
  readonly #plain: number;
  readonly #cipher: number;

  /** @internal Made by {@link loadWasmAead}. */
  constructor(sodium: SodiumModule) {
    this.#sodium = sodium;
    const base = sodium._malloc(KEY_BYTES + NONCE_BYTES + TAG_BYTES + 2 * WASM_AEAD_MAX_BYTES);
    if (base === 0) throw new CohortError('INTERNAL', 'libsodium could not allocate its scratch memory');
    this.#heap = sodium.HEAPU8;
    this.#key = base;
    this.#nonce = base + KEY_BYTES;
    this.#tag = this.#nonce + NONCE_BYTES;
    this.#plain = this.#tag + TAG_BYTES;
    this.#cipher = this.#plain + WASM_AEAD_MAX_BYTES;
  }

  /**
   * Encrypts `plaintext` (at most {@link WASM_AEAD_MAX_BYTES}) under `key` (32 bytes) and `nonce`
   * (12 bytes), without associated data, writing ciphertext followed by the 16-byte tag into `out`
   * from `at` (which must leave room for them).
   */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, out: Uint8Array, at: number): void {
    const length = plaintext.byteLength;
    checkLength(length, 'plaintext');
    const heap = this.#enter(key, nonce);
    let failed: number;
    try {
      heap.set(plaintext, this.#plain);
      failed = this.#sodium._crypto_aead_chacha20poly1305_ietf_encrypt_detached(this.#cipher, this.#tag, 0, this.#plain, length, 0, 0, 0, 0, 0, this.#nonce, this.#key);
    } finally {
      heap.fill(0, this.#key, this.#key + KEY_BYTES);
    }
    if (failed !== 0) throw new CohortError('INTERNAL', `libsodium failed to encrypt a message of ${length} bytes`);
    out.set(heap.subarray(this.#cipher, this.#cipher + length), at);
    out.set(heap.subarray(this.#tag, this.#tag + TAG_BYTES), at + length);
  }

  /**
   * Decrypts and authenticates ciphertext-and-tag (at most {@link WASM_AEAD_MAX_BYTES} plus the
   * tag) under `key` and `nonce`, without associated data.
   *
   * @returns the plaintext, or `undefined` if the input is shorter than a tag or fails authentication.
   */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
    const length = sealed.byteLength - TAG_BYTES;
    if (length < 0) return undefined;
    checkLength(length, 'ciphertext');
    const heap = this.#enter(key, nonce);
    let failed: number;
    try {
      heap.set(sealed.subarray(0, length), this.#cipher);
      heap.set(sealed.subarray(length), this.#tag);
      failed = this.#sodium._crypto_aead_chacha20poly1305_ietf_decrypt_detached(this.#plain, 0, this.#cipher, length, 0, this.#tag, 0, 0, 0, this.#nonce, this.#key);
    } finally {
      heap.fill(0, this.#key, this.#key + KEY_BYTES);
    }
    if (failed !== 0) return undefined; // libsodium writes no plaintext when the tag does not match
    // From Node's buffer pool, like the bytes a socket delivers: allocating a buffer of its own
    // costs more than the rest of opening a small message.
    const out = Buffer.allocUnsafe(length);
    out.set(heap.subarray(this.#plain, this.#plain + length), 0);
    return out;
  }

  /** Puts the key and nonce in place and returns the heap. */
  #enter(key: Uint8Array, nonce: Uint8Array): Uint8Array {
    if (key.byteLength !== KEY_BYTES || nonce.byteLength !== NONCE_BYTES) {
      throw new CohortError('INVALID_ARGUMENT', `ChaCha20-Poly1305 takes a ${KEY_BYTES}-byte key and a ${NONCE_BYTES}-byte nonce, got ${key.byteLength} and ${nonce.byteLength} bytes`);
    }
    let heap = this.#heap;
    // When libsodium's memory grows, the old array is detached (length 0) and the module has a new one.
    if (heap.length === 0) heap = this.#heap = this.#sodium.HEAPU8;
    heap.set(key, this.#key);
    heap.set(nonce, this.#nonce);
    return heap;
  }
}

function checkLength(length: number, what: string): void {
  if (length > WASM_AEAD_MAX_BYTES) {
    throw new CohortError('INVALID_ARGUMENT', `the WebAssembly cipher takes at most ${WASM_AEAD_MAX_BYTES} bytes of ${what}, got ${length}; larger messages go through node:crypto`);
  }
}

let loading: Promise<WasmAead | undefined> | undefined;
let loaded: WasmAead | undefined;

/**
 * Starts loading the WebAssembly cipher (once per process) and resolves with it when it is ready,
 * or with `undefined` if it cannot be loaded here; never rejects.
 */
export function loadWasmAead(): Promise<WasmAead | undefined> {
  loading ??= (async () => {
    try {
      const { default: sodium } = await import('libsodium-wrappers');
      await sodium.ready;
      const module = (sodium as unknown as { libsodium?: Partial<SodiumModule> }).libsodium;
      if (!isSodiumModule(module)) return undefined;
      loaded = new WasmAead(module);
      return loaded;
    } catch {
      return undefined;
    }
  })();
  return loading;
}

/** The WebAssembly cipher once {@link loadWasmAead} has loaded it, else `undefined`. */
export function wasmAead(): WasmAead | undefined {
  return loaded;
}

function isSodiumModule(module: Partial<SodiumModule> | undefined): module is SodiumModule {
  return (
    module !== undefined &&
    module.HEAPU8 instanceof Uint8Array &&
    typeof module._malloc === 'function' &&
    typeof module._crypto_aead_chacha20poly1305_ietf_encrypt_detached === 'function' &&
    typeof module._crypto_aead_chacha20poly1305_ietf_decrypt_detached === 'function'
  );
}
