import { describe, it, expect } from 'vitest';
import { difference } from './helpers.js';

describe('codec test helpers', () => {
  const strict = { signedZero: true };

  it('round-trip comparison — notices each difference a codec could introduce', () => {
    expect(difference(Buffer.from([1]), new Uint8Array([1]), strict)).toMatch(/expected a Uint8Array, got Buffer/);
    expect(difference(new Uint8Array([1]), new Uint8Array([2]), strict)).toMatch(/bytes differ/);
    expect(difference({ a: 1 }, new Map([['a', 1]]), strict)).toMatch(/expected a Map/);
    expect(difference(new Map([[1, 2], [3, 4]]), new Map([[3, 4], [1, 2]]), strict)).toBeDefined();
    expect(difference(0, -0, strict)).toBeDefined();
    expect(difference(1n, 1, strict)).toBeDefined();
    expect(difference(Object.create({ x: 1 }) as unknown, {}, strict)).toMatch(/Object.prototype/);
    expect(difference({ a: 1, b: 2 }, { a: 1 }, strict)).toMatch(/expected keys/);
    expect(difference(new Error('a'), new TypeError('a'), strict)).toMatch(/expected class TypeError/);
    expect(difference(new Error('a', { cause: 1 }), new Error('a', { cause: 2 }), strict)).toMatch(/\.cause/);
    expect(difference(new Date(1), new Date(2), strict)).toBeDefined();
    expect(difference([undefined], [], strict)).toMatch(/length/);
  });

  it('round-trip comparison — accepts exactly what the codecs document', () => {
    expect(difference(0, -0, { signedZero: false })).toBeUndefined();
    expect(difference({ __proto_: 1 }, JSON.parse('{"__proto__": 1}'), strict)).toBeUndefined();
    expect(difference(new Date(NaN), new Date(NaN), strict)).toBeUndefined();
    const renamed = (error: Error) => Object.assign(error, { name: 'X' });
    expect(difference(renamed(new Error('m')), renamed(new TypeError('m')), strict)).toBeUndefined();
    const nested = () => new Map([[{ k: [1] }, new Set([NaN])]]);
    expect(difference(nested(), nested(), strict)).toBeUndefined();
  });
});
