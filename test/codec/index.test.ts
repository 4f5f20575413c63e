import { describe, it, expect } from 'vitest';
import { CODEC_NAMES, resolveCodec, type Codec } from '../../src/codec/index.js';
import { catchCohort } from './helpers.js';

describe('codec index', () => {
  it('resolveCodec — a built-in name gives a fresh working codec of that name', () => {
    for (const name of CODEC_NAMES) {
      const codec = resolveCodec(name);
      expect(codec.name).toBe(name);
      expect(codec.decode(codec.encode({ a: [1, 'b'] }))).toEqual({ a: [1, 'b'] });
      expect(resolveCodec(name)).not.toBe(codec);
    }
  });

  it('resolveCodec — a codec object is returned as it is', () => {
    const custom: Codec = { name: 'raw', encode: () => new Uint8Array(0), decode: () => null };
    expect(resolveCodec(custom)).toBe(custom);
  });

  it('resolveCodec — an unknown name or a non-codec is INVALID_OPTION listing the valid names', () => {
    const bad = ['cbor', '', null, 42, { name: 'x', encode: () => null }, { encode: () => null, decode: () => null }];
    for (const value of bad) {
      const error = catchCohort(() => resolveCodec(value as unknown as Codec));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(/'msgpack', 'json'/);
    }
  });
});
