/**
 * The cryptographic core of the link: the Noise `NNpsk0` handshake, keys and proofs derived from
 * the cluster secret, and the frame cipher used once a link is up.
 *
 * Guarantees and limits are stated in each module: `noise.ts` (handshake), `cipher-state.ts`
 * (per-direction ciphers), `auth.ts` (secret, proofs), `frame-cipher.ts` (transport frames),
 * `primitives.ts` (node:crypto wrappers), `wasm-aead.ts` (the AEAD for small frames, in WebAssembly).
 * This index only re-exports by name; it adds no behaviour and exports no primitive wrappers.
 */
export { CipherState, MAX_NOISE_MESSAGE_BYTES, NOISE_TAG_BYTES, type CipherOperation, type CipherStateOptions } from './cipher-state.js';
export { HandshakeState, NOISE_PROTOCOL_NAME, PSK_BYTES, type HandshakeStateOptions } from './noise.js';
export {
  AUTH_NONCE_BYTES,
  DERIVED_KEY_BYTES,
  MIN_SECRET_LENGTH,
  PROOF_BYTES,
  ROLES,
  deriveKeys,
  proof,
  randomNonce,
  verifyProof,
  type DerivedKeys,
  type ProofTranscript,
  type Role,
} from './auth.js';
export { FRAME_OVERHEAD_BYTES, FrameCipher, MAX_PLAINTEXT_BYTES } from './frame-cipher.js';
