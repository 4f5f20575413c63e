import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isCohortError } from '../../src/core/errors.js';
import { jsonCodec } from '../../src/codec/json.js';

const json = jsonCodec();
import { catchCohort, difference, wireValue } from './helpers.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const fromText = (s: string): unknown => json.decode(Buffer.from(s, 'utf8'));

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
}

describe('json codec', () => {
  it('json — round-trips arbitrary values of every supported type, -0 included', () => {
    fc.assert(
      fc.property(wireValue, (value) => {
        const back = json.decode(json.encode(value));
        const diff = difference(back, value, { signedZero: true });
        if (diff !== undefined) throw new Error(diff);
      }),
      { numRuns: 300 },
    );
  });

  it('json — writes readable UTF-8 JSON with tags for what JSON cannot express', () => {
    const encoded = text(json.encode({ at: new Date(0), n: 12n, gone: undefined, nan: NaN, list: [1, 'a'] }));
    expect(JSON.parse(encoded)).toEqual({
      at: { $cohort: 'date', v: '1970-01-01T00:00:00.000Z' },
      n: { $cohort: 'bigint', v: '12' },
      gone: { $cohort: 'undefined' },
      nan: { $cohort: 'number', v: 'NaN' },
      list: [1, 'a'],
    });
  });

  it('json — the space option pretty-prints and an invalid one throws INVALID_OPTION', () => {
    expect(text(jsonCodec({ space: 2 }).encode({ a: 1 }))).toBe('{\n  "a": 1\n}');
    expect(catchCohort(() => jsonCodec({ space: -1 })).code).toBe('INVALID_OPTION');
  });

  it('json — a plain object with its own $cohort key is data, not a tag', () => {
    const value = { $cohort: 'date', v: 'not a date', nested: { $cohort: 'undefined' } };
    expect(json.decode(json.encode(value))).toEqual(value);
  });

  it('json — keeps Map, Set, Buffer, Uint8Array, typed arrays, ArrayBuffer, DataView and RegExp', () => {
    const value = [
      new Map<unknown, unknown>([[{ k: 1 }, new Set([1n])]]),
      Buffer.from([1, 2]),
      new Uint8Array([3]),
      new Int32Array([-7, 8]),
      new BigUint64Array([2n ** 64n - 1n]),
      new ArrayBuffer(3),
      new DataView(new ArrayBuffer(2)),
      /x\/y/u,
    ];
    const back = json.decode(json.encode(value)) as unknown[];
    expect(back).toEqual(value);
    expect(Buffer.isBuffer(back[1])).toBe(true);
    expect(Buffer.isBuffer(back[2])).toBe(false);
  });

  it('json — errors keep class, name, message, cause, and an AggregateError its errors', () => {
    const aggregate = new AggregateError([new TypeError('one')], 'many', { cause: 'why' });
    const back = json.decode(json.encode(aggregate)) as AggregateError;
    expect(back).toBeInstanceOf(AggregateError);
    expect(back.message).toBe('many');
    expect(back.cause).toBe('why');
    expect(back.errors).toHaveLength(1);
    expect(back.errors[0]).toBeInstanceOf(TypeError);
    const custom = json.decode(json.encode(Object.assign(new Error('m'), { name: 'Custom' }))) as Error;
    expect([custom.constructor, custom.name, custom.message]).toEqual([Error, 'Custom', 'm']);
  });

  it('json — a lone surrogate survives (JSON escapes it)', () => {
    expect(json.decode(json.encode('a\ud800b'))).toBe('a\ud800b');
  });

  it('json — an invalid date survives as an invalid date', () => {
    const back = json.decode(json.encode(new Date(NaN)));
    expect(back).toBeInstanceOf(Date);
    expect(Number.isNaN((back as Date).getTime())).toBe(true);
  });

  describe('hostile keys', () => {
    it('json — a __proto__ key becomes the own data key __proto_, never a prototype', () => {
      const back = fromText('{"__proto__": {"polluted": true}, "a": {"__proto__": {"polluted": true}}}') as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.keys(back)).toEqual(['__proto_', 'a']);
      expect(back['__proto_']).toEqual({ polluted: true });
      expect(back['polluted']).toBeUndefined();
      expect(Object.getPrototypeOf(back['a'])).toBe(Object.prototype);
      expectNoPollution();
    });

    it('json — __proto__ inside an escaped object and inside tags pollutes nothing', () => {
      const back = fromText(
        '[{"$cohort":"object","v":{"$cohort":1,"__proto__":{"polluted":true}}},' +
          '{"$cohort":"map","v":[["__proto__",{"polluted":true}]]},' +
          '{"$cohort":"error","name":"constructor","message":"m","cause":{"__proto__":{"polluted":true}}}]',
      ) as unknown[];
      expect(Object.getPrototypeOf(back[0])).toBe(Object.prototype);
      expect(back[0]).toEqual({ $cohort: 1, __proto_: { polluted: true } });
      expect((back[1] as Map<string, unknown>).get('__proto__')).toEqual({ polluted: true });
      expect(back[2]).toBeInstanceOf(Error);
      expect((back[2] as Error).name).toBe('constructor');
      expectNoPollution();
    });

    it('json — constructor and prototype stay ordinary own data keys', () => {
      const back = fromText('{"constructor": {"prototype": {"polluted": true}}}') as Record<string, unknown>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(back, 'constructor')?.value).toEqual({ prototype: { polluted: true } });
      expectNoPollution();
    });
  });

  describe('bad input', () => {
    it('json — random bytes throw only DECODE_FAILED', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.json().map((s) => Buffer.from(s))), (input) => {
          try {
            json.decode(input);
          } catch (error) {
            if (!isCohortError(error)) throw error;
            expect(error.code).toBe('DECODE_FAILED');
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('json — every truncation of a valid encoding throws DECODE_FAILED', () => {
      fc.assert(
        fc.property(
          wireValue.filter((v) => typeof v === 'object' && v !== null),
          fc.nat(),
          (value, cut) => {
            const encoded = json.encode(value);
            const at = cut % encoded.byteLength;
            expect(catchCohort(() => json.decode(encoded.subarray(0, at))).code).toBe('DECODE_FAILED');
          },
        ),
        { numRuns: 200 },
      );
    });

    it('json — invalid UTF-8 and a non-Uint8Array throw DECODE_FAILED', () => {
      expect(catchCohort(() => json.decode(new Uint8Array([0x22, 0xff, 0x22]))).code).toBe('DECODE_FAILED');
      expect(catchCohort(() => json.decode({} as Uint8Array)).message).toMatch(/expected a Uint8Array/);
    });

    it('json — malformed or unknown tags throw DECODE_FAILED naming the path and what was expected', () => {
      const cases: [string, RegExp][] = [
        ['{"a":[{"$cohort":"nope"}]}', /unknown json tag "nope" at \$\.a\[0\]/],
        ['{"$cohort":"number","v":"1"}', /expected "v" to be "NaN"/],
        ['{"$cohort":"bigint","v":"1.5"}', /decimal integer/],
        [`{"$cohort":"bigint","v":"${'9'.repeat(20_001)}"}`, /at most 20000 digits/],
        ['{"$cohort":"date","v":"yesterday"}', /ISO date/],
        ['{"$cohort":"map","v":[[1]]}', /\[key, value\] pair/],
        ['{"$cohort":"set","v":{}}', /"v" to be an array/],
        ['{"$cohort":"bytes","v":"!!!!"}', /base64/],
        ['{"$cohort":"typed","t":"Function","v":""}', /"t" to be one of/],
        ['{"$cohort":"typed","t":"Int32Array","v":"AAA="}', /divisible by 4/],
        ['{"$cohort":"regexp","v":"(","f":""}', /valid regular expression/],
        ['{"$cohort":"error","name":1,"message":"m"}', /string "name" and "message"/],
        ['{"$cohort":"error","name":"AggregateError","message":"m","errors":1}', /"errors" to be an array/],
        ['{"$cohort":"object","v":[]}', /"v" to be an object/],
      ];
      for (const [input, message] of cases) {
        const error = catchCohort(() => fromText(input));
        expect(error.code).toBe('DECODE_FAILED');
        expect(error.message).toMatch(message);
      }
    });

    it('json — deep nesting throws DECODE_FAILED', () => {
      const deep = '['.repeat(200_000) + ']'.repeat(200_000);
      expect(catchCohort(() => fromText(deep)).code).toBe('DECODE_FAILED');
    });
  });

  describe('unencodable values', () => {
    it('json — functions, symbols and cycles throw ENCODE_FAILED naming the path', () => {
      const cyclic: Record<string, unknown> = { a: [1] };
      (cyclic['a'] as unknown[]).push(cyclic);
      const cases: [unknown, RegExp][] = [
        [{ f: () => 1 }, /function .* at \$\.f/],
        [[Symbol('s')], /at \$\[0\]/],
        [new Map([[1, Symbol('s')]]), /<map value 0>/],
        [cyclic, /circular structure: \$\.a\[1\]/],
        [{ big: 10n ** 20_000n }, /bigint of 20001 digits at \$\.big/],
      ];
      for (const [value, message] of cases) {
        const error = catchCohort(() => json.encode(value));
        expect(error.code).toBe('ENCODE_FAILED');
        expect(error.message).toMatch(message);
      }
    });

    it('json — a shared (non-circular) reference is encoded twice', () => {
      const shared = { x: 1 };
      expect(json.decode(json.encode([shared, shared]))).toEqual([{ x: 1 }, { x: 1 }]);
    });

    it('json — class instances arrive as plain objects of their own properties or toJSON()', () => {
      class Point {
        constructor(readonly x: number) {}
      }
      class Money {
        toJSON() {
          return '1.00 EUR';
        }
      }
      const back = json.decode(json.encode({ p: new Point(1), m: new Money() })) as Record<string, unknown>;
      expect(back).toEqual({ p: { x: 1 }, m: '1.00 EUR' });
      expect(Object.getPrototypeOf(back['p'])).toBe(Object.prototype);
    });
  });
});
