/**
 * Keys and proofs derived from the cluster secret: the Noise pre-shared key, a separate key for
 * the challenge-response proofs, the proofs themselves and their constant-time check.
 *
 * Guarantees.
 * - `deriveKeys` is deterministic: the same secret gives the same keys on every node and every
 *   version of this protocol (`cohort/v1`). The psk and the proof key come from HKDF-SHA256 with
 *   distinct labels, so neither reveals anything about the other.
 * - A proof is an HMAC-SHA256 over an unambiguous encoding: a fixed label, the role, then every
 *   transcript field, each prefixed with its 32-bit big-endian length. No two different
 *   transcripts (or roles) encode to the same bytes, so a proof made for one cannot be replayed
 *   for another: not across roles (reflection), not across connections (fresh nonces, handshake
 *   hash), not across identities.
 * - `verifyProof` compares in constant time for equal lengths (`crypto.timingSafeEqual`); a
 *   length mismatch returns `false` at once (the length is public) and never throws.
 *
 * Deliberately not done: no password hashing. HKDF is fast, so a weak secret can be guessed
 * offline by anyone who records one handshake (NNpsk0 lets them check a guess against message 1).
 * The 16-character minimum only stops obviously weak secrets; use a random secret, e.g. 32 random
 * bytes in base64 (`openssl rand -base64 32`). No I/O and no message formats either: the handshake
 * module decides what is sent when.
 */
import { randomFillSync, timingSafeEqual } from 'node:crypto';
import { CohortError, describe } from '../../core/errors.js';
import { HASH_BYTES, concatBytes, hkdfSha256, hmacSha256, requireBytes } from './primitives.js';

/** The fewest characters (Unicode code points) a secret may have. */
export const MIN_SECRET_LENGTH = 16;

/** Bytes in each key `deriveKeys` returns. */
export const DERIVED_KEY_BYTES = 32;

/** Bytes in a nonce from `randomNonce`, and the length a proof transcript requires. */
export const AUTH_NONCE_BYTES = 32;

/** Bytes in a proof. */
export const PROOF_BYTES = HASH_BYTES;

/** Fixed HKDF salt: domain separation from every other use of the same secret. */
const DERIVE_SALT = 'cohort/v1/secret';
const PSK_INFO = 'cohort/v1/psk';
const AUTH_INFO = 'cohort/v1/auth';
const PROOF_LABEL = 'cohort/v1/proof';

/** The two roles of a handshake. */
export const ROLES = Object.freeze({ initiator: 'initiator', responder: 'responder' } as const);
/** Which side of the handshake made a proof. */
export type Role = (typeof ROLES)[keyof typeof ROLES];

/** Keys derived from a secret. */
export interface DerivedKeys {
  /** The Noise pre-shared key (32 bytes). */
  readonly psk: Uint8Array;
  /** The HMAC key for proofs (32 bytes). */
  readonly authKey: Uint8Array;
}

/** What a proof covers: everything that makes one handshake unique. */
export interface ProofTranscript {
  /** The Noise handshake hash (32 bytes) at the point the proof is made. */
  handshakeHash: Uint8Array;
  /** The initiator's fresh nonce (32 bytes). */
  initiatorNonce: Uint8Array;
  /** The responder's fresh nonce (32 bytes). */
  responderNonce: Uint8Array;
  /** The initiator's node identity. */
  initiatorId: string;
  /** The responder's node identity. */
  responderId: string;
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/**
 * Derives the psk and the proof key from a secret with HKDF-SHA256 (fixed salt, one label each).
 * The secret is normalised to Unicode NFC first, so the same passphrase typed on two systems that
 * compose accents differently still matches.
 *
 * @throws CohortError `INVALID_OPTION` unless the secret is a string of at least 16 characters.
 * @example
 * const { psk, authKey } = deriveKeys(process.env.COHORT_SECRET!);
 */
export function deriveKeys(secret: string): DerivedKeys {
  if (typeof secret !== 'string') {
    throw new CohortError('INVALID_OPTION', `the cluster secret must be a string, got ${describe(secret)}`);
  }
  const normalised = secret.normalize('NFC');
  const length = [...normalised].length;
  if (length < MIN_SECRET_LENGTH) {
    throw new CohortError(
      'INVALID_OPTION',
      length === 0
        ? `the cluster secret is empty; it must be at least ${MIN_SECRET_LENGTH} characters (better: 32 random bytes in base64)`
        : `the cluster secret is ${length} characters; it must be at least ${MIN_SECRET_LENGTH} (better: 32 random bytes in base64), because anyone who records a handshake can test guesses offline`,
      { details: { length, minimum: MIN_SECRET_LENGTH } },
    );
  }
  const ikm = utf8(normalised);
  const salt = utf8(DERIVE_SALT);
  const keys = {
    psk: hkdfSha256(ikm, salt, utf8(PSK_INFO), DERIVED_KEY_BYTES),
    authKey: hkdfSha256(ikm, salt, utf8(AUTH_INFO), DERIVED_KEY_BYTES),
  };
  ikm.fill(0);
  return keys;
}

/** Each field as a 32-bit big-endian length followed by its bytes. */
function lengthPrefixed(fields: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, field.byteLength, false);
    parts.push(length, field);
  }
  return concatBytes(...parts);
}

function requireId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new CohortError('INVALID_ARGUMENT', `${what} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/**
 * The proof that the side playing `role` knows the secret, bound to one handshake:
 * HMAC-SHA256(authKey, len‖"cohort/v1/proof" ‖ len‖role ‖ len‖handshakeHash ‖ len‖initiatorNonce ‖
 * len‖responderNonce ‖ len‖initiatorId ‖ len‖responderId), lengths as u32 big-endian.
 *
 * @returns 32 bytes.
 * @throws CohortError `INVALID_ARGUMENT` for a key or hash that is not 32 bytes, nonces that are
 *   not 32 bytes, an unknown role, or empty identities.
 * @example
 * const mine = proof(keys.authKey, 'responder', transcript);
 * // the initiator recomputes it and checks: verifyProof(proof(keys.authKey, 'responder', t), received)
 */
export function proof(authKey: Uint8Array, role: Role, transcript: ProofTranscript): Uint8Array {
  requireBytes(authKey, 'proof key', DERIVED_KEY_BYTES);
  if (role !== ROLES.initiator && role !== ROLES.responder) {
    throw new CohortError('INVALID_ARGUMENT', `proof role must be 'initiator' or 'responder', got ${describe(role)}`);
  }
  if (typeof transcript !== 'object' || transcript === null) {
    throw new CohortError('INVALID_ARGUMENT', `proof transcript must be an object, got ${describe(transcript)}`);
  }
  const message = lengthPrefixed([
    utf8(PROOF_LABEL),
    utf8(role),
    requireBytes(transcript.handshakeHash, 'transcript handshakeHash', HASH_BYTES),
    requireBytes(transcript.initiatorNonce, 'transcript initiatorNonce', AUTH_NONCE_BYTES),
    requireBytes(transcript.responderNonce, 'transcript responderNonce', AUTH_NONCE_BYTES),
    utf8(requireId(transcript.initiatorId, 'transcript initiatorId')),
    utf8(requireId(transcript.responderId, 'transcript responderId')),
  ]);
  return hmacSha256(authKey, message);
}

/**
 * Whether a received proof equals the expected one, compared in constant time.
 *
 * @returns `false` for a different length or a value that is not bytes; never throws.
 * @example
 * if (!verifyProof(proof(authKey, 'initiator', t), received)) throw new CohortError('AUTH_FAILED', '...');
 */
export function verifyProof(expected: Uint8Array, received: Uint8Array): boolean {
  if (!(expected instanceof Uint8Array) || !(received instanceof Uint8Array)) return false;
  if (expected.byteLength !== received.byteLength || expected.byteLength === 0) return false;
  return timingSafeEqual(expected, received);
}

/** 32 fresh random bytes from the operating system's CSPRNG, for a handshake challenge. */
export function randomNonce(): Uint8Array {
  return randomFillSync(new Uint8Array(AUTH_NONCE_BYTES));
}
