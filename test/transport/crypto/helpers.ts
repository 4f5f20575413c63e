/**
 * Small helpers shared by the crypto tests: hex conversion, catching a coded error, and a complete
 * handshake between two fresh `HandshakeState`s.
 */
import { HandshakeState, type CipherState } from '../../../src/transport/crypto/index.js';

/** The CohortError a function throws (shared with the other tests). */
export { thrown as catchCohort } from '../../helpers/errors.js';

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
export const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
/** The 12-byte ChaCha20-Poly1305 nonce Noise builds from counter `n`: 4 zero bytes, then `n` little-endian. */
export const noiseNonce = (n: bigint): Uint8Array => {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(n, 4);
  return nonce;
};

export interface Session {
  readonly initiator: HandshakeState;
  readonly responder: HandshakeState;
  readonly i: { send: CipherState; receive: CipherState };
  readonly r: { send: CipherState; receive: CipherState };
}

/** Runs a full NNpsk0 handshake between two fresh states and splits both. */
export function handshakePair(psk: Uint8Array = new Uint8Array(32).fill(7), prologue?: Uint8Array): Session {
  const initiator = new HandshakeState({ initiator: true, psk, ...(prologue === undefined ? {} : { prologue }) });
  const responder = new HandshakeState({ initiator: false, psk, ...(prologue === undefined ? {} : { prologue }) });
  responder.readMessage(initiator.writeMessage());
  initiator.readMessage(responder.writeMessage());
  return { initiator, responder, i: initiator.split(), r: responder.split() };
}
