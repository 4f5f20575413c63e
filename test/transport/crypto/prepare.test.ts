/**
 * Setting up the AEAD ahead of time (`AeadSealer`/`AeadOpener`, `CipherState.prepare`,
 * `FrameCipher.prepare`): it must change no byte on the wire, use each setup once, and never let a
 * setup made for one nonce serve another.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CipherState, FrameCipher } from '../../../src/transport/crypto/index.js';
import { AeadOpener, AeadSealer, aeadEncrypt } from '../../../src/transport/crypto/primitives.js';
import { catchCohort, fromHex, noiseNonce, toHex, utf8 } from './helpers.js';
import { RFC8439_AEAD } from './vectors.js';

const KEY = new Uint8Array(32).fill(5);
const OTHER_KEY = new Uint8Array(32).fill(6);

describe('prepared AEAD', () => {
  it('prepared AEAD — a sealer and an opener set up ahead reproduce the RFC 8439 §2.8.2 vector', () => {
    const v = RFC8439_AEAD;
    const sealer = new AeadSealer(fromHex(v.key), fromHex(v.nonce));
    const opener = new AeadOpener(fromHex(v.key), fromHex(v.nonce));
    const sealed = sealer.seal(fromHex(v.aad), utf8(v.plaintext));
    expect(toHex(sealed)).toBe(v.ciphertext + v.tag);
    expect(Buffer.from(opener.open(fromHex(v.aad), sealed)!).toString('utf8')).toBe(v.plaintext);
    expect(sealed.byteOffset).toBe(0);
    expect(sealed.buffer.byteLength).toBe(sealed.byteLength);
  });

  it('prepared AEAD — each setup works once: a second seal or open throws INTERNAL, even after a failed open', () => {
    const sealer = new AeadSealer(KEY, noiseNonce(0n));
    const sealed = sealer.seal(new Uint8Array(0), utf8('once'));
    expect(catchCohort(() => sealer.seal(new Uint8Array(0), utf8('twice'))).code).toBe('INTERNAL');

    const opener = new AeadOpener(KEY, noiseNonce(0n));
    const tampered = sealed.slice();
    tampered[0]! ^= 1;
    expect(opener.open(new Uint8Array(0), tampered)).toBeUndefined();
    expect(catchCohort(() => opener.open(new Uint8Array(0), sealed)).code).toBe('INTERNAL');
    expect(Buffer.from(new AeadOpener(KEY, noiseNonce(0n)).open(new Uint8Array(0), sealed)!).toString()).toBe('once');
  });
});

describe('cipher state — prepare', () => {
  type Step = { kind: 'prepare-encrypt' } | { kind: 'prepare-decrypt' } | { kind: 'message'; bytes: Uint8Array };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.constant<Step>({ kind: 'prepare-encrypt' }),
    fc.constant<Step>({ kind: 'prepare-decrypt' }),
    fc.uint8Array({ maxLength: 200 }).map<Step>((bytes) => ({ kind: 'message', bytes })),
  );

  it('cipher state — any mix of prepare calls on either side gives the same ciphertexts as none, and all open', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const reference = new CipherState(KEY);
        const sender = new CipherState(KEY);
        const receiver = new CipherState(KEY);
        for (const s of steps) {
          if (s.kind === 'prepare-encrypt') sender.prepare('encrypt');
          else if (s.kind === 'prepare-decrypt') {
            sender.prepare('decrypt');
            receiver.prepare('decrypt');
          } else {
            const sealed = sender.encrypt(s.bytes);
            expect(toHex(sealed)).toBe(toHex(reference.encrypt(s.bytes)));
            expect(toHex(receiver.decrypt(sealed))).toBe(toHex(s.bytes));
          }
        }
        expect(sender.nonce).toBe(reference.nonce);
        expect(receiver.nonce).toBe(reference.nonce);
      }),
      { numRuns: 100 },
    );
  });

  it('cipher state — a setup made for one nonce is dropped when the nonce moves, never used for the next', () => {
    // Prepared to encrypt at nonce 0, but a decrypt moves the nonce to 1 first.
    const peer = new CipherState(KEY);
    const both = new CipherState(KEY);
    both.prepare('encrypt');
    both.decrypt(peer.encrypt(utf8('first')));
    expect(toHex(both.encrypt(utf8('second')))).toBe(toHex(aeadEncrypt(KEY, noiseNonce(1n), new Uint8Array(0), utf8('second'))));

    // Prepared to decrypt at nonce 0, but an encrypt moves the nonce to 1 first.
    const reader = new CipherState(KEY);
    reader.prepare('decrypt');
    reader.encrypt(utf8('moves the nonce'));
    const atOne = aeadEncrypt(KEY, noiseNonce(1n), new Uint8Array(0), utf8('at nonce 1'));
    expect(Buffer.from(reader.decrypt(atOne)).toString()).toBe('at nonce 1');
  });

  it('cipher state — a failed decrypt uses up its setup but not its nonce: the genuine message still opens', () => {
    const sender = new CipherState(KEY);
    const receiver = new CipherState(KEY);
    const sealed = sender.encrypt(utf8('genuine'));
    const tampered = sealed.slice();
    tampered[2]! ^= 0x10;
    receiver.prepare('decrypt');
    expect(catchCohort(() => receiver.decrypt(tampered)).code).toBe('PROTOCOL_ERROR');
    expect(receiver.nonce).toBe(0n);
    receiver.prepare('decrypt');
    expect(catchCohort(() => receiver.decrypt(new CipherState(OTHER_KEY).encrypt(utf8('genuine')))).code).toBe('PROTOCOL_ERROR');
    expect(Buffer.from(receiver.decrypt(sealed)).toString()).toBe('genuine');
    expect(receiver.nonce).toBe(1n);
  });

  it('cipher state — prepare at the reserved last nonce does nothing, and the cipher still refuses', () => {
    const spent = new CipherState(KEY, { nonce: 2n ** 64n - 1n });
    spent.prepare('encrypt');
    spent.prepare('decrypt');
    expect(catchCohort(() => spent.encrypt(utf8('more'))).message).toMatch(/every nonce/);
    expect(catchCohort(() => spent.decrypt(new Uint8Array(16))).message).toMatch(/every nonce/);
  });
});

describe('frame cipher — prepare', () => {
  /** Two frame ciphers with fixed keys, so two pairs seal identical frames. */
  const fixedPair = () => ({
    a: new FrameCipher(new CipherState(KEY), new CipherState(OTHER_KEY)),
    b: new FrameCipher(new CipherState(OTHER_KEY), new CipherState(KEY)),
  });

  it('frame cipher — prepare between frames changes no byte on the wire, in either direction', () => {
    const prepared = fixedPair();
    const reference = fixedPair();
    for (let n = 0; n < 20; n += 1) {
      if (n % 3 !== 2) prepared.a.prepare();
      if (n % 2 === 0) prepared.b.prepare();
      const out = prepared.a.seal(utf8(`request ${n}`));
      expect(toHex(out)).toBe(toHex(reference.a.seal(utf8(`request ${n}`))));
      expect(Buffer.from(prepared.b.open(out)).toString()).toBe(`request ${n}`);
      const back = prepared.b.seal(utf8(`response ${n}`));
      expect(toHex(back)).toBe(toHex(reference.b.seal(utf8(`response ${n}`))));
      expect(Buffer.from(prepared.a.open(back)).toString()).toBe(`response ${n}`);
    }
  });

  it('frame cipher — with prepared setups, tampered and replayed frames still fail, and prepare after a failure is a no-op', () => {
    const { a, b } = fixedPair();
    b.prepare();
    const frame = a.seal(utf8('pay 10'));
    expect(Buffer.from(b.open(frame)).toString()).toBe('pay 10');
    b.prepare();
    expect(catchCohort(() => b.open(frame)).code).toBe('PROTOCOL_ERROR'); // replayed
    expect(() => b.prepare()).not.toThrow();
    a.prepare();
    expect(catchCohort(() => b.open(a.seal(utf8('next')))).message).toMatch(/already failed/);

    const fresh = fixedPair();
    fresh.b.prepare();
    const tampered = fresh.a.seal(utf8('pay 10'));
    tampered[0]! ^= 0x01;
    expect(catchCohort(() => fresh.b.open(tampered)).code).toBe('PROTOCOL_ERROR');
  });
});
