/**
 * Sealing into two parts (ciphertext, tag) instead of one array: `AeadSealer.sealParts`,
 * `CipherState.encryptParts`, `FrameCipher.sealParts`. The parts joined must be exactly what the
 * one-array calls return, and everything else (nonces, limits, single use) must behave the same.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CipherState, FrameCipher, MAX_PLAINTEXT_BYTES } from '../../../src/transport/crypto/index.js';
import { AeadSealer } from '../../../src/transport/crypto/primitives.js';
import { catchCohort, fromHex, toHex, utf8 } from './helpers.js';
import { RFC8439_AEAD } from './vectors.js';

const KEY = new Uint8Array(32).fill(8);
const OTHER_KEY = new Uint8Array(32).fill(9);
const joined = ([ciphertext, tag]: [Uint8Array, Uint8Array]): string => toHex(ciphertext) + toHex(tag);

describe('sealing in parts', () => {
  it('sealing in parts — the RFC 8439 §2.8.2 vector comes out as its ciphertext and its tag', () => {
    const v = RFC8439_AEAD;
    const [ciphertext, tag] = new AeadSealer(fromHex(v.key), fromHex(v.nonce)).sealParts(fromHex(v.aad), utf8(v.plaintext));
    expect(toHex(ciphertext)).toBe(v.ciphertext);
    expect(toHex(tag)).toBe(v.tag);
    for (const part of [ciphertext, tag]) {
      expect(part.byteOffset).toBe(0);
      expect(part.buffer.byteLength).toBe(part.byteLength);
    }
  });

  it('sealing in parts — a sealer still works once: sealParts after seal (or twice) throws INTERNAL', () => {
    const sealer = new AeadSealer(KEY, new Uint8Array(12));
    sealer.seal(new Uint8Array(0), utf8('once'));
    expect(catchCohort(() => sealer.sealParts(new Uint8Array(0), utf8('again'))).code).toBe('INTERNAL');
    const parts = new AeadSealer(KEY, new Uint8Array(12));
    parts.sealParts(new Uint8Array(0), utf8('once'));
    expect(catchCohort(() => parts.sealParts(new Uint8Array(0), utf8('again'))).code).toBe('INTERNAL');
  });

  it('sealing in parts — encryptParts joined equals encrypt, message after message, with or without associated data', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 20 }), fc.boolean()), { maxLength: 20 }), (messages) => {
        const reference = new CipherState(KEY);
        const parts = new CipherState(KEY);
        const receiver = new CipherState(KEY);
        for (const [plaintext, ad, prepare] of messages) {
          if (prepare) parts.prepare('encrypt');
          const [ciphertext, tag] = parts.encryptParts(plaintext, ad);
          expect(tag.byteLength).toBe(16);
          expect(toHex(ciphertext) + toHex(tag)).toBe(toHex(reference.encrypt(plaintext, ad)));
          expect(toHex(receiver.decrypt(Buffer.concat([ciphertext, tag]), ad))).toBe(toHex(plaintext));
        }
        expect(parts.nonce).toBe(reference.nonce);
      }),
      { numRuns: 50 },
    );
  });

  it('sealing after room — encryptAfter and sealAfter leave the room free and seal what encrypt and seal would', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 8 }), fc.boolean()), { maxLength: 20 }), (messages) => {
        const reference = new CipherState(KEY);
        const after = new CipherState(KEY);
        for (const [plaintext, room, prepare] of messages) {
          if (prepare) after.prepare('encrypt');
          const out = after.encryptAfter(room, plaintext);
          expect(out.byteLength).toBe(room + plaintext.byteLength + 16);
          expect(toHex(out.subarray(room))).toBe(toHex(reference.encrypt(plaintext)));
        }
        expect(after.nonce).toBe(reference.nonce);
      }),
      { numRuns: 50 },
    );
    const [send, receive] = [new CipherState(KEY), new CipherState(OTHER_KEY)];
    const frames = new FrameCipher(send, receive);
    const peer = new FrameCipher(new CipherState(OTHER_KEY), new CipherState(KEY));
    expect(Buffer.from(peer.open(frames.sealAfter(4, utf8('framed')).subarray(4))).toString()).toBe('framed');
  });

  it('sealing in parts — the same limits as encrypt: too long is refused and uses no nonce; an exhausted nonce refuses', () => {
    const cipher = new CipherState(KEY);
    expect(catchCohort(() => cipher.encryptParts(new Uint8Array(65535 - 15))).code).toBe('INVALID_ARGUMENT');
    expect(cipher.nonce).toBe(0n);
    const spent = new CipherState(KEY, { nonce: 2n ** 64n - 1n });
    expect(catchCohort(() => spent.encryptParts(utf8('more'))).message).toMatch(/every nonce/);
  });

  it('sealing in parts — FrameCipher.sealParts frames open on the other side, interleaved with seal, in order', () => {
    const a = new FrameCipher(new CipherState(KEY), new CipherState(OTHER_KEY));
    const b = new FrameCipher(new CipherState(OTHER_KEY), new CipherState(KEY));
    const reference = new FrameCipher(new CipherState(KEY), new CipherState(OTHER_KEY));
    for (let n = 0; n < 10; n += 1) {
      const text = `frame ${n}`;
      const frame = n % 2 === 0 ? a.sealParts(utf8(text)) : splitTag(a.seal(utf8(text)));
      expect(joined(frame)).toBe(toHex(reference.seal(utf8(text))));
      expect(Buffer.from(b.open(Buffer.concat(frame))).toString()).toBe(text);
    }
    expect(a.sealed).toBe(10n);
    expect(catchCohort(() => a.sealParts(new Uint8Array(MAX_PLAINTEXT_BYTES + 1))).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => a.sealParts('x' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
    expect(a.sealed).toBe(10n);
  });
});

function splitTag(sealed: Uint8Array): [Uint8Array, Uint8Array] {
  return [sealed.subarray(0, sealed.byteLength - 16), sealed.subarray(sealed.byteLength - 16)];
}
