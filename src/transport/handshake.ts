/**
 * The link handshake: proves who is on the other end before any message flows.
 *
 * 1. Both sides send a fixed-format hello frame at once: magic, protocol major and minor, whether
 *    they authenticate with a secret, whether they encrypt. Its format never changes, so any two
 *    versions can read each other's: an unknown major version, a secret on one side only, or a
 *    different encryption setting is refused with an error frame that says so.
 * 2. Without a secret: each side sends its identity and a nonce.
 *    With a secret: a Noise `NNpsk0` handshake (X25519, ChaCha20-Poly1305, SHA-256) whose
 *    pre-shared key is derived from the secret, with both hello frames as prologue (so a
 *    downgrade is detected). Message 1 carries the initiator's identity and nonce (a wrong secret
 *    fails right there); message 2 carries the responder's identity, nonce and an HMAC proof over
 *    the handshake hash, both nonces and both identities; a third, encrypted frame carries the
 *    initiator's proof. Proofs are compared in constant time. A replayed message 1 gets a fresh
 *    responder ephemeral and nonce, so the replayer can neither decrypt message 2 nor forge the
 *    third frame.
 *    Each identity also carries the sender's frame limit (`maxFrameBytes`), so neither side
 *    writes a frame the other would refuse; a peer that does not send one (an older version) is
 *    taken to accept what this node does.
 * 3. The result is the peer's identity and frame limit and, when encrypting, a frame cipher with
 *    per-direction keys and counter nonces.
 *
 * The handshake knows identities as opaque strings; `validatePeer` lets the caller refuse one.
 */
import type { Clock } from '../core/clock.js';
import { CohortError, describe, isCohortError } from '../core/errors.js';
import { deriveKeys, proof, randomNonce, verifyProof, FrameCipher, HandshakeState } from './crypto/index.js';
import type { FrameStream } from './frame-stream.js';

/** The protocol version this build speaks. Peers with another major version are refused. */
export const PROTOCOL_VERSION = Object.freeze({ major: 1, minor: 0 });

const MAGIC = Buffer.from('COHORT', 'ascii');
const HELLO_BYTES = MAGIC.length + 4;
const KIND_ERROR = 0x7f;
const KIND_IDENT = 0x01;
const KIND_NOISE1 = 0x02;
const KIND_NOISE2 = 0x03;
const KIND_PROOF = 0x04;
const MAX_ID_LENGTH = 512;

/** Keys derived once from a secret. */
export type SecretKeys = ReturnType<typeof deriveKeys>;

/** Derives the handshake keys from a secret (validated: a string of at least 16 characters). */
export function secretKeys(secret: string): SecretKeys {
  return deriveKeys(secret);
}

export interface HandshakeOptions {
  readonly initiator: boolean;
  readonly localId: string;
  /** With a secret: mutual authentication, and encryption when `encrypt`. */
  readonly keys: SecretKeys | undefined;
  readonly encrypt: boolean;
  /** For the initiator: the identity it meant to reach, if known. */
  readonly expectedPeer?: string | undefined;
  /** This run's instance (changes at every restart), sent with the identity. */
  readonly instance: string;
  /** Returns an error to refuse a peer (identity and instance), or undefined to accept it. */
  readonly validatePeer?: ((id: string, instance: string) => CohortError | undefined) | undefined;
  /** This node's frame limit, sent with the identity so the peer never writes a larger frame. */
  readonly maxFrameBytes?: number | undefined;
  readonly timeoutMs: number;
  readonly clock: Clock;
}

export interface HandshakeResult {
  readonly peerId: string;
  readonly peerInstance: string;
  readonly peerVersion: { readonly major: number; readonly minor: number };
  /** The largest frame the peer accepts, when it said (a peer that does not say is taken to accept what this node does). */
  readonly peerMaxFrameBytes: number | undefined;
  /** Set when the link is encrypted. */
  readonly cipher: FrameCipher | undefined;
}

interface Hello {
  readonly major: number;
  readonly minor: number;
  readonly secret: boolean;
  readonly encrypt: boolean;
}

function encodeHello(h: Hello): Buffer {
  const b = Buffer.alloc(HELLO_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt8(h.major, MAGIC.length);
  b.writeUInt8(h.minor, MAGIC.length + 1);
  b.writeUInt8(h.secret ? 1 : 0, MAGIC.length + 2);
  b.writeUInt8(h.encrypt ? 1 : 0, MAGIC.length + 3);
  return b;
}

function decodeHello(frame: Uint8Array): Hello {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < HELLO_BYTES || !b.subarray(0, MAGIC.length).equals(MAGIC)) {
    if (b.length > 0 && b[0] === KIND_ERROR) throw peerError(b);
    throw new CohortError('PROTOCOL_ERROR', 'the peer is not a cohort node (bad hello)');
  }
  return {
    major: b.readUInt8(MAGIC.length),
    minor: b.readUInt8(MAGIC.length + 1),
    secret: b.readUInt8(MAGIC.length + 2) === 1,
    encrypt: b.readUInt8(MAGIC.length + 3) === 1,
  };
}

function errorFrame(error: CohortError): Buffer {
  const body = Buffer.from(JSON.stringify({ code: error.code, message: error.message }).slice(0, 1000), 'utf8');
  return Buffer.concat([Buffer.from([KIND_ERROR]), body]);
}

function peerError(frame: Buffer): CohortError {
  try {
    const parsed = JSON.parse(frame.subarray(1).toString('utf8')) as { code?: unknown; message?: unknown };
    const code = typeof parsed.code === 'string' ? parsed.code : 'PROTOCOL_ERROR';
    return new CohortError(code, `the peer refused the link: ${String(parsed.message)}`, { details: { fromPeer: true } });
  } catch {
    return new CohortError('PROTOCOL_ERROR', 'the peer refused the link');
  }
}

function framed(kind: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([kind]), body]);
}

function expectKind(frame: Uint8Array, kind: number, what: string): Uint8Array {
  if (frame.length > 0 && frame[0] === KIND_ERROR) throw peerError(Buffer.from(frame));
  if (frame.length === 0 || frame[0] !== kind) throw new CohortError('PROTOCOL_ERROR', `expected ${what} from the peer`);
  return frame.subarray(1);
}

function json(bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new CohortError('PROTOCOL_ERROR', `malformed ${what} from the peer`);
}

/** The lowest frame limit a peer may announce: below it not even the handshake fits. */
const MIN_PEER_FRAME_BYTES = 512;

function identity(body: Record<string, unknown>, what: string): { id: string; instance: string; nonce: Buffer; frames: number | undefined } {
  const { id, nonce, instance, frames } = body;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new CohortError('PROTOCOL_ERROR', `${what} has no valid identity`);
  }
  if (typeof instance !== 'string' || instance.length > 64) throw new CohortError('PROTOCOL_ERROR', `${what} has no valid instance`);
  if (typeof nonce !== 'string' || !/^[0-9a-f]{64}$/.test(nonce)) throw new CohortError('PROTOCOL_ERROR', `${what} has no valid nonce`);
  if (frames !== undefined && (!Number.isSafeInteger(frames) || (frames as number) < MIN_PEER_FRAME_BYTES || (frames as number) > 0xffff_ffff)) {
    throw new CohortError('PROTOCOL_ERROR', `${what} announces a frame limit of ${describe(frames)}; expected an integer from ${MIN_PEER_FRAME_BYTES} to 2^32 - 1`);
  }
  return { id, instance, nonce: Buffer.from(nonce, 'hex'), frames: frames as number | undefined };
}

const bytesOf = (v: unknown): Buffer => Buffer.from(JSON.stringify(v), 'utf8');

/**
 * Runs the handshake on a fresh frame stream.
 *
 * @throws CohortError `UNSUPPORTED_VERSION`, `AUTH_FAILED` (wrong or missing secret, bad proof, a
 *   refused or unexpected identity), `PROTOCOL_ERROR`, `TIMEOUT`; the stream is destroyed.
 */
export async function handshake(frames: FrameStream, options: HandshakeOptions): Promise<HandshakeResult> {
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = options.clock.setTimeout(
      () => reject(new CohortError('TIMEOUT', `the link handshake did not complete within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  });
  try {
    return await Promise.race([run(frames, options), timeout]);
  } catch (error) {
    const e = isCohortError(error) ? error : new CohortError('PROTOCOL_ERROR', 'the link handshake failed', { cause: error });
    if (!(e.details as { fromPeer?: boolean } | undefined)?.fromPeer) frames.write(errorFrame(e));
    frames.end(200);
    throw e;
  } finally {
    timer?.cancel();
  }
}

async function run(frames: FrameStream, o: HandshakeOptions): Promise<HandshakeResult> {
  const mine: Hello = { major: PROTOCOL_VERSION.major, minor: PROTOCOL_VERSION.minor, secret: o.keys !== undefined, encrypt: o.keys !== undefined && o.encrypt };
  const myHello = encodeHello(mine);
  frames.write(myHello);
  const theirHelloBytes = Buffer.from(await frames.read());
  const theirs = decodeHello(theirHelloBytes);
  if (theirs.major !== mine.major) {
    throw new CohortError(
      'UNSUPPORTED_VERSION',
      `the peer speaks cohort protocol ${theirs.major}.${theirs.minor}; this node speaks ${mine.major}.${mine.minor} and needs the same major version`,
      { details: { peer: `${theirs.major}.${theirs.minor}`, local: `${mine.major}.${mine.minor}` } },
    );
  }
  if (theirs.secret !== mine.secret) {
    throw new CohortError(
      'AUTH_FAILED',
      mine.secret ? 'this node requires a shared secret and the peer has none' : 'the peer requires a shared secret and this node has none',
    );
  }
  if (theirs.encrypt !== mine.encrypt) {
    throw new CohortError(
      'AUTH_FAILED',
      `encryption settings differ: this node ${mine.encrypt ? 'encrypts' : 'does not encrypt'} its links, the peer ${theirs.encrypt ? 'does' : 'does not'}`,
    );
  }
  const peerVersion = { major: theirs.major, minor: theirs.minor };
  const myNonce = Buffer.from(randomNonce());
  const check = (peer: { id: string; instance: string }) => {
    if (o.expectedPeer !== undefined && peer.id !== o.expectedPeer) {
      throw new CohortError('AUTH_FAILED', `dialled ${o.expectedPeer} but the peer says it is ${peer.id}`, {
        details: { expected: o.expectedPeer, got: peer.id },
      });
    }
    const refusal = o.validatePeer?.(peer.id, peer.instance);
    if (refusal !== undefined) throw refusal;
  };
  const me = { id: o.localId, instance: o.instance, nonce: myNonce.toString('hex'), frames: o.maxFrameBytes };

  if (o.keys === undefined) {
    // In turn, so that a refusal by the responder reaches the initiator before it counts the link up.
    if (o.initiator) frames.write(framed(KIND_IDENT, bytesOf(me)));
    const peer = identity(json(expectKind(await frames.read(), KIND_IDENT, 'an identity'), 'identity'), 'the peer identity');
    check(peer);
    if (!o.initiator) frames.write(framed(KIND_IDENT, bytesOf(me)));
    return { peerId: peer.id, peerInstance: peer.instance, peerVersion, peerMaxFrameBytes: peer.frames, cipher: undefined };
  }

  const [initHello, respHello] = o.initiator ? [myHello, theirHelloBytes] : [theirHelloBytes, myHello];
  const prologue = Buffer.concat([Buffer.from('cohort/handshake/1'), initHello, respHello]);
  const noise = new HandshakeState({ initiator: o.initiator, psk: o.keys.psk, prologue });

  if (o.initiator) {
    frames.write(framed(KIND_NOISE1, noise.writeMessage(bytesOf(me))));
    const hashAfterM1 = noise.handshakeHash;
    const m2 = expectKind(await frames.read(), KIND_NOISE2, 'handshake message 2');
    const body = json(decryptHandshake(() => noise.readMessage(m2)), 'handshake message 2');
    const peer = identity(body, 'handshake message 2');
    check(peer);
    const transcriptFor = (hash: Uint8Array) => ({
      handshakeHash: hash,
      initiatorNonce: myNonce,
      responderNonce: peer.nonce,
      initiatorId: o.localId,
      responderId: peer.id,
    });
    const theirProof = typeof body.proof === 'string' ? Buffer.from(body.proof, 'hex') : Buffer.alloc(0);
    if (!verifyProof(proof(o.keys.authKey, 'responder', transcriptFor(hashAfterM1)), theirProof)) {
      throw new CohortError('AUTH_FAILED', `the peer ${peer.id} failed to prove it knows the secret`);
    }
    const { send, receive } = noise.split();
    const cipher = new FrameCipher(send, receive);
    frames.write(framed(KIND_PROOF, cipher.seal(bytesOf({ proof: Buffer.from(proof(o.keys.authKey, 'initiator', transcriptFor(noise.handshakeHash))).toString('hex') }))));
    return { peerId: peer.id, peerInstance: peer.instance, peerVersion, peerMaxFrameBytes: peer.frames, cipher: o.encrypt ? cipher : undefined };
  }

  const m1 = expectKind(await frames.read(), KIND_NOISE1, 'handshake message 1');
  const peer = identity(json(decryptHandshake(() => noise.readMessage(m1)), 'handshake message 1'), 'handshake message 1');
  check(peer);
  const transcriptFor = (hash: Uint8Array) => ({
    handshakeHash: hash,
    initiatorNonce: peer.nonce,
    responderNonce: myNonce,
    initiatorId: peer.id,
    responderId: o.localId,
  });
  // The responder's proof covers the handshake hash as of message 1 (it is sent inside message 2);
  // the initiator's covers the hash after message 2, which also binds the responder's ephemeral.
  const preHash = noise.handshakeHash;
  const myProof = Buffer.from(proof(o.keys.authKey, 'responder', transcriptFor(preHash))).toString('hex');
  frames.write(framed(KIND_NOISE2, noise.writeMessage(bytesOf({ ...me, proof: myProof }))));
  const { send, receive } = noise.split();
  const cipher = new FrameCipher(send, receive);
  const m3 = expectKind(await frames.read(), KIND_PROOF, 'the initiator proof');
  let opened: Uint8Array;
  try {
    opened = cipher.open(m3);
  } catch (cause) {
    throw new CohortError('AUTH_FAILED', `the peer ${peer.id} sent an invalid proof frame`, { cause });
  }
  const body = json(opened, 'the initiator proof');
  const theirProof = typeof body.proof === 'string' ? Buffer.from(body.proof, 'hex') : Buffer.alloc(0);
  if (!verifyProof(proof(o.keys.authKey, 'initiator', transcriptFor(noise.handshakeHash)), theirProof)) {
    throw new CohortError('AUTH_FAILED', `the peer ${peer.id} failed to prove it knows the secret`);
  }
  return { peerId: peer.id, peerInstance: peer.instance, peerVersion, peerMaxFrameBytes: peer.frames, cipher: o.encrypt ? cipher : undefined };
}

function decryptHandshake(fn: () => Uint8Array): Uint8Array {
  try {
    return fn();
  } catch (cause) {
    throw new CohortError('AUTH_FAILED', 'the handshake could not be decrypted: the peer does not know the shared secret', { cause });
  }
}
