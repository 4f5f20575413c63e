import { describe, expect, it } from 'vitest';
import { murmur3 } from '../../../src/services/ring/murmur3.js';
import { thrown } from '../../helpers/errors.js';
import { mulberry32 } from '../../helpers/prng.js';

/**
 * Expected values come from the C reference (SMHasher's MurmurHash3_x86_32 compiled with gcc, on
 * the UTF-8 bytes); the seeded ones are also the widely published vectors.
 */
const VECTORS: readonly (readonly [input: string, seed: number, hash: number])[] = [
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['\0\0\0\0', 0, 0x2362f9de],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ['hello', 0, 0x248bfa47],
  ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ['Hello, world!', 0, 0xc0363e43],
  ['a', 0, 0x3c2569b2],
  ['ab', 0, 0x9bbfd75f],
  ['abc', 0, 0xb3dd93fa],
  ['abcd', 0, 0x43ed676a],
  ['node@host:1#0', 0, 0x11141c40],
  ['日本語', 0, 0xa5a47297],
  ['héllo wörld ✓ 😀', 0, 0x7ebd655c],
  ['\uFFFD', 0, 0xb69ca6c1],
];

/** A random string mixing ASCII, 2-, 3- and 4-byte UTF-8 characters. */
function randomString(random: () => number): string {
  const alphabet = ['a', 'Z', '0', '#', ':', 'é', 'ß', '✓', '日', '😀', '\u0000'];
  let s = '';
  const length = Math.floor(random() * 24);
  for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}

describe('murmur3', () => {
  it('murmur3 — matches the reference vectors, with and without a seed', () => {
    for (const [input, seed, hash] of VECTORS) {
      expect({ input, seed, hash: murmur3(input, seed) }).toEqual({ input, seed, hash });
    }
  });

  it('murmur3 — the seed defaults to 0', () => {
    expect(murmur3('hello')).toBe(0x248bfa47);
    expect(murmur3('')).toBe(0);
  });

  it('murmur3 — a string hashes as its UTF-8 bytes, ASCII or not', () => {
    const random = mulberry32(7);
    const encoder = new TextEncoder();
    for (let n = 0; n < 2_000; n++) {
      const s = randomString(random);
      expect(murmur3(s)).toBe(murmur3(encoder.encode(s)));
      expect(murmur3(s, 42)).toBe(murmur3(Buffer.from(s, 'utf8'), 42));
    }
  });

  it('murmur3 — a lone surrogate hashes as U+FFFD, as TextEncoder encodes it', () => {
    expect(murmur3('\uD800')).toBe(0xb69ca6c1);
    expect(murmur3('x\uDC00y')).toBe(murmur3('x\uFFFDy'));
  });

  it('murmur3 — every result is an unsigned 32-bit integer', () => {
    const random = mulberry32(11);
    let high = 0;
    for (let n = 0; n < 2_000; n++) {
      const h = murmur3(randomString(random), Math.floor(random() * 2 ** 32));
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
      if (h >= 2 ** 31) high++;
    }
    // The upper half of the range is reached (no accidental signed result), about half the time.
    expect(high).toBeGreaterThan(800);
    expect(high).toBeLessThan(1_200);
  });

  it('murmur3 — refuses a seed outside [0, 2^32) and input that is neither string nor bytes', () => {
    for (const seed of [-1, 2 ** 32, 1.5, Number.NaN]) {
      const error = thrown(() => murmur3('x', seed));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('seed must be an integer in [0, 2^32)');
    }
    const error = thrown(() => murmur3(42 as unknown as string));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('a string or a Uint8Array, got 42');
  });
});
