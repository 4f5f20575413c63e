import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { hkdfSync } from 'node:crypto';
import {
  aeadDecrypt,
  aeadEncrypt,
  generateX25519,
  hkdfSha256,
  hmacSha256,
  noiseHkdf,
  sha256,
  x25519,
  x25519FromPrivate,
} from '../../../src/transport/crypto/primitives.js';
import { catchCohort, fromHex, toHex, utf8 } from './helpers.js';
import {
  FIPS180_SHA256_ABC,
  RFC4231_HMAC,
  RFC5869_HKDF,
  RFC7748_DH,
  RFC7748_X25519,
  RFC7748_X25519_ITERATED,
  RFC8439_AEAD,
} from './vectors.js';

describe('primitives', () => {
  it('X25519 — reproduces the RFC 7748 §5.2 single-invocation vectors (raw keys through DER)', () => {
    for (const v of RFC7748_X25519) {
      const shared = x25519(x25519FromPrivate(fromHex(v.scalar)).privateKey, fromHex(v.u));
      expect(shared && toHex(shared)).toBe(v.output);
    }
  });

  it('X25519 — reproduces the RFC 7748 §5.2 iterated vector after 1 and 1000 iterations', () => {
    let k = fromHex(RFC7748_X25519_ITERATED.start);
    let u = k;
    for (let i = 1; i <= 1000; i += 1) {
      const next = x25519(x25519FromPrivate(k).privateKey, u);
      if (next === undefined) throw new Error(`iteration ${i} gave no result`);
      u = k;
      k = next;
      if (i === 1) expect(toHex(k)).toBe(RFC7748_X25519_ITERATED.after1);
    }
    expect(toHex(k)).toBe(RFC7748_X25519_ITERATED.after1000);
  });

  it('X25519 — reproduces the RFC 7748 §6.1 Diffie-Hellman exchange, public keys included', () => {
    const alice = x25519FromPrivate(fromHex(RFC7748_DH.alicePrivate));
    const bob = x25519FromPrivate(fromHex(RFC7748_DH.bobPrivate));
    expect(toHex(alice.publicKey)).toBe(RFC7748_DH.alicePublic);
    expect(toHex(bob.publicKey)).toBe(RFC7748_DH.bobPublic);
    expect(toHex(x25519(alice.privateKey, bob.publicKey)!)).toBe(RFC7748_DH.shared);
    expect(toHex(x25519(bob.privateKey, alice.publicKey)!)).toBe(RFC7748_DH.shared);
  });

  it('X25519 — generated key pairs agree and export 32-byte public keys', () => {
    const a = generateX25519();
    const b = generateX25519();
    expect(a.publicKey.byteLength).toBe(32);
    expect(toHex(x25519(a.privateKey, b.publicKey)!)).toBe(toHex(x25519(b.privateKey, a.publicKey)!));
    expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
  });

  it('X25519 — a low-order peer key yields no secret instead of zeros', () => {
    const me = generateX25519();
    expect(x25519(me.privateKey, new Uint8Array(32))).toBeUndefined();
    expect(x25519(me.privateKey, Uint8Array.of(1, ...new Uint8Array(31)))).toBeUndefined();
  });

  it('X25519 — keys of the wrong size are refused with INVALID_ARGUMENT', () => {
    expect(catchCohort(() => x25519FromPrivate(new Uint8Array(31))).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => x25519(generateX25519().privateKey, new Uint8Array(33))).code).toBe('INVALID_ARGUMENT');
  });

  it('ChaCha20-Poly1305 — reproduces the RFC 8439 §2.8.2 AEAD vector and opens it again', () => {
    const v = RFC8439_AEAD;
    const sealed = aeadEncrypt(fromHex(v.key), fromHex(v.nonce), fromHex(v.aad), utf8(v.plaintext));
    expect(toHex(sealed)).toBe(v.ciphertext + v.tag);
    const opened = aeadDecrypt(fromHex(v.key), fromHex(v.nonce), fromHex(v.aad), sealed);
    expect(Buffer.from(opened!).toString('utf8')).toBe(v.plaintext);
  });

  it('ChaCha20-Poly1305 — any changed bit, nonce or associated data fails to open', () => {
    const v = RFC8439_AEAD;
    const sealed = fromHex(v.ciphertext + v.tag);
    const open = (bytes: Uint8Array, nonce: string = v.nonce, aad: string = v.aad) => aeadDecrypt(fromHex(v.key), fromHex(nonce), fromHex(aad), bytes);
    for (const index of [0, 57, sealed.byteLength - 17, sealed.byteLength - 1]) {
      const tampered = sealed.slice();
      tampered[index]! ^= 0x01;
      expect(open(tampered)).toBeUndefined();
    }
    expect(open(sealed, '070000004041424344454648')).toBeUndefined();
    expect(open(sealed, v.nonce, '50515253c0c1c2c3c4c5c6c8')).toBeUndefined();
    expect(open(sealed.subarray(0, 15))).toBeUndefined();
  });

  it('HKDF-SHA256 — reproduces RFC 5869 test cases 1 and 3', () => {
    for (const v of RFC5869_HKDF) {
      expect(toHex(hkdfSha256(fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.length))).toBe(v.okm);
    }
  });

  it('HKDF-SHA256 — agrees with node:crypto hkdfSync for any input and length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.integer({ min: 1, max: 200 }),
        (ikm, salt, info, length) => {
          const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, length)).toString('hex');
          expect(toHex(hkdfSha256(ikm, salt, info, length))).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
    expect(catchCohort(() => hkdfSha256(new Uint8Array(1), new Uint8Array(0), new Uint8Array(0), 255 * 32 + 1)).code).toBe('INVALID_ARGUMENT');
  });

  it("HKDF-SHA256 — Noise's HKDF is RFC 5869 with the chaining key as salt and empty info, cut in 32-byte outputs", () => {
    const ck = fromHex('11'.repeat(32));
    const ikm = fromHex('22'.repeat(32));
    const okm = toHex(hkdfSha256(ikm, ck, new Uint8Array(0), 96));
    const [a, b, c] = noiseHkdf(ck, ikm, 3);
    expect(toHex(a) + toHex(b) + toHex(c)).toBe(okm);
    const [d, e] = noiseHkdf(ck, ikm, 2);
    expect(toHex(d) + toHex(e)).toBe(okm.slice(0, 128));
  });

  it('SHA-256 and HMAC-SHA256 — reproduce FIPS 180-2 "abc" and RFC 4231 test case 2', () => {
    expect(toHex(sha256(utf8('abc')))).toBe(FIPS180_SHA256_ABC);
    expect(toHex(sha256(utf8('a'), utf8('bc')))).toBe(FIPS180_SHA256_ABC);
    expect(toHex(hmacSha256(fromHex(RFC4231_HMAC.key), utf8(RFC4231_HMAC.data)))).toBe(RFC4231_HMAC.mac);
  });

  it('primitives — results are fresh arrays that do not share memory with a larger pool', () => {
    const results = [
      sha256(utf8('x')),
      hmacSha256(utf8('k'), utf8('x')),
      hkdfSha256(utf8('k'), utf8('s'), utf8('i'), 32),
      generateX25519().publicKey,
      aeadEncrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), utf8('hello')),
      aeadDecrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), aeadEncrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0), utf8('hello')))!,
    ];
    for (const r of results) {
      expect(r.byteOffset).toBe(0);
      expect(r.buffer.byteLength).toBe(r.byteLength);
    }
  });
});
