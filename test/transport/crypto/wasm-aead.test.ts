/**
 * ChaCha20-Poly1305 in WebAssembly for small messages (`wasm-aead.ts`), and the cipher states that
 * use it once it is loaded: the bytes must be exactly node:crypto's, in both directions, across
 * the size limit where the two implementations meet, and the key must not stay in its heap.
 */
import { beforeAll, describe, it, expect } from 'vitest';
import fc from 'fast-check';
import sodium from 'libsodium-wrappers';
import { CipherState, FrameCipher } from '../../../src/transport/crypto/index.js';
import { aeadDecrypt, aeadEncrypt } from '../../../src/transport/crypto/primitives.js';
import { WASM_AEAD_MAX_BYTES, loadWasmAead, wasmAead, type WasmAead } from '../../../src/transport/crypto/wasm-aead.js';
import { catchCohort, noiseNonce, toHex, utf8 } from './helpers.js';

const NO_AD = new Uint8Array(0);
const KEY = new Uint8Array(32).fill(11);

let wasm: WasmAead;

beforeAll(async () => {
  const loaded = await loadWasmAead();
  // Loading must work with the installed libsodium-wrappers: without it every small frame would
  // silently fall back to the slower node:crypto path.
  expect(loaded).toBeDefined();
  wasm = loaded!;
});

function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.byteLength + 16);
  wasm.seal(key, nonce, plaintext, out, 0);
  return out;
}

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 });
const message = fc.uint8Array({ maxLength: WASM_AEAD_MAX_BYTES });

describe('WebAssembly AEAD', () => {
  it('WebAssembly AEAD — loads once: every load resolves to the same instance, which wasmAead() returns', async () => {
    expect(await loadWasmAead()).toBe(wasm);
    expect(wasmAead()).toBe(wasm);
  });

  it('WebAssembly AEAD — seals exactly as node:crypto does, and each opens what the other sealed', () => {
    fc.assert(
      fc.property(key, nonce, message, (k, n, plaintext) => {
        const ours = seal(k, n, plaintext);
        const node = aeadEncrypt(k, n, NO_AD, plaintext);
        expect(toHex(ours)).toBe(toHex(node));
        expect(toHex(wasm.open(k, n, node)!)).toBe(toHex(plaintext));
        expect(toHex(aeadDecrypt(k, n, NO_AD, ours)!)).toBe(toHex(plaintext));
      }),
      { numRuns: 200 },
    );
  });

  it('WebAssembly AEAD — seal writes at the offset given and leaves the bytes before it alone', () => {
    const out = new Uint8Array(4 + 5 + 16).fill(0xee);
    wasm.seal(KEY, noiseNonce(3n), utf8('hello'), out, 4);
    expect(toHex(out.subarray(0, 4))).toBe('eeeeeeee');
    expect(toHex(out.subarray(4))).toBe(toHex(aeadEncrypt(KEY, noiseNonce(3n), NO_AD, utf8('hello'))));
  });

  it('WebAssembly AEAD — open refuses any flipped bit, a wrong key or nonce, and input shorter than a tag', () => {
    fc.assert(
      fc.property(key, nonce, fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), (k, n, plaintext, at) => {
        const sealed = seal(k, n, plaintext);
        const bit = at % (sealed.byteLength * 8);
        const flipped = sealed.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        expect(wasm.open(k, n, flipped)).toBeUndefined();
        const otherKey = k.slice();
        otherKey[0]! ^= 1;
        expect(wasm.open(otherKey, n, sealed)).toBeUndefined();
        const otherNonce = n.slice();
        otherNonce[11]! ^= 0x80;
        expect(wasm.open(k, otherNonce, sealed)).toBeUndefined();
        expect(wasm.open(k, n, sealed.subarray(0, 15))).toBeUndefined();
      }),
      { numRuns: 100 },
    );
    // The empty message: just its tag.
    expect(toHex(wasm.open(KEY, noiseNonce(0n), seal(KEY, noiseNonce(0n), NO_AD))!)).toBe('');
  });

  it('WebAssembly AEAD — refuses, with INVALID_ARGUMENT, a message over its limit and a key or nonce of the wrong size', () => {
    const over = new Uint8Array(WASM_AEAD_MAX_BYTES + 1);
    expect(catchCohort(() => wasm.seal(KEY, noiseNonce(0n), over, new Uint8Array(over.byteLength + 16), 0)).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => wasm.open(KEY, noiseNonce(0n), new Uint8Array(WASM_AEAD_MAX_BYTES + 17))).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => seal(KEY.subarray(0, 31), noiseNonce(0n), utf8('x'))).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => wasm.open(KEY, new Uint8Array(13), seal(KEY, noiseNonce(0n), utf8('x')))).code).toBe('INVALID_ARGUMENT');
    // At the limit itself, both work.
    const most = new Uint8Array(WASM_AEAD_MAX_BYTES).fill(1);
    expect(toHex(wasm.open(KEY, noiseNonce(0n), seal(KEY, noiseNonce(0n), most))!)).toBe(toHex(most));
  });

  it('WebAssembly AEAD — keeps sealing and opening correctly after the memory of libsodium grows (its heap array is replaced)', () => {
    const module = (sodium as unknown as { libsodium: { HEAPU8: Uint8Array; _malloc(n: number): number; _free(p: number): void } }).libsodium;
    const before = module.HEAPU8;
    const seen = seal(KEY, noiseNonce(9n), utf8('before growth')); // the cipher has read the current heap
    expect(toHex(seen)).toBe(toHex(aeadEncrypt(KEY, noiseNonce(9n), NO_AD, utf8('before growth'))));
    const block = module._malloc(before.length * 2);
    expect(block).not.toBe(0);
    expect(before.length).toBe(0); // detached: the memory grew
    const plaintext = utf8('after growth');
    const sealed = seal(KEY, noiseNonce(10n), plaintext);
    expect(toHex(sealed)).toBe(toHex(aeadEncrypt(KEY, noiseNonce(10n), NO_AD, plaintext)));
    expect(toHex(wasm.open(KEY, noiseNonce(10n), sealed)!)).toBe(toHex(plaintext));
    module._free(block);
  });

  it('WebAssembly AEAD — the key does not stay in the WebAssembly heap after a seal or an open', () => {
    const secretKey = new Uint8Array(32).map((_, i) => 0xa0 ^ (i * 7));
    const sealed = seal(secretKey, noiseNonce(1n), utf8('a secret message'));
    const heap = Buffer.from((sodium as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8);
    expect(heap.indexOf(Buffer.from(secretKey))).toBe(-1);
    expect(wasm.open(secretKey, noiseNonce(1n), sealed)).toBeDefined();
    const after = Buffer.from((sodium as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8);
    expect(after.indexOf(Buffer.from(secretKey))).toBe(-1);
  });
});

describe('cipher state with the WebAssembly AEAD loaded', () => {
  // Sizes on both sides of the limit, where a cipher state switches between the implementations.
  const size = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: WASM_AEAD_MAX_BYTES - 2, max: WASM_AEAD_MAX_BYTES + 2 }), fc.integer({ min: 3000, max: 9000 }));

  it('cipher state — every message, small or large, seals to node:crypto bytes under the next Noise nonce and opens on the other side', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(size, fc.constantFrom('encrypt', 'encryptParts', 'encryptAfter')), { maxLength: 12 }), (steps) => {
        const sender = new CipherState(KEY);
        const receiver = new CipherState(KEY);
        steps.forEach(([length, how], i) => {
          const plaintext = new Uint8Array(length).map((_, j) => (j * 31 + i) & 0xff);
          const expected = toHex(aeadEncrypt(KEY, noiseNonce(BigInt(i)), NO_AD, plaintext));
          let sealed: Uint8Array;
          if (how === 'encrypt') sealed = sender.encrypt(plaintext);
          else if (how === 'encryptParts') sealed = Buffer.concat(sender.encryptParts(plaintext));
          else sealed = sender.encryptAfter(4, plaintext).subarray(4);
          expect(toHex(sealed)).toBe(expected);
          expect(toHex(receiver.decrypt(sealed))).toBe(toHex(plaintext));
        });
        expect(sender.nonce).toBe(BigInt(steps.length));
        expect(receiver.nonce).toBe(BigInt(steps.length));
      }),
      { numRuns: 40 },
    );
  });

  it('cipher state — a small frame that fails to open does not advance the nonce, and the right one still opens', () => {
    const sender = new CipherState(KEY);
    const receiver = new CipherState(KEY);
    const sealed = sender.encrypt(utf8('first'));
    const tampered = sealed.slice();
    tampered[0]! ^= 1;
    expect(() => receiver.decrypt(tampered)).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
    expect(receiver.nonce).toBe(0n);
    expect(Buffer.from(receiver.decrypt(sealed)).toString()).toBe('first');
  });

  it('frame cipher — sealAfter leaves the room free and seals the next frame; the peer opens it', () => {
    const a = new FrameCipher(new CipherState(KEY), new CipherState(new Uint8Array(32).fill(12)));
    const b = new FrameCipher(new CipherState(new Uint8Array(32).fill(12)), new CipherState(KEY));
    for (const text of ['one', 'two', 'x'.repeat(WASM_AEAD_MAX_BYTES + 100)]) {
      const framed = a.sealAfter(4, utf8(text));
      expect(framed.byteLength).toBe(4 + Buffer.byteLength(text) + 16);
      expect(Buffer.from(b.open(framed.subarray(4))).toString()).toBe(text);
    }
    expect(a.sealed).toBe(3n);
    expect(b.opened).toBe(3n);
  });
});
