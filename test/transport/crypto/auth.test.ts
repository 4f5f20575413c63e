import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  MIN_SECRET_LENGTH,
  deriveKeys,
  proof,
  randomNonce,
  verifyProof,
  type ProofTranscript,
} from '../../../src/transport/crypto/index.js';
import { hkdfSha256, hmacSha256 } from '../../../src/transport/crypto/primitives.js';
import { catchCohort, fromHex, toHex, utf8 } from './helpers.js';

const SECRET = 'correct horse battery staple';

const transcript = (overrides: Partial<ProofTranscript> = {}): ProofTranscript => ({
  handshakeHash: new Uint8Array(32).fill(1),
  initiatorNonce: new Uint8Array(32).fill(2),
  responderNonce: new Uint8Array(32).fill(3),
  initiatorId: 'app1@127.0.0.1:4369',
  responderId: 'app2@127.0.0.2:4369',
  ...overrides,
});

describe('auth', () => {
  describe('deriveKeys', () => {
    it('auth — derives two distinct 32-byte keys, the same for the same secret', () => {
      const a = deriveKeys(SECRET);
      const b = deriveKeys(SECRET);
      expect(a.psk.byteLength).toBe(32);
      expect(a.authKey.byteLength).toBe(32);
      expect(toHex(a.psk)).toBe(toHex(b.psk));
      expect(toHex(a.authKey)).toBe(toHex(b.authKey));
      expect(toHex(a.psk)).not.toBe(toHex(a.authKey));
    });

    it('auth — keys are HKDF-SHA256 of the secret with a fixed salt and one label each (a stable wire contract)', () => {
      const ikm = utf8(SECRET);
      const salt = utf8('cohort/v1/secret');
      const { psk, authKey } = deriveKeys(SECRET);
      expect(toHex(psk)).toBe(toHex(hkdfSha256(ikm, salt, utf8('cohort/v1/psk'), 32)));
      expect(toHex(authKey)).toBe(toHex(hkdfSha256(ikm, salt, utf8('cohort/v1/auth'), 32)));
    });

    it('auth — different secrets give unrelated keys', () => {
      const a = deriveKeys(SECRET);
      const b = deriveKeys(`${SECRET}!`);
      expect(toHex(a.psk)).not.toBe(toHex(b.psk));
      expect(toHex(a.authKey)).not.toBe(toHex(b.authKey));
    });

    it('auth — a secret is normalised to NFC, so composed and decomposed accents match', () => {
      const composed = 'pâté-de-campagne-1234';
      const decomposed = composed.normalize('NFD');
      expect(decomposed).not.toBe(composed);
      expect(toHex(deriveKeys(decomposed).psk)).toBe(toHex(deriveKeys(composed).psk));
    });

    it('auth — a secret that is not a string of at least 16 characters is refused with INVALID_OPTION', () => {
      const empty = catchCohort(() => deriveKeys(''));
      expect(empty.code).toBe('INVALID_OPTION');
      expect(empty.message).toMatch(/empty/);
      const short = catchCohort(() => deriveKeys('a'.repeat(MIN_SECRET_LENGTH - 1)));
      expect(short.code).toBe('INVALID_OPTION');
      expect(short.message).toMatch(/15 characters; it must be at least 16/);
      expect(catchCohort(() => deriveKeys(undefined as unknown as string)).message).toMatch(/must be a string, got undefined/);
      expect(catchCohort(() => deriveKeys(42 as unknown as string)).code).toBe('INVALID_OPTION');
      // 16 emoji are 16 characters (32 UTF-16 units); 8 emoji are not enough.
      expect(() => deriveKeys('🔑'.repeat(16))).not.toThrow();
      expect(catchCohort(() => deriveKeys('🔑'.repeat(8))).code).toBe('INVALID_OPTION');
      expect(() => deriveKeys('a'.repeat(MIN_SECRET_LENGTH))).not.toThrow();
    });
  });

  describe('proof', () => {
    const { authKey } = deriveKeys(SECRET);

    it('auth — a proof is 32 bytes and deterministic', () => {
      const p = proof(authKey, 'initiator', transcript());
      expect(p.byteLength).toBe(32);
      expect(toHex(proof(authKey, 'initiator', transcript()))).toBe(toHex(p));
    });

    it('auth — a proof is HMAC-SHA256 over length-prefixed label, role and fields (a stable wire contract)', () => {
      const t = transcript();
      const field = (bytes: Uint8Array) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(bytes.byteLength);
        return Buffer.concat([length, bytes]);
      };
      const message = Buffer.concat(
        [utf8('cohort/v1/proof'), utf8('responder'), t.handshakeHash, t.initiatorNonce, t.responderNonce, utf8(t.initiatorId), utf8(t.responderId)].map(
          field,
        ),
      );
      expect(toHex(proof(authKey, 'responder', t))).toBe(toHex(hmacSha256(authKey, message)));
    });

    it('auth — proofs differ by role', () => {
      expect(toHex(proof(authKey, 'initiator', transcript()))).not.toBe(toHex(proof(authKey, 'responder', transcript())));
    });

    it('auth — proofs differ when any single transcript field changes', () => {
      const base = toHex(proof(authKey, 'initiator', transcript()));
      const flipped = (bytes: Uint8Array) => {
        const copy = bytes.slice();
        copy[31]! ^= 1;
        return copy;
      };
      const t = transcript();
      const changes: Partial<ProofTranscript>[] = [
        { handshakeHash: flipped(t.handshakeHash) },
        { initiatorNonce: flipped(t.initiatorNonce) },
        { responderNonce: flipped(t.responderNonce) },
        { initiatorId: 'app3@127.0.0.1:4369' },
        { responderId: 'app2@127.0.0.2:4370' },
        // Swapping the two nonces or the two identities is also a different transcript.
        { initiatorNonce: t.responderNonce, responderNonce: t.initiatorNonce },
        { initiatorId: t.responderId, responderId: t.initiatorId },
      ];
      const seen = new Set([base]);
      for (const change of changes) {
        const p = toHex(proof(authKey, 'initiator', transcript(change)));
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
    });

    it('auth — the encoding is unambiguous: moving bytes between the identities changes the proof', () => {
      fc.assert(
        fc.property(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 11 }), (a, b, cut) => {
          const joined = a + b;
          fc.pre(cut < joined.length && joined.slice(0, cut) !== a);
          const one = proof(authKey, 'initiator', transcript({ initiatorId: a, responderId: b }));
          const other = proof(authKey, 'initiator', transcript({ initiatorId: joined.slice(0, cut), responderId: joined.slice(cut) }));
          expect(toHex(one)).not.toBe(toHex(other));
        }),
      );
    });

    it('auth — proofs differ by secret', () => {
      const other = deriveKeys('another secret of enough length').authKey;
      expect(toHex(proof(authKey, 'initiator', transcript()))).not.toBe(toHex(proof(other, 'initiator', transcript())));
    });

    it('auth — malformed inputs are refused with INVALID_ARGUMENT', () => {
      expect(catchCohort(() => proof(new Uint8Array(16), 'initiator', transcript())).code).toBe('INVALID_ARGUMENT');
      expect(catchCohort(() => proof(authKey, 'server' as 'initiator', transcript())).message).toMatch(/'initiator' or 'responder'/);
      expect(catchCohort(() => proof(authKey, 'initiator', transcript({ handshakeHash: new Uint8Array(31) }))).message).toMatch(/handshakeHash must be 32 bytes/);
      expect(catchCohort(() => proof(authKey, 'initiator', transcript({ responderNonce: new Uint8Array(8) }))).code).toBe('INVALID_ARGUMENT');
      expect(catchCohort(() => proof(authKey, 'initiator', transcript({ initiatorId: '' }))).message).toMatch(/initiatorId must be a non-empty string/);
      expect(catchCohort(() => proof(authKey, 'initiator', null as unknown as ProofTranscript)).code).toBe('INVALID_ARGUMENT');
    });
  });

  describe('verifyProof', () => {
    const { authKey } = deriveKeys(SECRET);
    const expected = proof(authKey, 'responder', transcript());

    it('auth — accepts an equal proof (also as a Buffer) and rejects one differing in any byte', () => {
      expect(verifyProof(expected, expected.slice())).toBe(true);
      expect(verifyProof(expected, Buffer.from(expected))).toBe(true);
      for (let i = 0; i < expected.byteLength; i += 1) {
        const wrong = expected.slice();
        wrong[i]! ^= 0x01;
        expect(verifyProof(expected, wrong)).toBe(false);
      }
    });

    it('auth — rejects other lengths and non-bytes without throwing', () => {
      expect(verifyProof(expected, expected.subarray(0, 31))).toBe(false);
      expect(verifyProof(expected, new Uint8Array(33))).toBe(false);
      expect(verifyProof(expected, new Uint8Array(0))).toBe(false);
      expect(verifyProof(new Uint8Array(0), new Uint8Array(0))).toBe(false);
      expect(verifyProof(expected, 'deadbeef' as unknown as Uint8Array)).toBe(false);
      expect(verifyProof(expected, undefined as unknown as Uint8Array)).toBe(false);
    });
  });

  describe('randomNonce', () => {
    it('auth — returns 32 fresh bytes each time', () => {
      const a = randomNonce();
      const b = randomNonce();
      expect(a.byteLength).toBe(32);
      expect(toHex(a)).not.toBe(toHex(b));
      expect(a.buffer.byteLength).toBe(32);
    });
  });

  it('auth — keys are fresh arrays (a caller may wipe them without affecting later derivations)', () => {
    const first = deriveKeys(SECRET);
    const copy = toHex(first.psk);
    first.psk.fill(0);
    expect(toHex(deriveKeys(SECRET).psk)).toBe(copy);
    expect(fromHex(copy).byteLength).toBe(32);
  });
});
