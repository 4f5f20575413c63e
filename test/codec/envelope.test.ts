import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isCohortError } from '../../src/core/errors.js';
import { ENVELOPE_VERSION, envelope, openEnvelope } from '../../src/codec/envelope.js';
import { jsonCodec } from '../../src/codec/json.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';

const json = jsonCodec();
const msgpack = msgpackCodec();
import { catchCohort } from './helpers.js';

describe('envelope', () => {
  it('envelope — wraps a body with the current version as [v, type, body] and opens again through both codecs', () => {
    const message = envelope('call', { id: 7, args: [1n, new Date(0)] });
    expect(message).toEqual([ENVELOPE_VERSION, 'call', { id: 7, args: [1n, new Date(0)] }]);
    for (const codec of [msgpack, json]) {
      expect(openEnvelope(codec.decode(codec.encode(message)))).toEqual({ v: ENVELOPE_VERSION, type: 'call', body: { id: 7, args: [1n, new Date(0)] } });
    }
  });

  it('envelope — ENVELOPE_VERSION is major version 1', () => {
    expect(ENVELOPE_VERSION).toBe(1);
  });

  it('envelope — a type that is empty, too long or not a string is refused with INVALID_ARGUMENT', () => {
    for (const type of ['', 'x'.repeat(129), 42 as unknown as string]) {
      expect(catchCohort(() => envelope(type, null)).code).toBe('INVALID_ARGUMENT');
    }
    expect(envelope('x'.repeat(128), null)[1]).toHaveLength(128);
  });

  it('envelope — openEnvelope returns a fresh object with only v, type and body', () => {
    const input = [1, 'ping', { n: 1 }, 'extra'];
    const opened = openEnvelope(input);
    expect(opened).toEqual({ v: 1, type: 'ping', body: { n: 1 } });
  });

  it('envelope — a missing body reads as undefined', () => {
    expect(openEnvelope([1, 'ping'])).toEqual({ v: 1, type: 'ping', body: undefined });
  });

  it('envelope — anything but an array of at least [v, type] is BAD_ENVELOPE', () => {
    for (const value of [null, undefined, 1, 'env', [], [1], { v: 1, type: 'ping', body: {} }, new Map([['v', 1]]), new Date(0)]) {
      const error = catchCohort(() => openEnvelope(value));
      expect(error.code).toBe('BAD_ENVELOPE');
      expect(error.message).toMatch(/expected an envelope \[v, type, body\]/);
    }
  });

  it('envelope — a malformed version is BAD_ENVELOPE', () => {
    for (const v of ['1', 1.5, -1, NaN, null, 1n, undefined]) {
      const error = catchCohort(() => openEnvelope([v, 'ping']));
      expect(error.code).toBe('BAD_ENVELOPE');
      expect(error.message).toMatch(/non-negative integer/);
    }
  });

  it('envelope — another major version is UNSUPPORTED_VERSION naming both versions', () => {
    for (const v of [0, 2, 99]) {
      const error = catchCohort(() => openEnvelope([v, 'ping', null]));
      expect(error.code).toBe('UNSUPPORTED_VERSION');
      expect(error.message).toContain(`version ${v}`);
      expect(error.message).toContain(`version ${ENVELOPE_VERSION}`);
    }
    // The version is checked before the type: a future version may shape envelopes differently.
    expect(catchCohort(() => openEnvelope([2, { kind: 'ping' }])).code).toBe('UNSUPPORTED_VERSION');
  });

  it('envelope — a missing or invalid type is BAD_ENVELOPE', () => {
    for (const type of [undefined, '', 'x'.repeat(129), 7, { name: 'ping' }]) {
      const value = [1, type];
      const error = catchCohort(() => openEnvelope(value));
      expect(error.code).toBe('BAD_ENVELOPE');
      expect(error.message).toMatch(/envelope type/);
    }
  });

  it('envelope — arbitrary decoded values either open or throw BAD_ENVELOPE or UNSUPPORTED_VERSION', () => {
    const candidate = fc.oneof(
      fc.anything(),
      fc.tuple(fc.oneof(fc.integer({ min: -1, max: 3 }), fc.anything()), fc.oneof(fc.string(), fc.anything()), fc.anything()),
    );
    fc.assert(
      fc.property(candidate, (value) => {
        try {
          const opened = openEnvelope(value);
          expect(opened.v).toBe(ENVELOPE_VERSION);
          expect(typeof opened.type).toBe('string');
        } catch (error) {
          if (!isCohortError(error)) throw error;
          expect(['BAD_ENVELOPE', 'UNSUPPORTED_VERSION']).toContain(error.code);
        }
      }),
      { numRuns: 500 },
    );
  });
});
