import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { rangeDecoder } from '../../src/codec/codec.js';
import { jsonCodec } from '../../src/codec/json.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';

const msgpack = msgpackCodec();
import { isCohortError } from '../../src/core/errors.js';
import { catchCohort, difference, onlyCohortErrors, wireValue } from './helpers.js';

const bytes = (...parts: (number | string)[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from([p]))));

/** `{ "__proto__": { "polluted": true } }` as a plain MessagePack map (decodes as a Map). */
const PROTO_MAP = bytes(0x81, 0xa9, '__proto__', 0x81, 0xa8, 'polluted', 0xc3);
/** The same as msgpackr records: record 0 has the key `__proto__`, record 1 the key `polluted`. */
const PROTO_RECORD = bytes(0xd4, 0x72, 0x40, 0x91, 0xa9, '__proto__', 0xd4, 0x72, 0x41, 0x91, 0xa8, 'polluted', 0xc3);

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
}

describe('msgpack codec', () => {
  it('msgpack — round-trips arbitrary values of every supported type', () => {
    const codec = msgpackCodec();
    fc.assert(
      fc.property(wireValue, (value) => {
        const back = codec.decode(codec.encode(value));
        const diff = difference(back, value, { signedZero: false });
        if (diff !== undefined) throw new Error(diff);
      }),
      { numRuns: 300 },
    );
  });

  it('msgpack — each message decodes on its own, in any order, by a fresh codec', () => {
    const sender = msgpackCodec();
    const shape = (n: number) => ({ type: 'call', body: { id: n, args: [{ a: n }, { a: n + 1 }] } });
    const first = sender.encode(shape(1));
    const second = sender.encode(shape(2));
    expect(msgpackCodec().decode(second)).toEqual(shape(2));
    const receiver = msgpackCodec();
    expect(receiver.decode(second)).toEqual(shape(2));
    expect(receiver.decode(first)).toEqual(shape(1));
    expect(Buffer.from(sender.encode(shape(1))).equals(Buffer.from(first))).toBe(true);
  });

  it('msgpack — keeps Map and plain object apart', () => {
    const back = msgpack.decode(msgpack.encode({ m: new Map([['a', 1]]), o: { a: 1 } })) as Record<string, unknown>;
    expect(back['m']).toBeInstanceOf(Map);
    expect(back['m']).toEqual(new Map([['a', 1]]));
    expect(Object.getPrototypeOf(back['o'])).toBe(Object.prototype);
  });

  it('msgpack — small messages of plain data take the plain form; a Map, an Error, a class instance or more than 64 containers take the record form', () => {
    const form = (value: unknown) => (msgpack.encode(value)[0] === 0xc1 ? 'records' : 'plain');
    const small = { type: 'echo', data: 'x'.repeat(80), at: new Date(0), tags: new Set(['a']), bin: new Uint8Array([1]), re: /a/g, list: [1, { n: 2n }] };
    expect(form(small)).toBe('plain');
    expect(form([1, 'two', null, undefined, true])).toBe('plain');
    expect(form({ deep: [{ inner: new Set([new Map([[1, 2]])]) }] })).toBe('records');
    expect(form({ error: new Error('x') })).toBe('records');
    expect(form({ when: new (class Stamp {})() })).toBe('records');
    expect(form(Array.from({ length: 64 }, (_, i) => ({ i })))).toBe('records'); // 65 containers with the array
    expect(form(Array.from({ length: 63 }, (_, i) => ({ i })))).toBe('plain');
    for (const value of [small, { deep: [{ inner: new Set([new Map([[1, 2]])]) }] }, Array.from({ length: 200 }, (_, i) => ({ i, m: i % 50 === 0 ? new Map([[i, { i }]]) : { i } }))]) {
      expect(msgpack.decode(msgpack.encode(value))).toEqual(value);
    }
  });

  it('msgpack — bigints at the 64-bit edges and far beyond come back as bigints', () => {
    const values = [0n, 5n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n) - 1n, 2n ** 4000n + 1n];
    expect(msgpack.decode(msgpack.encode(values))).toEqual(values);
  });

  it('msgpack — numbers keep their value, including NaN, ±Infinity and integers past 32 bits', () => {
    const values = [NaN, Infinity, -Infinity, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 64, 0.1, -1.5e300];
    expect(msgpack.decode(msgpack.encode(values))).toEqual(values);
  });

  it('msgpack — undefined survives inside objects and arrays, and holes come back as undefined', () => {
    // eslint-disable-next-line no-sparse-arrays
    const back = msgpack.decode(msgpack.encode({ a: undefined, list: [undefined, 1, , 3] })) as Record<string, unknown[]>;
    expect(Object.keys(back)).toEqual(['a', 'list']);
    expect(back['a']).toBeUndefined();
    expect(back['list']).toEqual([undefined, 1, undefined, 3]);
    expect(2 in (back['list'] as unknown[])).toBe(true);
  });

  it('msgpack — -0 arrives as 0 (documented: integral numbers use integer formats)', () => {
    expect(Object.is(msgpack.decode(msgpack.encode(-0)), 0)).toBe(true);
  });

  it('msgpack — Uint8Array comes back as Uint8Array and Buffer as Buffer, owning their memory', () => {
    const input = { u: new Uint8Array([1, 2, 3]).subarray(1), b: Buffer.from([7, 8, 9]).subarray(1) };
    const encoded = msgpack.encode(input);
    const back = msgpack.decode(encoded) as { u: Uint8Array; b: Buffer };
    expect(Buffer.isBuffer(back.u)).toBe(false);
    expect(back.u).toBeInstanceOf(Uint8Array);
    expect([...back.u]).toEqual([2, 3]);
    expect(Buffer.isBuffer(back.b)).toBe(true);
    expect([...back.b]).toEqual([8, 9]);
    expect(back.b.buffer).not.toBe(encoded.buffer);
    expect(back.u.buffer).not.toBe(encoded.buffer);
  });

  it('msgpack — copyBuffers: false decodes Buffers as views into the input', () => {
    const codec = msgpackCodec({ copyBuffers: false });
    const encoded = Buffer.from(codec.encode(Buffer.from([1, 2, 3])));
    const back = codec.decode(encoded) as Buffer;
    expect(back.buffer).toBe(encoded.buffer);
  });

  it('msgpack — other typed arrays, ArrayBuffer, DataView and RegExp survive', () => {
    const back = msgpack.decode(
      msgpack.encode([new Int16Array([-1, 2]), new Float64Array([0.5]), new BigInt64Array([-5n]), new ArrayBuffer(2), /a+b/gi]),
    ) as unknown[];
    expect(back[0]).toEqual(new Int16Array([-1, 2]));
    expect(back[1]).toEqual(new Float64Array([0.5]));
    expect(back[2]).toEqual(new BigInt64Array([-5n]));
    expect(back[3]).toBeInstanceOf(ArrayBuffer);
    expect(back[4]).toEqual(/a+b/gi);
  });

  it('msgpack — an Error keeps its class, name, message and cause but not its other properties', () => {
    const error = Object.assign(new TypeError('bad', { cause: new RangeError('inner') }), { code: 'E_X' });
    const back = msgpack.decode(msgpack.encode(error)) as TypeError & { code?: string };
    expect(back).toBeInstanceOf(TypeError);
    expect(back.message).toBe('bad');
    expect(back.cause).toBeInstanceOf(RangeError);
    expect((back.cause as Error).message).toBe('inner');
    expect(back.code).toBeUndefined();
    const custom = Object.assign(new Error('x'), { name: 'MyError' });
    const customBack = msgpack.decode(msgpack.encode(custom)) as Error;
    expect([customBack.constructor, customBack.name, customBack.message]).toEqual([Error, 'MyError', 'x']);
  });

  it('msgpack — AggregateError does not survive (msgpackr limitation, pinned so an upgrade that fixes it is noticed)', () => {
    const back = msgpack.decode(msgpack.encode(new AggregateError([new Error('a')], 'many'))) as AggregateError;
    expect(back).toBeInstanceOf(AggregateError);
    expect(back.message).not.toBe('many');
  });

  it('msgpack — class instances arrive as plain objects of their own properties or toJSON()', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      norm(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    class Money {
      toJSON() {
        return '1.00 EUR';
      }
    }
    const back = msgpack.decode(msgpack.encode({ p: new Point(1, 2), m: new Money() })) as Record<string, unknown>;
    expect(back['p']).toEqual({ x: 1, y: 2 });
    expect(Object.getPrototypeOf(back['p'])).toBe(Object.prototype);
    expect(back['m']).toBe('1.00 EUR');
  });

  it('msgpack — a lone surrogate turns into U+FFFD (documented: strings travel as UTF-8)', () => {
    expect(msgpack.decode(msgpack.encode('a\ud800b'))).toMatch(/^a\ufffd+b$/);
  });

  describe('hostile keys', () => {
    it('msgpack — a __proto__ key in a plain MessagePack map becomes the own data key __proto_ and pollutes nothing', () => {
      const back = msgpack.decode(PROTO_MAP) as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.keys(back)).toEqual(['__proto_']);
      expect(back['__proto_']).toEqual({ polluted: true });
      expectNoPollution();
    });

    it('msgpack — a __proto__ key in a map of the record form decodes into a Map and pollutes nothing', () => {
      const back = msgpack.decode(Buffer.concat([Buffer.from([0xc1]), PROTO_MAP]));
      expect(back).toBeInstanceOf(Map);
      expect((back as Map<string, unknown>).get('__proto__')).toEqual(new Map([['polluted', true]]));
      expectNoPollution();
    });

    it('msgpack — a __proto__ record key becomes the own data key __proto_, never a prototype', () => {
      const back = msgpack.decode(PROTO_RECORD) as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.keys(back)).toEqual(['__proto_']);
      expect(back['__proto_']).toEqual({ polluted: true });
      expect(back['polluted']).toBeUndefined();
      expectNoPollution();
    });

    it('msgpack — the compiled record reader (same record read many times) is just as safe', () => {
      // An array of 6 records of one shape: msgpackr compiles a reader after a few reads.
      const many = bytes(0x96, ...PROTO_RECORD, ...Array.from({ length: 5 }, () => [0x40, 0x41, 0xc3]).flat());
      const back = msgpack.decode(many) as Record<string, unknown>[];
      expect(back).toHaveLength(6);
      for (const item of back) {
        expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
        expect(Object.keys(item)).toEqual(['__proto_']);
        expect(item['polluted']).toBeUndefined();
      }
      expectNoPollution();
    });

    it('msgpack — an object parsed from JSON with an own __proto__ key round-trips as __proto_', () => {
      const parsed: unknown = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
      const encoded = msgpack.encode(parsed);
      const back = msgpack.decode(encoded) as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(back['__proto_']).toEqual({ polluted: true });
      expect(Object.getOwnPropertyDescriptor(back, 'constructor')?.value).toEqual({ prototype: 1 });
      expectNoPollution();
    });
  });

  describe('bad input', () => {
    it('msgpack — random bytes throw only DECODE_FAILED', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
          try {
            msgpack.decode(input);
          } catch (error) {
            if (!isCohortError(error)) throw error;
            expect(error.code).toBe('DECODE_FAILED');
          }
        }),
        { numRuns: 3000 },
      );
      expectNoPollution();
    });

    it('msgpack — random bytes after a valid prefix throw only CohortErrors', () => {
      const prefixes = [0x82, 0x92, 0xd4, 0xc7, 0xc8, 0xd6, 0xd7, 0xdc, 0xde].map((b) => new Uint8Array([b]));
      fc.assert(
        fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 40 }), (prefix, rest) => {
          onlyCohortErrors(() => msgpack.decode(Buffer.concat([prefix, rest])));
        }),
        { numRuns: 2000 },
      );
    });

    it('msgpack — every truncation of a valid encoding throws DECODE_FAILED', () => {
      fc.assert(
        fc.property(wireValue, fc.nat(), (value, cut) => {
          const encoded = msgpack.encode(value);
          const at = cut % encoded.byteLength;
          expect(catchCohort(() => msgpack.decode(encoded.subarray(0, at))).code).toBe('DECODE_FAILED');
        }),
        { numRuns: 200 },
      );
    });

    it('msgpack — a header claiming 4 GiB in a 10-byte input fails fast with DECODE_FAILED', () => {
      for (const token of [0xdb, 0xc6, 0xdd, 0xdf, 0xc9]) {
        const input = bytes(token, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5);
        const started = performance.now();
        const error = catchCohort(() => msgpack.decode(input));
        expect(error.code).toBe('DECODE_FAILED');
        expect(error.message).toMatch(/10 bytes/);
        expect(performance.now() - started).toBeLessThan(200);
      }
    });

    it('msgpack — deep nesting throws DECODE_FAILED and the codec keeps working', () => {
      const deep = Buffer.alloc(200_000, 0x91);
      deep[deep.length - 1] = 0xc0;
      expect(catchCohort(() => msgpack.decode(deep)).code).toBe('DECODE_FAILED');
      expect(msgpack.decode(msgpack.encode([1, { a: 2 }]))).toEqual([1, { a: 2 }]);
    });

    it('msgpack — trailing bytes after a value throw DECODE_FAILED', () => {
      const encoded = Buffer.concat([msgpack.encode({ a: 1 }), Buffer.from([0xc0])]);
      expect(catchCohort(() => msgpack.decode(encoded)).code).toBe('DECODE_FAILED');
    });

    it('msgpack — empty input and a non-Uint8Array throw DECODE_FAILED that says what was expected', () => {
      expect(catchCohort(() => msgpack.decode(new Uint8Array(0))).code).toBe('DECODE_FAILED');
      const error = catchCohort(() => msgpack.decode('hello' as unknown as Uint8Array));
      expect(error.code).toBe('DECODE_FAILED');
      expect(error.message).toMatch(/expected a Uint8Array/);
    });

    it('msgpack — the reference extensions of structured cloning are refused', () => {
      // fixext4 'p' (pointer to object #1), which would let a peer build shared or cyclic graphs.
      expect(catchCohort(() => msgpack.decode(bytes(0xd6, 0x70, 0, 0, 0, 1))).code).toBe('DECODE_FAILED');
    });

    it('msgpack — decodes only the bytes of the view it is given and leaves the view untouched', () => {
      const encoded = msgpack.encode({ hello: 'world' });
      const framed = Buffer.concat([Buffer.from([0x92, 1]), encoded, Buffer.from([0xc0, 0xc0])]);
      const view = framed.subarray(2, 2 + encoded.byteLength);
      expect(msgpack.decode(view)).toEqual({ hello: 'world' });
      expect(Object.keys(view).filter((k) => !/^\d+$/.test(k))).toEqual([]);
    });
  });

  describe('decodeRange', () => {
    /** `encoded` with random bytes before and after it, and where it starts. */
    const embedded = (encoded: Uint8Array, before: Uint8Array, after: Uint8Array) => ({
      buffer: Buffer.concat([before, encoded, after]),
      start: before.byteLength,
      end: before.byteLength + encoded.byteLength,
    });

    it('msgpack — decodes a value among other bytes exactly as decode does it alone, in both forms', () => {
      fc.assert(
        fc.property(wireValue, fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (value, before, after) => {
          const encoded = msgpack.encode(value);
          const { buffer, start, end } = embedded(encoded, before, after);
          const diff = difference(msgpack.decodeRange!(buffer, start, end), msgpack.decode(encoded), { signedZero: true });
          if (diff !== undefined) throw new Error(diff);
        }),
        { numRuns: 300 },
      );
      // Both forms, one after the other in one buffer.
      const plain = msgpack.encode({ a: [1, 'b'] });
      const records = msgpack.encode(new Map([['k', 1]]));
      const both = Buffer.concat([plain, records]);
      expect(msgpack.decodeRange!(both, 0, plain.byteLength)).toEqual({ a: [1, 'b'] });
      expect(msgpack.decodeRange!(both, plain.byteLength, both.length)).toEqual(new Map([['k', 1]]));
    });

    it('msgpack — a value cut short by the end of its range throws DECODE_FAILED, even when the buffer goes on', () => {
      fc.assert(
        fc.property(wireValue, fc.nat(), (value, cut) => {
          const encoded = msgpack.encode(value);
          const buffer = Buffer.concat([encoded, Buffer.alloc(64, 0xc0)]);
          const at = cut % encoded.byteLength;
          expect(catchCohort(() => msgpack.decodeRange!(buffer, 0, at)).code).toBe('DECODE_FAILED');
        }),
        { numRuns: 200 },
      );
    });

    it('msgpack — a range outside the buffer, or not a Buffer, throws DECODE_FAILED that says what was expected', () => {
      const buffer = Buffer.from(msgpack.encode([1, 2]));
      for (const [start, end] of [[-1, 2], [0, buffer.length + 1], [2, 1], [0.5, 2]] as const) {
        const error = catchCohort(() => msgpack.decodeRange!(buffer, start, end));
        expect(error.code).toBe('DECODE_FAILED');
        expect(error.message).toMatch(/a range within it/);
      }
      expect(catchCohort(() => msgpack.decodeRange!(new Uint8Array(buffer) as Buffer, 0, buffer.length)).code).toBe('DECODE_FAILED');
      expect(msgpack.decodeRange!(buffer, 0, buffer.length)).toEqual([1, 2]);
    });

    it('rangeDecoder — uses decodeRange when the codec has it, and decode on a view when not', () => {
      const json = jsonCodec();
      const encoded = json.encode({ a: 1 });
      const { buffer, start, end } = embedded(encoded, Buffer.from('xx'), Buffer.from('yy'));
      expect(rangeDecoder(json)(buffer, start, end)).toEqual({ a: 1 });
      const packed = msgpack.encode({ a: 1 });
      const inMsgpack = embedded(packed, Buffer.from([0xc0]), Buffer.from([0xc0]));
      expect(rangeDecoder(msgpack)(inMsgpack.buffer, inMsgpack.start, inMsgpack.end)).toEqual({ a: 1 });
    });
  });

  describe('unencodable values', () => {
    it('msgpack — functions, symbols and cycles throw ENCODE_FAILED and the codec keeps working', () => {
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic['self'] = cyclic;
      for (const value of [() => 1, { type: 'x', callback: () => 1 }, Symbol('s'), new Map([[1, Symbol('s')]]), cyclic]) {
        const error = catchCohort(() => msgpack.encode(value));
        expect(error.code).toBe('ENCODE_FAILED');
        expect(error.message).toMatch(/expected/);
      }
      expect(msgpack.decode(msgpack.encode({ ok: [1, 2] }))).toEqual({ ok: [1, 2] });
    });

    it('msgpack — wraps what msgpackr threw as the cause', () => {
      const error = catchCohort(() => msgpack.encode(Symbol('s')));
      expect(error.cause).toBeInstanceOf(Error);
    });

    it('msgpack — an invalid copyBuffers option throws INVALID_OPTION', () => {
      expect(catchCohort(() => msgpackCodec({ copyBuffers: 'yes' as unknown as boolean })).code).toBe('INVALID_OPTION');
    });
  });
});
