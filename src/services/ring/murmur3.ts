/**
 * MurmurHash3 x86_32: the portable 32-bit hash that places keys and nodes on a hash ring.
 *
 * The function is Austin Appleby's `MurmurHash3_x86_32` (SMHasher, `src/MurmurHash3.cpp`), exactly,
 * so any other implementation reproduces cohort's placements:
 * - Input: the UTF-8 bytes of the string, as the WHATWG `TextEncoder` produces them (a lone
 *   surrogate becomes U+FFFD, the bytes EF BF BD); a `Uint8Array` is hashed as it is.
 * - Seed: an unsigned 32-bit integer, 0 unless given.
 * - Body: each whole 4-byte block, read little-endian as `k`, is mixed with
 *   `k *= 0xcc9e2d51; k = rotl32(k, 15); k *= 0x1b873593; h ^= k; h = rotl32(h, 13);
 *   h = h * 5 + 0xe6546b64` (all arithmetic modulo 2^32).
 * - Tail: the last 1–3 bytes, little-endian into `k`, then `k *= 0xcc9e2d51; k = rotl32(k, 15);
 *   k *= 0x1b873593; h ^= k`.
 * - Finalisation: `h ^= byteLength`, then fmix32: `h ^= h >>> 16; h *= 0x85ebca6b; h ^= h >>> 13;
 *   h *= 0xc2b2ae35; h ^= h >>> 16`.
 * - Output: `h` as an unsigned integer in `[0, 2^32)`.
 *
 * This equals Python's `mmh3.hash(s, seed, signed=False)` and the C reference on the same bytes.
 * Test vectors (seed 0): `''` → 0, `'hello'` → 0x248bfa47,
 * `'The quick brown fox jumps over the lazy dog'` → 0x2e4ff723; with seed 0x9747b28c,
 * `'Hello, world!'` → 0x24884cba.
 *
 * Guarantees: the same string and seed give the same number on every platform, version and run.
 * Does not: resist deliberate collisions (it is not a cryptographic hash; do not hash
 * attacker-chosen keys where collisions would hurt), or hash the UTF-16 code units of a string.
 */
import { CohortError, describe } from '../../core/errors.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const UTF8 = new TextEncoder();

/**
 * The MurmurHash3 x86_32 hash of a string's UTF-8 bytes (or of raw bytes), as an unsigned 32-bit
 * integer. See the module header for the exact definition.
 *
 * @param input the string (hashed as UTF-8) or the bytes to hash.
 * @param seed an integer in `[0, 2^32)`; defaults to 0.
 * @throws CohortError `INVALID_ARGUMENT` when `input` is neither a string nor a `Uint8Array`, or
 *   `seed` is not an integer in `[0, 2^32)`.
 * @example
 * murmur3('hello');            // 0x248bfa47 (613153351)
 * murmur3('');                 // 0
 * murmur3('Hello, world!', 0x9747b28c); // 0x24884cba
 */
export function murmur3(input: string | Uint8Array, seed = 0): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new CohortError('INVALID_ARGUMENT', `murmur3: seed must be an integer in [0, 2^32), got ${describe(seed)}`, {
      details: { seed },
    });
  }
  if (typeof input === 'string') return hashString(input, seed);
  if (input instanceof Uint8Array) return hashBytes(input, seed);
  throw new CohortError('INVALID_ARGUMENT', `murmur3: input must be a string or a Uint8Array, got ${describe(input)}`);
}

/** One body block mixed into `h`. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The tail (its bytes already little-endian in `k`) mixed into `h`, then the finalisation. */
function finish(h: number, k: number, tailLength: number, length: number): number {
  if (tailLength > 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The hash of a string. An ASCII string's UTF-8 bytes are its code units, so it is hashed straight
 * from them (no encoding, no allocation) while checking that it is ASCII; any other string is
 * encoded to UTF-8 first.
 */
function hashString(s: string, seed: number): number {
  const length = s.length;
  const body = length & ~3;
  let h = seed | 0;
  let seen = 0;
  for (let i = 0; i < body; i += 4) {
    const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
    seen |= s.charCodeAt(i) | s.charCodeAt(i + 1) | s.charCodeAt(i + 2) | s.charCodeAt(i + 3);
    h = mixBlock(h, k);
  }
  let k = 0;
  const tail = length & 3;
  for (let i = body; i < length; i++) seen |= s.charCodeAt(i);
  if (seen > 0x7f) return hashBytes(UTF8.encode(s), seed);
  if (tail >= 3) k ^= s.charCodeAt(body + 2) << 16;
  if (tail >= 2) k ^= s.charCodeAt(body + 1) << 8;
  if (tail >= 1) k ^= s.charCodeAt(body);
  return finish(h, k, tail, length);
}

function hashBytes(bytes: Uint8Array, seed: number): number {
  const length = bytes.length;
  const body = length & ~3;
  let h = seed | 0;
  for (let i = 0; i < body; i += 4) {
    h = mixBlock(h, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let k = 0;
  const tail = length & 3;
  if (tail >= 3) k ^= bytes[body + 2]! << 16;
  if (tail >= 2) k ^= bytes[body + 1]! << 8;
  if (tail >= 1) k ^= bytes[body]!;
  return finish(h, k, tail, length);
}
