import { describe, it, expect } from 'vitest';
import {
  CipherState,
  HandshakeState,
  MAX_NOISE_MESSAGE_BYTES,
  NOISE_PROTOCOL_NAME,
} from '../../../src/transport/crypto/index.js';
import { aeadEncrypt } from '../../../src/transport/crypto/primitives.js';
import { catchCohort, fromHex, handshakePair, noiseNonce, toHex, utf8 } from './helpers.js';
import { CACOPHONY_NNPSK0_25519_CHACHAPOLY_SHA256 as V } from './vectors.js';

const PSK = new Uint8Array(32).fill(7);

describe('noise', () => {
  describe('test vectors', () => {
    it('noise — the vector names this protocol', () => {
      expect(V.protocolName).toBe(NOISE_PROTOCOL_NAME);
    });

    it('noise — reproduces the cacophony NNpsk0 vector byte for byte: handshake, hash and transport', () => {
      const initiator = new HandshakeState({
        initiator: true,
        psk: fromHex(V.initPsks[0]!),
        prologue: fromHex(V.initPrologue),
        ephemeral: { privateKey: fromHex(V.initEphemeral) },
      });
      const responder = new HandshakeState({
        initiator: false,
        psk: fromHex(V.respPsks[0]!),
        prologue: fromHex(V.respPrologue),
        ephemeral: { privateKey: fromHex(V.respEphemeral) },
      });
      const [m0, m1, ...transport] = V.messages;

      const wire0 = initiator.writeMessage(fromHex(m0!.payload));
      expect(toHex(wire0)).toBe(m0!.ciphertext);
      expect(toHex(responder.readMessage(wire0))).toBe(m0!.payload);

      const wire1 = responder.writeMessage(fromHex(m1!.payload));
      expect(toHex(wire1)).toBe(m1!.ciphertext);
      expect(toHex(initiator.readMessage(wire1))).toBe(m1!.payload);

      expect(initiator.complete && responder.complete).toBe(true);
      expect(toHex(initiator.handshakeHash)).toBe(V.handshakeHash);
      expect(toHex(responder.handshakeHash)).toBe(V.handshakeHash);

      const i = initiator.split();
      const r = responder.split();
      transport.forEach((m, index) => {
        const [sender, receiver] = index % 2 === 0 ? [i, r] : [r, i];
        const wire = sender.send.encrypt(fromHex(m.payload));
        expect(toHex(wire)).toBe(m.ciphertext);
        expect(toHex(receiver.receive.decrypt(wire))).toBe(m.payload);
      });
      expect([i.send.nonce, i.receive.nonce, r.send.nonce, r.receive.nonce]).toEqual([2n, 2n, 2n, 2n]);
    });

    it('noise — a fixed ephemeral public key is checked against its private key', () => {
      const options = { initiator: true, psk: PSK };
      const mismatch = catchCohort(
        () => new HandshakeState({ ...options, ephemeral: { privateKey: fromHex(V.initEphemeral), publicKey: new Uint8Array(32).fill(1) } }),
      );
      expect(mismatch.code).toBe('INVALID_ARGUMENT');
      expect(mismatch.message).toMatch(/does not belong/);
      const wrong = catchCohort(() => new HandshakeState({ ...options, ephemeral: { privateKey: new Uint8Array(16) } }));
      expect(wrong.code).toBe('INVALID_ARGUMENT');
    });
  });

  describe('handshake', () => {
    it('noise — two handshake states complete, agree on the hash and pair their ciphers', () => {
      const { initiator, responder, i, r } = handshakePair(PSK, utf8('cohort test'));
      expect(toHex(initiator.handshakeHash)).toBe(toHex(responder.handshakeHash));
      expect(toHex(r.receive.decrypt(i.send.encrypt(utf8('to responder'))))).toBe(toHex(utf8('to responder')));
      expect(toHex(i.receive.decrypt(r.send.encrypt(utf8('to initiator'))))).toBe(toHex(utf8('to initiator')));
    });

    it('noise — payloads travel encrypted in both handshake messages', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK });
      const responder = new HandshakeState({ initiator: false, psk: PSK });
      const secret = utf8('initiator identity and nonce');
      const m0 = initiator.writeMessage(secret);
      expect(m0.byteLength).toBe(32 + secret.byteLength + 16);
      expect(Buffer.from(m0).includes(Buffer.from(secret))).toBe(false);
      expect(toHex(responder.readMessage(m0))).toBe(toHex(secret));
      const m1 = responder.writeMessage(utf8('reply'));
      expect(Buffer.from(m1).includes(Buffer.from('reply'))).toBe(false);
      expect(Buffer.from(initiator.readMessage(m1)).toString()).toBe('reply');
    });

    it('noise — transcripts, hashes and keys differ on every run with the same psk', () => {
      const a = handshakePair(PSK);
      const b = handshakePair(PSK);
      expect(toHex(a.initiator.handshakeHash)).not.toBe(toHex(b.initiator.handshakeHash));
      const m0a = new HandshakeState({ initiator: true, psk: PSK }).writeMessage();
      const m0b = new HandshakeState({ initiator: true, psk: PSK }).writeMessage();
      expect(toHex(m0a)).not.toBe(toHex(m0b));
      expect(toHex(a.i.send.encrypt(utf8('same')))).not.toBe(toHex(b.i.send.encrypt(utf8('same'))));
    });

    it('noise — the handshake hash so far is the same on both sides after message 1', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK });
      const responder = new HandshakeState({ initiator: false, psk: PSK });
      responder.readMessage(initiator.writeMessage());
      expect(toHex(initiator.handshakeHash)).toBe(toHex(responder.handshakeHash));
      const afterOne = toHex(initiator.handshakeHash);
      initiator.readMessage(responder.writeMessage());
      expect(toHex(initiator.handshakeHash)).not.toBe(afterOne);
    });

    it('noise — a responder with another psk refuses message 1 with AUTH_FAILED, then refuses everything', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK });
      const responder = new HandshakeState({ initiator: false, psk: new Uint8Array(32).fill(8) });
      const error = catchCohort(() => responder.readMessage(initiator.writeMessage(utf8('hello'))));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.message).toMatch(/pre-shared key/);
      expect(catchCohort(() => responder.writeMessage()).code).toBe('PROTOCOL_ERROR');
      expect(catchCohort(() => responder.writeMessage()).message).toMatch(/already failed/);
    });

    it('noise — a different prologue fails like a different psk', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK, prologue: utf8('v1') });
      const responder = new HandshakeState({ initiator: false, psk: PSK, prologue: utf8('v2') });
      expect(catchCohort(() => responder.readMessage(initiator.writeMessage())).code).toBe('AUTH_FAILED');
    });

    it('noise — any altered byte of either handshake message fails with AUTH_FAILED', () => {
      for (const index of [0, 31, 32, 47]) {
        const initiator = new HandshakeState({ initiator: true, psk: PSK });
        const responder = new HandshakeState({ initiator: false, psk: PSK });
        const m0 = initiator.writeMessage();
        m0[index]! ^= 0x80;
        expect(catchCohort(() => responder.readMessage(m0)).code).toBe('AUTH_FAILED');
      }
      for (const index of [0, 31, 32, 50]) {
        const initiator = new HandshakeState({ initiator: true, psk: PSK });
        const responder = new HandshakeState({ initiator: false, psk: PSK });
        responder.readMessage(initiator.writeMessage());
        const m1 = responder.writeMessage(utf8('abc'));
        m1[index]! ^= 0x01;
        expect(catchCohort(() => initiator.readMessage(m1)).code).toBe('AUTH_FAILED');
        expect(initiator.complete).toBe(false);
      }
    });

    it('noise — a low-order ephemeral key from the responder is refused with PROTOCOL_ERROR', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK });
      initiator.writeMessage();
      const forged = new Uint8Array(48); // all-zero ephemeral key and garbage tag
      const error = catchCohort(() => initiator.readMessage(forged));
      expect(error.code).toBe('PROTOCOL_ERROR');
      expect(error.message).toMatch(/low-order/);
    });

    it('noise — a message shorter than its keys and tag, or over 65535 bytes, is refused with PROTOCOL_ERROR', () => {
      const short = new HandshakeState({ initiator: false, psk: PSK });
      expect(catchCohort(() => short.readMessage(new Uint8Array(47))).message).toMatch(/needs at least 48/);
      const long = new HandshakeState({ initiator: false, psk: PSK });
      const error = catchCohort(() => long.readMessage(new Uint8Array(MAX_NOISE_MESSAGE_BYTES + 1)));
      expect(error.code).toBe('PROTOCOL_ERROR');
      expect(error.message).toMatch(/65535/);
    });

    it('noise — payloads up to the 65535-byte message limit are written, longer ones refused with INVALID_ARGUMENT', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK });
      const responder = new HandshakeState({ initiator: false, psk: PSK });
      const tooLong = catchCohort(() => initiator.writeMessage(new Uint8Array(MAX_NOISE_MESSAGE_BYTES - 48 + 1)));
      expect(tooLong.code).toBe('INVALID_ARGUMENT');
      expect(tooLong.message).toMatch(/limit for this message is 65487/);
      const biggest = new Uint8Array(MAX_NOISE_MESSAGE_BYTES - 48).fill(5);
      const m0 = initiator.writeMessage(biggest); // the refusal did not spoil the state
      expect(m0.byteLength).toBe(MAX_NOISE_MESSAGE_BYTES);
      expect(responder.readMessage(m0).byteLength).toBe(biggest.byteLength);
    });

    it('noise — calls out of order are refused with PROTOCOL_ERROR', () => {
      const initiator = new HandshakeState({ initiator: true, psk: PSK });
      const responder = new HandshakeState({ initiator: false, psk: PSK });
      expect(catchCohort(() => responder.writeMessage()).message).toMatch(/responder cannot write handshake message 1/);
      expect(catchCohort(() => initiator.readMessage(new Uint8Array(48))).message).toMatch(/initiator cannot read handshake message 1/);
      expect(catchCohort(() => initiator.split()).message).toMatch(/not complete yet/);
      const m0 = initiator.writeMessage();
      expect(catchCohort(() => initiator.writeMessage()).code).toBe('PROTOCOL_ERROR');
      responder.readMessage(m0);
      expect(catchCohort(() => responder.readMessage(m0)).code).toBe('PROTOCOL_ERROR');
      const m1 = responder.writeMessage();
      initiator.readMessage(m1);
      for (const call of [() => initiator.readMessage(m1), () => initiator.writeMessage(), () => responder.writeMessage()]) {
        const error = catchCohort(call);
        expect(error.code).toBe('PROTOCOL_ERROR');
        expect(error.message).toMatch(/already complete/);
      }
      initiator.split();
      expect(catchCohort(() => initiator.split()).message).toMatch(/already called/);
    });

    it('noise — bad options are refused with INVALID_ARGUMENT', () => {
      expect(catchCohort(() => new HandshakeState({ initiator: true, psk: new Uint8Array(31) })).message).toMatch(/psk' must be 32 bytes, got 31/);
      expect(catchCohort(() => new HandshakeState({ initiator: 'yes' as unknown as boolean, psk: PSK })).code).toBe('INVALID_ARGUMENT');
      expect(catchCohort(() => new HandshakeState({ initiator: true, psk: PSK, prologue: 'v1' as unknown as Uint8Array })).code).toBe('INVALID_ARGUMENT');
      expect(catchCohort(() => new HandshakeState({ initiator: true, psk: PSK }).writeMessage('x' as unknown as Uint8Array)).code).toBe(
        'INVALID_ARGUMENT',
      );
    });

    it('noise — the psk is copied, so changing the caller’s array afterwards changes nothing', () => {
      const psk = new Uint8Array(32).fill(3);
      const initiator = new HandshakeState({ initiator: true, psk });
      psk.fill(4);
      const responder = new HandshakeState({ initiator: false, psk: new Uint8Array(32).fill(3) });
      expect(() => responder.readMessage(initiator.writeMessage())).not.toThrow();
    });
  });

  describe('cipher state', () => {
    it('noise — each direction has its own key: a cipher cannot open what its own side sent', () => {
      const { i } = handshakePair(PSK);
      const error = catchCohort(() => i.receive.decrypt(i.send.encrypt(utf8('reflected'))));
      expect(error.code).toBe('PROTOCOL_ERROR');
    });

    it('noise — replayed and reordered messages fail with PROTOCOL_ERROR and do not advance the nonce', () => {
      const { i, r } = handshakePair(PSK);
      const first = i.send.encrypt(utf8('one'));
      const second = i.send.encrypt(utf8('two'));
      const reordered = catchCohort(() => r.receive.decrypt(second));
      expect(reordered.code).toBe('PROTOCOL_ERROR');
      expect(reordered.message).toMatch(/failed authentication at nonce 0/);
      expect(r.receive.nonce).toBe(0n);
      r.receive.decrypt(first);
      expect(catchCohort(() => r.receive.decrypt(first)).code).toBe('PROTOCOL_ERROR');
      expect(Buffer.from(r.receive.decrypt(second)).toString()).toBe('two');
    });

    it('noise — associated data must match', () => {
      const { i, r } = handshakePair(PSK);
      const sealed = i.send.encrypt(utf8('x'), utf8('header'));
      expect(catchCohort(() => r.receive.decrypt(sealed, utf8('other'))).code).toBe('PROTOCOL_ERROR');
      expect(Buffer.from(r.receive.decrypt(sealed, utf8('header'))).toString()).toBe('x');
    });

    it('noise — the nonce is the Noise format (4 zero bytes, 64-bit little endian) across the 2^32 boundary', () => {
      const key = new Uint8Array(32).fill(9);
      const cipher = new CipherState(key, { nonce: 2n ** 32n - 1n });
      const a = cipher.encrypt(utf8('a'));
      const b = cipher.encrypt(utf8('b'));
      expect(cipher.nonce).toBe(2n ** 32n + 1n);
      expect(toHex(a)).toBe(toHex(aeadEncrypt(key, noiseNonce(2n ** 32n - 1n), new Uint8Array(0), utf8('a'))));
      expect(toHex(b)).toBe(toHex(aeadEncrypt(key, noiseNonce(2n ** 32n), new Uint8Array(0), utf8('b'))));
    });

    it('noise — a cipher refuses to work once its nonce reaches the reserved 2^64 - 1', () => {
      const key = new Uint8Array(32).fill(1);
      const sender = new CipherState(key, { nonce: 2n ** 64n - 2n });
      const receiver = new CipherState(key, { nonce: 2n ** 64n - 2n });
      const last = sender.encrypt(utf8('last'));
      expect(sender.nonce).toBe(2n ** 64n - 1n);
      expect(Buffer.from(receiver.decrypt(last)).toString()).toBe('last');
      for (const call of [() => sender.encrypt(utf8('more')), () => receiver.decrypt(last)]) {
        const error = catchCohort(call);
        expect(error.code).toBe('PROTOCOL_ERROR');
        expect(error.message).toMatch(/every nonce/);
      }
      expect(catchCohort(() => new CipherState(key, { nonce: 2n ** 64n })).code).toBe('INVALID_ARGUMENT');
      expect(catchCohort(() => new CipherState(key, { nonce: -1n })).code).toBe('INVALID_ARGUMENT');
    });

    it('noise — transport messages are limited to 65535 bytes on both sides', () => {
      const { i, r } = handshakePair(PSK);
      expect(catchCohort(() => i.send.encrypt(new Uint8Array(MAX_NOISE_MESSAGE_BYTES - 15))).code).toBe('INVALID_ARGUMENT');
      const biggest = i.send.encrypt(new Uint8Array(MAX_NOISE_MESSAGE_BYTES - 16));
      expect(biggest.byteLength).toBe(MAX_NOISE_MESSAGE_BYTES);
      expect(r.receive.decrypt(biggest).byteLength).toBe(MAX_NOISE_MESSAGE_BYTES - 16);
      expect(catchCohort(() => r.receive.decrypt(new Uint8Array(MAX_NOISE_MESSAGE_BYTES + 1))).code).toBe('PROTOCOL_ERROR');
      expect(catchCohort(() => r.receive.decrypt(new Uint8Array(15))).message).toMatch(/shorter than its 16-byte/);
      expect(catchCohort(() => new CipherState(new Uint8Array(16))).code).toBe('INVALID_ARGUMENT');
    });

    it('noise — an empty plaintext still carries a tag that authenticates', () => {
      const { i, r } = handshakePair(PSK);
      const sealed = i.send.encrypt(new Uint8Array(0));
      expect(sealed.byteLength).toBe(16);
      expect(r.receive.decrypt(sealed).byteLength).toBe(0);
    });
  });
});
