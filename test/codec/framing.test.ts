import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isCohortError } from '../../src/core/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame } from '../../src/codec/framing.js';
import { catchCohort } from './helpers.js';

const header = (length: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length);
  return bytes;
};

/** Splits `bytes` at the given cut points (any numbers; reduced modulo the length). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (bytes.byteLength === 0 ? 0 : c % (bytes.byteLength + 1))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.byteLength]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const hex = (frames: Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString('hex'));

describe('framing', () => {
  it('framing — encodeFrame writes a u32 big-endian length before the payload', () => {
    expect([...encodeFrame(new Uint8Array([9, 8, 7]))]).toEqual([0, 0, 0, 3, 9, 8, 7]);
    expect([...encodeFrame(new Uint8Array(0))]).toEqual([0, 0, 0, 0]);
    expect([...encodeFrame(new Uint8Array(0x1_02_03).fill(1)).subarray(0, 4)]).toEqual([0, 1, 2, 3]);
  });

  it('framing — encodeFrame refuses an oversize payload with FRAME_TOO_LARGE', () => {
    expect(encodeFrame(new Uint8Array(10), 10).byteLength).toBe(14);
    const error = catchCohort(() => encodeFrame(new Uint8Array(11), 10));
    expect(error.code).toBe('FRAME_TOO_LARGE');
    expect(error.message).toMatch(/11 bytes; expected at most maxFrameBytes = 10/);
  });

  it('framing — frames split at random points decode to the same payloads, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const decoder = new FrameDecoder();
          const frames: Uint8Array[] = [];
          for (const chunk of split(stream, cuts)) frames.push(...decoder.push(chunk));
          expect(hex(frames)).toEqual(hex(payloads));
          expect(decoder.buffered).toBe(0);
          decoder.end();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('framing — byte-by-byte input, zero-length frames and many frames per chunk all work', () => {
    const payloads = [new Uint8Array(0), new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3, 4, 5, 6])];
    const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
    const oneByOne = new FrameDecoder();
    const frames: Uint8Array[] = [];
    for (const byte of stream) frames.push(...oneByOne.push(new Uint8Array([byte])));
    expect(hex(frames)).toEqual(hex(payloads));
    expect(hex(new FrameDecoder().push(stream))).toEqual(hex(payloads));
  });

  it('framing — a zero-length frame whose header ends a chunk is returned at once', () => {
    const frames = new FrameDecoder().push(header(0));
    expect(frames.map((f) => f.byteLength)).toEqual([0]);
  });

  it('framing — buffered counts the bytes of the incomplete frame, header included', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(new Uint8Array([0, 0]))).toEqual([]);
    expect(decoder.buffered).toBe(2);
    expect(decoder.push(new Uint8Array([0, 5, 1, 2]))).toEqual([]);
    expect(decoder.buffered).toBe(6);
    expect(hex(decoder.push(new Uint8Array([3, 4, 5, 0])))).toEqual(['0102030405']);
    expect(decoder.buffered).toBe(1);
  });

  it('framing — a frame inside one chunk is a view of it; a frame across chunks is a copy', () => {
    const stream = Buffer.concat([encodeFrame(new Uint8Array([1, 2, 3])), encodeFrame(new Uint8Array([4, 5, 6]))]);
    const decoder = new FrameDecoder();
    // The first frame and the second frame's header and first two body bytes, then the rest.
    const [first] = decoder.push(stream.subarray(0, 13));
    const [second] = decoder.push(stream.subarray(13));
    stream.fill(0);
    expect([...(first ?? [])]).toEqual([0, 0, 0]);
    expect([...(second ?? [])]).toEqual([4, 5, 6]);
  });

  it('framing — many small chunks of one big frame are joined in linear time', () => {
    const payload = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    const stream = encodeFrame(payload);
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    const started = performance.now();
    for (let i = 0; i < stream.byteLength; i += 16) frames.push(...decoder.push(stream.subarray(i, i + 16)));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(frames).toHaveLength(1);
    expect(Buffer.compare(Buffer.from(frames[0] as Uint8Array), Buffer.from(payload))).toBe(0);
  });

  it('framing — an oversized header gives FRAME_TOO_LARGE before any body byte is pushed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 16 }), fc.integer({ min: 1, max: 0xffff_ffff }), fc.nat(3), (max, extra, cut) => {
        const announced = Math.min(max + extra, 0xffff_ffff);
        const decoder = new FrameDecoder({ maxFrameBytes: max });
        const head = header(announced);
        // The header may itself arrive in two pieces; no body byte is ever pushed.
        if (cut > 0) expect(decoder.push(head.subarray(0, cut))).toEqual([]);
        const error = catchCohort(() => decoder.push(head.subarray(cut)));
        expect(error.code).toBe('FRAME_TOO_LARGE');
        expect(decoder.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('framing — after FRAME_TOO_LARGE the decoder refuses everything with the same error', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 4 });
    const error = catchCohort(() => decoder.push(Buffer.concat([encodeFrame(new Uint8Array(2)), header(5)])));
    expect(error.code).toBe('FRAME_TOO_LARGE');
    expect(error.message).toMatch(/announces 5 bytes; expected at most maxFrameBytes = 4/);
    expect(catchCohort(() => decoder.push(encodeFrame(new Uint8Array(1))))).toBe(error);
    expect(catchCohort(() => decoder.end())).toBe(error);
  });

  it('framing — the default limit is 16 MiB and applies to the payload only', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
    const decoder = new FrameDecoder();
    expect(decoder.maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
    expect(decoder.push(header(DEFAULT_MAX_FRAME_BYTES))).toEqual([]);
    expect(catchCohort(() => new FrameDecoder().push(header(DEFAULT_MAX_FRAME_BYTES + 1))).code).toBe('FRAME_TOO_LARGE');
  });

  it('framing — a stream cut inside a frame gives FRAME_TRUNCATED on end()', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { minLength: 1, maxLength: 5 }), fc.nat(), (payloads, cut) => {
        const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
        const boundaries = new Set<number>([0]);
        let at = 0;
        for (const p of payloads) boundaries.add((at += 4 + p.byteLength));
        const length = cut % stream.byteLength;
        fc.pre(!boundaries.has(length));
        const decoder = new FrameDecoder();
        decoder.push(stream.subarray(0, length));
        const error = catchCohort(() => decoder.end());
        expect(error.code).toBe('FRAME_TRUNCATED');
        expect(error.message).toMatch(/stream ended in the middle of a frame/);
      }),
      { numRuns: 200 },
    );
  });

  it('framing — end() on a frame boundary is fine, and push after end() throws', () => {
    const decoder = new FrameDecoder();
    decoder.push(encodeFrame(new Uint8Array([1])));
    expect(() => decoder.end()).not.toThrow();
    expect(catchCohort(() => decoder.push(new Uint8Array(1))).code).toBe('INVALID_ARGUMENT');
  });

  it('framing — random bytes never throw anything but a CohortError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.integer({ min: 0, max: 4096 }), (chunks, max) => {
        const decoder = new FrameDecoder({ maxFrameBytes: max });
        try {
          let returned = 0;
          for (const chunk of chunks) {
            for (const frame of decoder.push(chunk)) {
              expect(frame.byteLength).toBeLessThanOrEqual(max);
              returned += 4 + frame.byteLength;
            }
          }
          expect(returned + decoder.buffered).toBe(chunks.reduce((n, c) => n + c.byteLength, 0));
          decoder.end();
        } catch (error) {
          if (!isCohortError(error)) throw error;
          expect(['FRAME_TOO_LARGE', 'FRAME_TRUNCATED']).toContain(error.code);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('framing — invalid maxFrameBytes and non-byte input are refused with coded errors', () => {
    for (const maxFrameBytes of [-1, 1.5, 2 ** 32, NaN, '10' as unknown as number]) {
      expect(catchCohort(() => new FrameDecoder({ maxFrameBytes })).code).toBe('INVALID_OPTION');
      expect(catchCohort(() => encodeFrame(new Uint8Array(0), maxFrameBytes)).code).toBe('INVALID_OPTION');
    }
    expect(catchCohort(() => new FrameDecoder().push('abc' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
    expect(catchCohort(() => encodeFrame([1, 2] as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
  });
});
