import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CipherState, FRAME_OVERHEAD_BYTES, FrameCipher, MAX_PLAINTEXT_BYTES } from '../../../src/transport/crypto/index.js';
import { catchCohort, handshakePair, toHex, utf8 } from './helpers.js';

/** Two frame ciphers joined by a real handshake: `a` is the initiator's, `b` the responder's. */
function linked(): { a: FrameCipher; b: FrameCipher } {
  const { i, r } = handshakePair(new Uint8Array(32).fill(42));
  return { a: new FrameCipher(i.send, i.receive), b: new FrameCipher(r.send, r.receive) };
}

describe('frame cipher', () => {
  it('frame cipher — frames sealed on one side open on the other, in both directions', () => {
    const { a, b } = linked();
    for (let n = 0; n < 5; n += 1) {
      expect(Buffer.from(b.open(a.seal(utf8(`a→b ${n}`)))).toString()).toBe(`a→b ${n}`);
      expect(Buffer.from(a.open(b.seal(utf8(`b→a ${n}`))))).toEqual(Buffer.from(`b→a ${n}`));
    }
    expect([a.sealed, a.opened, b.sealed, b.opened]).toEqual([5n, 5n, 5n, 5n]);
  });

  it('frame cipher — any sequence of frames round-trips in order', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (frames) => {
        const { a, b } = linked();
        const sealed = frames.map((f) => a.seal(f));
        sealed.forEach((s, n) => expect(s.byteLength).toBe(frames[n]!.byteLength + FRAME_OVERHEAD_BYTES));
        expect(sealed.map((s) => toHex(b.open(s)))).toEqual(frames.map(toHex));
      }),
      { numRuns: 30 },
    );
  });

  it('frame cipher — the same plaintext seals to different ciphertexts (counter nonces)', () => {
    const { a } = linked();
    expect(toHex(a.seal(utf8('same')))).not.toBe(toHex(a.seal(utf8('same'))));
  });

  it('frame cipher — a tampered frame fails with PROTOCOL_ERROR', () => {
    const { a, b } = linked();
    const frame = a.seal(utf8('transfer 10 coins'));
    frame[3]! ^= 0x04;
    const error = catchCohort(() => b.open(frame));
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/encrypted frame 0 from the peer could not be opened/);
  });

  it('frame cipher — a replayed frame (the same ciphertext twice) fails with PROTOCOL_ERROR', () => {
    const { a, b } = linked();
    const frame = a.seal(utf8('once'));
    expect(Buffer.from(b.open(frame)).toString()).toBe('once');
    expect(catchCohort(() => b.open(frame)).code).toBe('PROTOCOL_ERROR');
  });

  it('frame cipher — reordered frames fail with PROTOCOL_ERROR', () => {
    const { a, b } = linked();
    const first = a.seal(utf8('first'));
    const second = a.seal(utf8('second'));
    expect(catchCohort(() => b.open(second)).code).toBe('PROTOCOL_ERROR');
    expect(catchCohort(() => b.open(first)).code).toBe('PROTOCOL_ERROR'); // and the stream is closed
  });

  it('frame cipher — a dropped frame makes the next one fail', () => {
    const { a, b } = linked();
    a.seal(utf8('lost on the way'));
    expect(catchCohort(() => b.open(a.seal(utf8('next')))).code).toBe('PROTOCOL_ERROR');
  });

  it('frame cipher — a wrong-direction key fails: a frame reflected back to its sender, or ciphers swapped', () => {
    const { a } = linked();
    expect(catchCohort(() => a.open(a.seal(utf8('reflected')))).code).toBe('PROTOCOL_ERROR');

    const { i, r } = handshakePair(new Uint8Array(32).fill(42));
    const sender = new FrameCipher(i.send, i.receive);
    const swapped = new FrameCipher(r.receive, r.send); // opens with the responder→initiator key
    expect(catchCohort(() => swapped.open(sender.seal(utf8('hello')))).code).toBe('PROTOCOL_ERROR');
  });

  it('frame cipher — frames from another session (same secret) fail', () => {
    const one = linked();
    const two = linked();
    expect(catchCohort(() => two.b.open(one.a.seal(utf8('cross-session')))).code).toBe('PROTOCOL_ERROR');
  });

  it('frame cipher — after one failure the stream stays closed, even for the right next frame', () => {
    const { a, b } = linked();
    const good = a.seal(utf8('good'));
    const bad = good.slice();
    bad[0]! ^= 1;
    catchCohort(() => b.open(bad));
    const error = catchCohort(() => b.open(good));
    expect(error.code).toBe('PROTOCOL_ERROR');
    expect(error.message).toMatch(/already failed/);
    expect(Buffer.from(a.open(b.seal(utf8('sending still works')))).toString()).toBe('sending still works');
  });

  it('frame cipher — truncated or oversize frames fail with PROTOCOL_ERROR', () => {
    expect(catchCohort(() => linked().b.open(new Uint8Array(10))).code).toBe('PROTOCOL_ERROR');
    expect(catchCohort(() => linked().b.open(new Uint8Array(65536))).code).toBe('PROTOCOL_ERROR');
    const { a, b } = linked();
    const frame = a.seal(utf8('cut short'));
    expect(catchCohort(() => b.open(frame.subarray(0, frame.byteLength - 1))).code).toBe('PROTOCOL_ERROR');
  });

  it('frame cipher — plaintexts up to MAX_PLAINTEXT_BYTES (65519) seal; larger ones are refused with INVALID_ARGUMENT', () => {
    expect(MAX_PLAINTEXT_BYTES).toBe(65535 - 16);
    const { a, b } = linked();
    const biggest = new Uint8Array(MAX_PLAINTEXT_BYTES).fill(0xab);
    const sealed = a.seal(biggest);
    expect(sealed.byteLength).toBe(65535);
    expect(b.open(sealed).byteLength).toBe(MAX_PLAINTEXT_BYTES);
    const error = catchCohort(() => a.seal(new Uint8Array(MAX_PLAINTEXT_BYTES + 1)));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/at most 65519 plaintext bytes, got 65520; split the message/);
    expect(a.sealed).toBe(1n); // the refusal used no nonce
  });

  it('frame cipher — needs two distinct cipher states', () => {
    const c = new CipherState(new Uint8Array(32));
    expect(catchCohort(() => new FrameCipher(c, c)).message).toMatch(/same one twice/);
    expect(catchCohort(() => new FrameCipher(c, {} as CipherState)).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => new FrameCipher(c, new CipherState(new Uint8Array(32))).seal('x' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
  });
});
