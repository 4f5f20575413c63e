/**
 * The Noise protocol framework (revision 34) handshake, for exactly one protocol:
 * `Noise_NNpsk0_25519_ChaChaPoly_SHA256`.
 *
 *     NNpsk0:
 *       -> psk, e
 *       <- e, ee
 *
 * The internal `SymmetricState` and the `HandshakeState` follow sections 5.2 and 5.3 of the
 * specification step by step (the `CipherState` of section 5.1 is in `cipher-state.ts`), with the
 * `psk` modifier of section 9: the psk token comes first in message 1 and runs
 * `MixKeyAndHash(psk)`, and with a psk every `e` token also runs `MixKey(e.public_key)`. The
 * pattern is kept as data (`MESSAGE_PATTERNS`) and its tokens are processed one by one.
 *
 * Guarantees.
 * - Byte-for-byte compatible with other Noise implementations: the published cacophony test vector
 *   for this protocol is reproduced exactly (handshake messages, handshake hash, transport messages).
 * - Both handshake payloads are encrypted and authenticated under keys derived from the psk (and
 *   the prologue), so a peer with another psk or prologue is detected on the first message read
 *   (`AUTH_FAILED`).
 * - Every handshake message is at most 65535 bytes: longer ones are refused on write and on read.
 * - Calls out of order (writing when it is the peer's turn, reading a third message, splitting
 *   before the end or twice) throw `PROTOCOL_ERROR`; a handshake that failed once refuses all
 *   further calls, since its transcript is no longer in step with the peer's.
 * - `split()` returns one `CipherState` per direction, oriented for this side, exactly once.
 *
 * Deliberately not done: other patterns, other primitives, static keys; no I/O, framing or
 * identity checks (see `auth.ts`); no promise that keys are wiped from memory (see
 * `primitives.ts`). Note that a psk-only handshake lets anyone who records message 1 test guesses
 * of the psk offline, so the psk must be high-entropy (`auth.ts` derives it from the secret and
 * explains the secret's minimum length). NNpsk0 has no static keys: it authenticates "knows the
 * psk", not which node; node identities are proven on top of it with `auth.ts` proofs.
 */
import { CohortError, describe } from '../../core/errors.js';
import { CipherState, MAX_NOISE_MESSAGE_BYTES } from './cipher-state.js';
import {
  DH_BYTES,
  HASH_BYTES,
  TAG_BYTES,
  concatBytes,
  copyBytes,
  generateX25519,
  noiseHkdf,
  requireBytes,
  sha256,
  x25519,
  x25519FromPrivate,
  type X25519KeyPair,
} from './primitives.js';

/** The full Noise protocol name, hashed into the initial handshake state. */
export const NOISE_PROTOCOL_NAME = 'Noise_NNpsk0_25519_ChaChaPoly_SHA256';

/** Bytes in the pre-shared key. */
export const PSK_BYTES = 32;

/** The tokens of NNpsk0 (with the psk modifier applied). */
type Token = 'psk' | 'e' | 'ee';

/** The two messages of NNpsk0, as tokens. The initiator writes message 0, the responder message 1. */
const MESSAGE_PATTERNS: readonly (readonly Token[])[] = Object.freeze([
  Object.freeze<Token[]>(['psk', 'e']),
  Object.freeze<Token[]>(['e', 'ee']),
]);

/**
 * A Noise `SymmetricState`: the chaining key, the handshake hash and the handshake's cipher.
 * Internal to the handshake; methods are named after the specification.
 */
class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  /** Noise's "k is empty" is `undefined`. */
  #cipher: CipherState | undefined;

  /** `InitializeSymmetric(protocol_name)`. */
  constructor(protocolName: string) {
    const name = Buffer.from(protocolName, 'utf8');
    if (name.byteLength <= HASH_BYTES) {
      this.#h = new Uint8Array(HASH_BYTES);
      this.#h.set(name);
    } else {
      this.#h = sha256(name);
    }
    this.#ck = copyBytes(this.#h);
  }

  get handshakeHash(): Uint8Array {
    return copyBytes(this.#h);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.#ck, inputKeyMaterial, 2);
    this.#setChainingKey(ck);
    this.#cipher = new CipherState(tempK);
    tempK.fill(0);
  }

  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data);
  }

  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.#ck, inputKeyMaterial, 3);
    this.#setChainingKey(ck);
    this.mixHash(tempH);
    this.#cipher = new CipherState(tempK); // HASHLEN is 32: no truncation of temp_k
    tempK.fill(0);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher === undefined ? copyBytes(plaintext) : this.#cipher.encrypt(plaintext, this.#h);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** Throws the cipher's `PROTOCOL_ERROR` on failure; the handshake turns it into `AUTH_FAILED`. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher === undefined ? copyBytes(ciphertext) : this.#cipher.decrypt(ciphertext, this.#h);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** `Split()`: the initiator-to-responder and responder-to-initiator ciphers. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = noiseHkdf(this.#ck, new Uint8Array(0), 2);
    const pair: [CipherState, CipherState] = [new CipherState(k1), new CipherState(k2)];
    k1.fill(0);
    k2.fill(0);
    this.#ck.fill(0);
    this.#cipher = undefined;
    return pair;
  }

  #setChainingKey(ck: Uint8Array): void {
    this.#ck.fill(0);
    this.#ck = ck;
  }
}

/** Options for {@link HandshakeState}. */
export interface HandshakeStateOptions {
  /** Whether this side writes the first message. */
  initiator: boolean;
  /** The 32-byte pre-shared key; both sides must hold the same one. */
  psk: Uint8Array;
  /**
   * Bytes both sides must agree on (e.g. protocol versions and what was said before the
   * handshake); any difference makes the handshake fail. Not sent.
   * @default empty
   */
  prologue?: Uint8Array;
  /**
   * A fixed ephemeral key pair, only for reproducing test vectors. Never set it otherwise: a
   * reused ephemeral key breaks the forward secrecy and the freshness of the session keys.
   * `publicKey`, if given, must match `privateKey`.
   * @default a fresh key pair, generated when message `e` is written
   */
  ephemeral?: { privateKey: Uint8Array; publicKey?: Uint8Array };
}

type Stage = 'running' | 'complete' | 'split' | 'failed';

/**
 * A Noise `HandshakeState` for `Noise_NNpsk0_25519_ChaChaPoly_SHA256`.
 *
 * The initiator calls `writeMessage` then `readMessage`; the responder `readMessage` then
 * `writeMessage`. Then both call `split()` once for their transport ciphers.
 *
 * @example
 * const psk = deriveKeys(secret).psk;
 * const alice = new HandshakeState({ initiator: true, psk, prologue });
 * const bob = new HandshakeState({ initiator: false, psk, prologue });
 * const hello = bob.readMessage(alice.writeMessage(Buffer.from('hi')));
 * alice.readMessage(bob.writeMessage(Buffer.from('hello')));
 * const a = alice.split(), b = bob.split();  // a.send pairs with b.receive, and back
 */
export class HandshakeState {
  readonly #initiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #psk: Uint8Array;
  #e: X25519KeyPair | undefined;
  #re: Uint8Array | undefined;
  /** Index of the next message in `MESSAGE_PATTERNS`. */
  #next = 0;
  #stage: Stage = 'running';

  /**
   * `Initialize(handshake_pattern, initiator, prologue, s, e, rs, re)` with the psk.
   *
   * @throws CohortError `INVALID_ARGUMENT` for a psk that is not 32 bytes, a prologue that is not
   *   bytes, or an ephemeral key pair that is malformed or inconsistent.
   */
  constructor(options: HandshakeStateOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new CohortError('INVALID_ARGUMENT', `HandshakeState options must be an object, got ${describe(options)}`);
    }
    if (typeof options.initiator !== 'boolean') {
      throw new CohortError('INVALID_ARGUMENT', `HandshakeState option 'initiator' must be a boolean, got ${describe(options.initiator)}`);
    }
    this.#initiator = options.initiator;
    this.#psk = copyBytes(requireBytes(options.psk, "HandshakeState option 'psk'", PSK_BYTES));
    const prologue = options.prologue === undefined ? new Uint8Array(0) : requireBytes(options.prologue, "HandshakeState option 'prologue'");
    if (options.ephemeral !== undefined) {
      const pair = x25519FromPrivate(requireBytes(options.ephemeral.privateKey, 'ephemeral private key', DH_BYTES));
      const claimed = options.ephemeral.publicKey;
      if (claimed !== undefined && Buffer.compare(requireBytes(claimed, 'ephemeral public key', DH_BYTES), pair.publicKey) !== 0) {
        throw new CohortError('INVALID_ARGUMENT', 'the ephemeral public key does not belong to the ephemeral private key');
      }
      this.#e = pair;
    }
    this.#symmetric = new SymmetricState(NOISE_PROTOCOL_NAME);
    this.#symmetric.mixHash(prologue);
    // NN has no pre-message keys to hash.
  }

  /** Whether both messages have been written and read. */
  get complete(): boolean {
    return this.#stage === 'complete' || this.#stage === 'split';
  }

  /** Whether this side wrote the first message. */
  get initiator(): boolean {
    return this.#initiator;
  }

  /**
   * The handshake hash `h` so far (a copy). Once `complete`, it identifies this handshake uniquely
   * and is the same on both sides: the channel binding to authenticate. Before that, it covers the
   * messages processed so far.
   */
  get handshakeHash(): Uint8Array {
    return this.#symmetric.handshakeHash;
  }

  /**
   * `WriteMessage(payload, message_buffer)`: the next handshake message, carrying `payload`
   * encrypted.
   *
   * @throws CohortError `PROTOCOL_ERROR` if it is not this side's turn to write;
   *   `INVALID_ARGUMENT` if the payload is not bytes or the message would pass 65535 bytes.
   */
  writeMessage(payload: Uint8Array = new Uint8Array(0)): Uint8Array {
    const tokens = this.#turn('write');
    requireBytes(payload, 'handshake payload');
    const overhead = tokens.filter((t) => t === 'e').length * DH_BYTES + TAG_BYTES;
    if (payload.byteLength + overhead > MAX_NOISE_MESSAGE_BYTES) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `a handshake payload of ${payload.byteLength} bytes makes the message longer than the Noise limit of ${MAX_NOISE_MESSAGE_BYTES} bytes; the limit for this message is ${MAX_NOISE_MESSAGE_BYTES - overhead}`,
      );
    }
    return this.#guard(() => {
      const parts: Uint8Array[] = [];
      for (const token of tokens) {
        switch (token) {
          case 'psk':
            this.#symmetric.mixKeyAndHash(this.#psk);
            break;
          case 'e': {
            this.#e ??= generateX25519();
            parts.push(this.#e.publicKey);
            this.#symmetric.mixHash(this.#e.publicKey);
            this.#symmetric.mixKey(this.#e.publicKey); // psk modifier
            break;
          }
          case 'ee':
            this.#symmetric.mixKey(this.#dh());
            break;
        }
      }
      parts.push(this.#symmetric.encryptAndHash(payload));
      this.#finishMessage();
      return concatBytes(...parts);
    });
  }

  /**
   * `ReadMessage(message, payload_buffer)`: processes the peer's next handshake message.
   *
   * @returns the decrypted payload.
   * @throws CohortError `AUTH_FAILED` if the message does not authenticate (the peer holds another
   *   psk or prologue, or the message was altered); `PROTOCOL_ERROR` if it is not this side's turn
   *   to read, the message is malformed, too short or over 65535 bytes, or the peer's key is
   *   invalid. After any of these the handshake is dead.
   */
  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.#turn('read');
    requireBytes(message, 'handshake message');
    return this.#guard(() => {
      if (message.byteLength > MAX_NOISE_MESSAGE_BYTES) {
        throw new CohortError(
          'PROTOCOL_ERROR',
          `handshake message ${this.#next + 1} is ${message.byteLength} bytes, over the Noise limit of ${MAX_NOISE_MESSAGE_BYTES}`,
        );
      }
      const minimum = tokens.filter((t) => t === 'e').length * DH_BYTES + TAG_BYTES;
      if (message.byteLength < minimum) {
        throw new CohortError(
          'PROTOCOL_ERROR',
          `handshake message ${this.#next + 1} is ${message.byteLength} bytes; it needs at least ${minimum}`,
        );
      }
      let offset = 0;
      for (const token of tokens) {
        switch (token) {
          case 'psk':
            this.#symmetric.mixKeyAndHash(this.#psk);
            break;
          case 'e': {
            const re = copyBytes(message.subarray(offset, offset + DH_BYTES));
            offset += DH_BYTES;
            this.#re = re;
            this.#symmetric.mixHash(re);
            this.#symmetric.mixKey(re); // psk modifier
            break;
          }
          case 'ee':
            this.#symmetric.mixKey(this.#dh());
            break;
        }
      }
      let payload: Uint8Array;
      try {
        payload = this.#symmetric.decryptAndHash(message.subarray(offset));
      } catch (cause) {
        throw new CohortError(
          'AUTH_FAILED',
          `handshake message ${this.#next + 1} failed authentication: the peer does not hold the same pre-shared key (secret) and prologue, or the message was altered`,
          { cause },
        );
      }
      this.#finishMessage();
      return payload;
    });
  }

  /**
   * `Split()`: the transport ciphers, oriented for this side. May be called once, after the
   * handshake is complete; the handshake's own keys are dropped afterwards.
   *
   * @throws CohortError `PROTOCOL_ERROR` before completion or on a second call.
   */
  split(): { send: CipherState; receive: CipherState } {
    if (this.#stage !== 'complete') {
      throw new CohortError('PROTOCOL_ERROR', this.#stage === 'split' ? 'split() was already called on this handshake' : this.#stateProblem('split'));
    }
    const [initiatorToResponder, responderToInitiator] = this.#symmetric.split();
    this.#stage = 'split';
    this.#psk.fill(0);
    this.#e = undefined;
    return this.#initiator
      ? { send: initiatorToResponder, receive: responderToInitiator }
      : { send: responderToInitiator, receive: initiatorToResponder };
  }

  /** The tokens of the next message, if this side may `action` it now. */
  #turn(action: 'write' | 'read'): readonly Token[] {
    const pattern = MESSAGE_PATTERNS[this.#next];
    if (this.#stage !== 'running' || pattern === undefined) {
      throw new CohortError('PROTOCOL_ERROR', this.#stateProblem(action));
    }
    const writer = this.#next % 2 === 0 ? this.#initiator : !this.#initiator;
    if (writer !== (action === 'write')) {
      const side = this.#initiator ? 'initiator' : 'responder';
      const n = this.#next + 1;
      throw new CohortError(
        'PROTOCOL_ERROR',
        action === 'write'
          ? `the ${side} cannot write handshake message ${n}: the peer writes it; call readMessage with it first`
          : `the ${side} cannot read handshake message ${n}: this side writes it; call writeMessage first`,
      );
    }
    return pattern;
  }

  #stateProblem(action: string): string {
    switch (this.#stage) {
      case 'failed':
        return `cannot ${action}: this handshake already failed; start a new one`;
      case 'complete':
      case 'split':
        return `cannot ${action}: the handshake is already complete`;
      case 'running':
        return `cannot ${action}: the handshake is not complete yet (message ${this.#next + 1} of ${MESSAGE_PATTERNS.length} is next)`;
    }
  }

  #dh(): Uint8Array {
    if (this.#e === undefined || this.#re === undefined) {
      throw new CohortError('INTERNAL', 'Noise ee token without both ephemeral keys');
    }
    const shared = x25519(this.#e.privateKey, this.#re);
    if (shared === undefined) {
      throw new CohortError('PROTOCOL_ERROR', "the peer's ephemeral public key is a low-order point; refusing the handshake");
    }
    return shared;
  }

  #finishMessage(): void {
    this.#next += 1;
    if (this.#next === MESSAGE_PATTERNS.length) this.#stage = 'complete';
  }

  /** Runs one message step; any failure kills the handshake, since its transcript moved on. */
  #guard<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      this.#stage = 'failed';
      throw error;
    }
  }
}
