/**
 * Thin wrappers over `node:crypto` for the primitives the link handshake needs: X25519, the
 * ChaCha20-Poly1305 AEAD, SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869, and the two- and
 * three-output form the Noise framework defines on top of it).
 *
 * Guarantees. Every function checks the sizes of its inputs and returns fresh `Uint8Array`s that
 * share no memory with Node's buffer pool, so a caller can neither see nor corrupt other data
 * through the result's `.buffer`. X25519 keys cross this module as raw 32-byte strings (RFC 7748
 * encoding); the conversion to and from Node's `KeyObject` goes through fixed DER prefixes that are
 * checked on every export. `x25519` refuses a peer key that yields the all-zero shared secret (a
 * low-order point) instead of returning zeros. `aeadDecrypt` (and `AeadOpener`) returns
 * `undefined` on any authentication failure and never returns unauthenticated plaintext.
 * `AeadSealer` and `AeadOpener` split one AEAD call into its setup (at construction, for a known
 * key and nonce) and the cipher itself, so the setup can be paid ahead of the message; each is
 * single-use, so a prepared nonce cannot encrypt twice.
 *
 * Deliberately not done: no protocol logic (nonces, counters and state live in `noise.ts`), no
 * error codes of the wire protocol (callers decide what a failure means), and no promise that key
 * material is wiped from memory: JavaScript cannot guarantee that, and `KeyObject`s cannot be
 * cleared at all. No primitive is implemented here; OpenSSL (through Node) does the arithmetic.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type CipherChaCha20Poly1305,
  type DecipherChaCha20Poly1305,
  type KeyObject,
} from 'node:crypto';
import { CohortError, describe } from '../../core/errors.js';

/** Bytes in an X25519 public key, private key and shared secret. */
export const DH_BYTES = 32;
/** Bytes in a ChaCha20-Poly1305 key. */
export const KEY_BYTES = 32;
/** Bytes in a ChaCha20-Poly1305 nonce. */
export const NONCE_BYTES = 12;
/** Bytes in a Poly1305 authentication tag. */
export const TAG_BYTES = 16;
/** Bytes in a SHA-256 digest. */
export const HASH_BYTES = 32;

/** DER (SPKI) header of an X25519 public key; the raw key follows. OID 1.3.101.110. */
const SPKI_X25519_PREFIX = '302a300506032b656e032100';
/** DER (PKCS #8) header of an X25519 private key; the raw key follows. */
const PKCS8_X25519_PREFIX = '302e020100300506032b656e04220420';

/** An X25519 key pair: the private half stays a `KeyObject`, the public half is raw bytes. */
export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  /** The RFC 7748 encoding of the public key (32 bytes). */
  readonly publicKey: Uint8Array;
}

/**
 * A fresh, unpooled `Uint8Array` of `length` uninitialised bytes, for an output the caller
 * overwrites completely (so a large one is not zero-filled first for nothing).
 */
function freshBytes(length: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
}

/** Copies any byte view into a fresh, unpooled `Uint8Array`. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

/** Concatenates byte views into one fresh `Uint8Array`. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/**
 * Throws `INVALID_ARGUMENT` unless `value` is a `Uint8Array` (a `Buffer` is one) of exactly
 * `length` bytes, or of any length when `length` is undefined.
 */
export function requireBytes(value: unknown, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CohortError('INVALID_ARGUMENT', `${what} must be a Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined && value.byteLength !== length) {
    throw new CohortError('INVALID_ARGUMENT', `${what} must be ${length} bytes, got ${value.byteLength}`);
  }
  return value;
}

function exportRawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  const prefix = Buffer.from(SPKI_X25519_PREFIX, 'hex');
  if (der.byteLength !== prefix.byteLength + DH_BYTES || !der.subarray(0, prefix.byteLength).equals(prefix)) {
    throw new CohortError('INTERNAL', 'node:crypto exported an X25519 public key in an unexpected DER form');
  }
  return copyBytes(der.subarray(prefix.byteLength));
}

function importRawPublic(raw: Uint8Array): KeyObject {
  const der = Buffer.concat([Buffer.from(SPKI_X25519_PREFIX, 'hex'), raw]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** Generates a fresh X25519 key pair from the operating system's CSPRNG. */
export function generateX25519(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: exportRawPublic(publicKey) };
}

/**
 * Builds the X25519 key pair of a raw 32-byte private key (the scalar as RFC 7748 encodes it;
 * clamping happens inside X25519, as the RFC specifies).
 *
 * @throws CohortError `INVALID_ARGUMENT` if the key is not 32 bytes.
 */
export function x25519FromPrivate(privateKey: Uint8Array): X25519KeyPair {
  requireBytes(privateKey, 'X25519 private key', DH_BYTES);
  const der = Buffer.concat([Buffer.from(PKCS8_X25519_PREFIX, 'hex'), privateKey]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const pair = { privateKey: key, publicKey: exportRawPublic(createPublicKey(key)) };
  der.fill(0);
  return pair;
}

/**
 * X25519(privateKey, peerPublicKey): the 32-byte shared secret.
 *
 * @returns `undefined` when the peer's key is a low-order point (the result would be all zeros);
 *   such a key can only come from a broken or hostile peer.
 * @throws CohortError `INVALID_ARGUMENT` if the public key is not 32 bytes.
 */
export function x25519(privateKey: KeyObject, peerPublicKey: Uint8Array): Uint8Array | undefined {
  requireBytes(peerPublicKey, 'X25519 public key', DH_BYTES);
  try {
    return copyBytes(diffieHellman({ privateKey, publicKey: importRawPublic(peerPublicKey) }));
  } catch {
    // OpenSSL refuses to derive the all-zero secret of a low-order point; nothing else can fail
    // for a well-formed 32-byte key.
    return undefined;
  }
}

/**
 * One ChaCha20-Poly1305 (RFC 8439) encryption under a fixed key and nonce, set up before its
 * plaintext is known. For a small message, most of node:crypto's cost is this setup (creating the
 * OpenSSL context and scheduling the key), so a caller that knows the next nonce can pay it while
 * idle and keep only the cipher itself on the path of the message.
 *
 * Single use: `seal` may be called once; a second call throws `INTERNAL` (it would reuse the
 * nonce). node:crypto copies the key and nonce at construction, so the caller may reuse its buffers.
 *
 * @example
 * const next = new AeadSealer(key, nonce);   // ahead of time
 * const wire = next.seal(ad, plaintext);     // later: ciphertext ‖ tag
 */
export class AeadSealer {
  #cipher: CipherChaCha20Poly1305 | undefined;

  constructor(key: Uint8Array | KeyObject, nonce: Uint8Array) {
    this.#cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  }

  /** Encrypts: returns ciphertext followed by the 16-byte tag, in a fresh unpooled array. */
  seal(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const [body, tag] = this.#encrypt(ad, plaintext);
    const out = freshBytes(body.byteLength + TAG_BYTES);
    out.set(body, 0);
    out.set(tag, body.byteLength);
    return out;
  }

  /**
   * Encrypts like `seal`, but returns the ciphertext and the 16-byte tag as two fresh unpooled
   * arrays, for a caller that writes them out one after the other without joining them first.
   */
  sealParts(ad: Uint8Array, plaintext: Uint8Array): [ciphertext: Uint8Array, tag: Uint8Array] {
    const [body, tag] = this.#encrypt(ad, plaintext);
    return [owned(body), owned(tag)];
  }

  #encrypt(ad: Uint8Array, plaintext: Uint8Array): [Buffer, Buffer] {
    const cipher = this.#cipher;
    if (cipher === undefined) throw new CohortError('INTERNAL', 'an AeadSealer was used twice; that would reuse its nonce');
    this.#cipher = undefined;
    if (ad.byteLength > 0) cipher.setAAD(ad, { plaintextLength: plaintext.byteLength }); // empty AAD: same tag
    const body = cipher.update(plaintext);
    cipher.final(); // a stream cipher: final() yields no bytes, it only completes the tag
    return [body, cipher.getAuthTag()];
  }
}

/**
 * One ChaCha20-Poly1305 (RFC 8439) decryption under a fixed key and nonce, set up before its
 * ciphertext arrives (see {@link AeadSealer} for why).
 *
 * Single use: `open` may be called once, whatever its outcome; a second call throws `INTERNAL`.
 *
 * @example
 * const next = new AeadOpener(key, nonce);
 * const plain = next.open(ad, wire);        // undefined if it fails authentication
 */
export class AeadOpener {
  #decipher: DecipherChaCha20Poly1305 | undefined;

  constructor(key: Uint8Array | KeyObject, nonce: Uint8Array) {
    this.#decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  }

  /**
   * Decrypts and authenticates ciphertext-and-tag.
   *
   * @returns the plaintext, or `undefined` if the input is shorter than a tag or fails
   *   authentication (wrong key, nonce or associated data, or altered bytes).
   */
  open(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
    const decipher = this.#decipher;
    if (decipher === undefined) throw new CohortError('INTERNAL', 'an AeadOpener was used twice');
    this.#decipher = undefined;
    if (ciphertext.byteLength < TAG_BYTES) return undefined;
    const bodyLength = ciphertext.byteLength - TAG_BYTES;
    decipher.setAuthTag(ciphertext.subarray(bodyLength));
    if (ad.byteLength > 0) decipher.setAAD(ad, { plaintextLength: bodyLength });
    const plain = decipher.update(ciphertext.subarray(0, bodyLength));
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      return undefined;
    }
    return owned(plain);
  }
}

/**
 * The bytes of a buffer node:crypto returned, owning their memory. Node hands back buffers of
 * their own, returned as they are (no new view: the frame path takes them as Buffers); copy only
 * if one ever comes as a view into a larger (pooled) one.
 */
function owned(bytes: Buffer): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength;
  return whole ? bytes : copyBytes(bytes);
}

/** ChaCha20-Poly1305 (RFC 8439) encryption: returns ciphertext followed by the 16-byte tag. */
export function aeadEncrypt(key: Uint8Array | KeyObject, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return new AeadSealer(key, nonce).seal(ad, plaintext);
}

/**
 * ChaCha20-Poly1305 (RFC 8439) decryption of ciphertext-and-tag.
 *
 * @returns the plaintext, or `undefined` if the input is shorter than a tag or fails
 *   authentication (wrong key, nonce or associated data, or altered bytes).
 */
export function aeadDecrypt(
  key: Uint8Array | KeyObject,
  nonce: Uint8Array,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | undefined {
  if (ciphertext.byteLength < TAG_BYTES) return undefined;
  return new AeadOpener(key, nonce).open(ad, ciphertext);
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return copyBytes(hash.digest());
}

/** HMAC-SHA256 keyed with `key` over the concatenation of `parts`. */
export function hmacSha256(key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  const mac = createHmac('sha256', key);
  for (const p of parts) mac.update(p);
  return copyBytes(mac.digest());
}

/**
 * HKDF-SHA256 as RFC 5869 defines it: extract with `salt`, then expand with `info` to `length`
 * bytes (at most 255 × 32).
 *
 * @throws CohortError `INVALID_ARGUMENT` for a length out of range.
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_BYTES) {
    throw new CohortError('INVALID_ARGUMENT', `HKDF-SHA256 output length must be an integer from 0 to ${255 * HASH_BYTES}, got ${describe(length)}`);
  }
  const prk = hmacSha256(salt, ikm);
  const out = new Uint8Array(length);
  let block: Uint8Array = new Uint8Array(0);
  for (let i = 1, offset = 0; offset < length; i += 1) {
    block = hmacSha256(prk, block, info, Uint8Array.of(i));
    out.set(block.subarray(0, Math.min(HASH_BYTES, length - offset)), offset);
    offset += HASH_BYTES;
  }
  prk.fill(0);
  return out;
}

/**
 * The Noise framework's `HKDF(chaining_key, input_key_material, num_outputs)`: RFC 5869 HKDF with
 * the chaining key as salt and empty info, cut into 2 or 3 outputs of 32 bytes each.
 */
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2): [Uint8Array, Uint8Array];
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 3): [Uint8Array, Uint8Array, Uint8Array];
export function noiseHkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const okm = hkdfSha256(ikm, chainingKey, new Uint8Array(0), outputs * HASH_BYTES);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < outputs; i += 1) parts.push(okm.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES));
  okm.fill(0);
  return parts;
}
