import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ERROR_CODES, isKnownCode } from '../../src/core/codes.js';
import {
  CohortError,
  asCohortError,
  cohortError,
  isCohortError,
  toWireError,
  type WireError,
} from '../../src/core/errors.js';

describe('CohortError', () => {
  it('CohortError — carries code, message, details, node and name', () => {
    const e = new CohortError('NOPROC', 'no process', { details: { pid: 'x' }, node: 'a@h:1' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CohortError');
    expect(e.code).toBe('NOPROC');
    expect(e.message).toBe('no process');
    expect(e.details).toEqual({ pid: 'x' });
    expect(e.node).toBe('a@h:1');
    expect(e.cause).toBeUndefined();
  });

  it('CohortError — retryable defaults from the catalog', () => {
    expect(new CohortError('TIMEOUT', 't').retryable).toBe(true);
    expect(new CohortError('NOCONNECTION', 'n').retryable).toBe(true);
    expect(new CohortError('BAD_REQUEST', 'b').retryable).toBe(false);
  });

  it('CohortError — an explicit retryable overrides the catalog', () => {
    expect(new CohortError('TIMEOUT', 't', { retryable: false }).retryable).toBe(false);
    expect(new CohortError('BAD_REQUEST', 'b', { retryable: true }).retryable).toBe(true);
  });

  it('CohortError — a code outside the catalog is kept and not retryable by default', () => {
    const e = new CohortError('SOMETHING_NEW', 'x');
    expect(e.code).toBe('SOMETHING_NEW');
    expect(e.retryable).toBe(false);
    // inherited Object.prototype names are not catalog entries
    expect(new CohortError('constructor', 'x').retryable).toBe(false);
    expect(isKnownCode('toString')).toBe(false);
  });

  it('CohortError — keeps its cause', () => {
    const cause = new TypeError('inner');
    const e = new CohortError('INTERNAL', 'outer', { cause });
    expect(e.cause).toBe(cause);
  });

  it('cohortError — is shorthand for the constructor', () => {
    const e = cohortError('NAME_TAKEN', 'taken', { details: { name: 'n' } });
    expect(e).toBeInstanceOf(CohortError);
    expect(e.code).toBe('NAME_TAKEN');
    expect(e.details).toEqual({ name: 'n' });
  });
});

describe('isCohortError', () => {
  it('isCohortError — true for instances, false for other values', () => {
    expect(isCohortError(new CohortError('TIMEOUT', 't'))).toBe(true);
    expect(isCohortError(new Error('x'))).toBe(false);
    expect(isCohortError({ name: 'CohortError', code: 'TIMEOUT', retryable: true, message: 'x' })).toBe(false);
    expect(isCohortError(null)).toBe(false);
    expect(isCohortError('CohortError')).toBe(false);
  });

  it('isCohortError — recognises a duck-typed copy from another copy of the package', () => {
    class CohortErrorCopy extends Error {
      readonly code = 'TIMEOUT';
      readonly retryable = true;
      constructor(message: string) {
        super(message);
        this.name = 'CohortError';
      }
    }
    expect(isCohortError(new CohortErrorCopy('from elsewhere'))).toBe(true);
    const wrongName = new CohortErrorCopy('x');
    wrongName.name = 'OtherError';
    expect(isCohortError(wrongName)).toBe(false);
  });
});

describe('wire form', () => {
  it('toWire/fromWire — round trip keeps code, message, retryable, details and node', () => {
    const e = new CohortError('TIMEOUT', 'too slow', { retryable: false, details: { ms: 5 }, node: 'a@h:1' });
    const wire = e.toWire();
    expect(wire).toEqual({ code: 'TIMEOUT', name: 'CohortError', message: 'too slow', retryable: false, details: { ms: 5 }, node: 'a@h:1' });
    const back = CohortError.fromWire(wire);
    expect(back).toBeInstanceOf(CohortError);
    expect(back.code).toBe('TIMEOUT');
    expect(back.message).toBe('too slow');
    expect(back.retryable).toBe(false);
    expect(back.details).toEqual({ ms: 5 });
    expect(back.node).toBe('a@h:1');
  });

  it('toWire — omits absent optional fields and survives JSON', () => {
    const wire = new CohortError('NOPROC', 'gone').toWire();
    expect(Object.keys(wire).sort()).toEqual(['code', 'message', 'name', 'retryable']);
    const back = CohortError.fromWire(JSON.parse(JSON.stringify(wire)));
    expect(back.code).toBe('NOPROC');
    expect(back.message).toBe('gone');
  });

  it('toWire/fromWire — a nested cause chain survives', () => {
    const root = new TypeError('root cause');
    const mid = new CohortError('DECODE_FAILED', 'mid', { cause: root });
    const top = new CohortError('REMOTE_ERROR', 'top', { cause: mid });
    const back = CohortError.fromWire(JSON.parse(JSON.stringify(top.toWire())));
    expect(back.code).toBe('REMOTE_ERROR');
    const c1 = back.cause as CohortError;
    expect(isCohortError(c1)).toBe(true);
    expect(c1.code).toBe('DECODE_FAILED');
    expect(c1.message).toBe('mid');
    const c2 = c1.cause as CohortError;
    expect(c2.code).toBe('UNKNOWN');
    expect(c2.message).toBe('root cause');
    expect(c2.details).toEqual({ originalName: 'TypeError' });
    expect(c2.cause).toBeUndefined();
  });

  it('toWire — cuts a long (or cyclic) cause chain at a fixed depth', () => {
    let e: unknown = new Error('level 0');
    for (let i = 1; i <= 20; i++) e = new CohortError('INTERNAL', `level ${i}`, { cause: e });
    let wire: WireError | undefined = (e as CohortError).toWire();
    let depth = 0;
    while (wire.cause !== undefined) {
      wire = wire.cause;
      depth++;
    }
    expect(depth).toBe(4);

    const cyclic = new CohortError('INTERNAL', 'self');
    (cyclic as { cause?: unknown }).cause = cyclic;
    expect(() => cyclic.toWire()).not.toThrow();
  });

  it('fromWire — cuts a long (or cyclic) cause chain at a fixed depth', () => {
    const cyclic: Record<string, unknown> = { code: 'INTERNAL', name: 'CohortError', message: 'loop', retryable: false };
    cyclic.cause = cyclic;
    const back = CohortError.fromWire(cyclic);
    let depth = 0;
    let c: unknown = back.cause;
    while (c !== undefined) {
      depth++;
      c = (c as Error).cause;
    }
    expect(depth).toBe(4);
  });

  it('fromWire — an unknown code keeps its code and its wire retryability', () => {
    const back = CohortError.fromWire({ code: 'FUTURE_CODE', name: 'CohortError', message: 'new', retryable: true });
    expect(back.code).toBe('FUTURE_CODE');
    expect(back.retryable).toBe(true);
    expect(back.message).toBe('new');
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'boom'],
    ['a boolean', true],
  ])('fromWire — %s becomes UNKNOWN that says the data was malformed', (_label, data) => {
    const back = CohortError.fromWire(data);
    expect(back).toBeInstanceOf(CohortError);
    expect(back.code).toBe('UNKNOWN');
    expect(back.message).toMatch(/malformed/);
    expect(back.message).toContain(String(data));
  });

  it.each([
    ['an empty object', {}],
    ['an array', [1, 2]],
    ['no code', { name: 'CohortError', message: 'hello', retryable: false }],
    ['an empty code', { code: '', name: 'CohortError', message: 'hello', retryable: false }],
    ['a non-string code', { code: 7, name: 'CohortError', message: 'hello', retryable: false }],
    ['no message', { code: 'TIMEOUT', name: 'CohortError', retryable: true }],
  ])('fromWire — %s (missing fields) becomes UNKNOWN that says so', (_label, data) => {
    const back = CohortError.fromWire(data);
    expect(back.code).toBe('UNKNOWN');
    expect(back.message).toMatch(/malformed error data/);
    expect(back.retryable).toBe(false);
  });

  it('fromWire — a malformed error keeps what it could read in its message and details', () => {
    const back = CohortError.fromWire({ name: 'CohortError', message: 'hello', retryable: false });
    expect(back.message).toContain('hello');
    const noMessage = CohortError.fromWire({ code: 'TIMEOUT', retryable: true });
    expect(noMessage.details).toMatchObject({ wireCode: 'TIMEOUT' });
  });

  it('fromWire — ignores details that are not a plain record', () => {
    expect(CohortError.fromWire({ code: 'X', name: 'CohortError', message: 'm', retryable: false, details: [1] }).details).toBeUndefined();
    expect(CohortError.fromWire({ code: 'X', name: 'CohortError', message: 'm', retryable: false, details: 'd' }).details).toBeUndefined();
  });

  it('toWireError — a plain Error keeps its name and message under code UNKNOWN', () => {
    const wire = toWireError(new RangeError('out of range'));
    expect(wire).toEqual({ code: 'UNKNOWN', name: 'RangeError', message: 'out of range', retryable: false });
    const back = CohortError.fromWire(wire);
    expect(back.code).toBe('UNKNOWN');
    expect(back.message).toBe('out of range');
    expect(back.details).toEqual({ originalName: 'RangeError' });
    expect(isCohortError(back)).toBe(true);
  });

  it('toWireError — keeps the string code of a Node system error', () => {
    const sys = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111 });
    const wire = toWireError(sys);
    expect(wire.code).toBe('ECONNREFUSED');
    expect(wire.name).toBe('Error');
    expect(wire.message).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(CohortError.fromWire(wire).code).toBe('ECONNREFUSED');
    // a numeric code is not a cohort code
    expect(toWireError(Object.assign(new Error('n'), { code: 5 })).code).toBe('UNKNOWN');
  });

  it('toWireError — a thrown non-Error is described', () => {
    expect(toWireError('just a string')).toEqual({ code: 'UNKNOWN', name: 'Error', message: '"just a string"', retryable: false });
    expect(toWireError(undefined).message).toBe('undefined');
    expect(toWireError({ a: 1 }).message).toBe('an object');
  });

  it('asCohortError — wraps other values and leaves CohortErrors alone', () => {
    const c = new CohortError('TIMEOUT', 't');
    expect(asCohortError(c)).toBe(c);
    const plain = new Error('plain');
    const wrapped = asCohortError(plain, 'INTERNAL');
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.message).toBe('plain');
    expect(wrapped.cause).toBe(plain);
    expect(asCohortError(3).message).toBe('3');
  });

  it('fromWire — never throws, for any input (property)', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true, withDate: true }), (data) => {
        const e = CohortError.fromWire(data);
        expect(e).toBeInstanceOf(CohortError);
        expect(typeof e.code).toBe('string');
        expect(e.code.length).toBeGreaterThan(0);
        expect(typeof e.message).toBe('string');
        expect(typeof e.retryable).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('fromWire — never throws for arbitrary wire-shaped records (property)', () => {
    const field = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.object());
    fc.assert(
      fc.property(
        fc.record({ code: field, name: field, message: field, retryable: field, details: field, node: field, cause: field }, { requiredKeys: [] }),
        (data) => {
          const e = CohortError.fromWire(data);
          expect(isCohortError(e)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('ERROR_CODES', () => {
  it('catalog — every code has a layer, a retryable flag and a summary', () => {
    const layers = new Set(['core', 'codec', 'transport', 'cluster', 'process', 'remote', 'services']);
    const codes = Object.keys(ERROR_CODES);
    expect(codes.length).toBeGreaterThan(20);
    for (const code of codes) {
      const info = ERROR_CODES[code as keyof typeof ERROR_CODES];
      expect(code).toMatch(/^[A-Z][A-Z_]*$/);
      expect(layers.has(info.layer), `${code} layer`).toBe(true);
      expect(typeof info.retryable, `${code} retryable`).toBe('boolean');
      expect(info.summary.length, `${code} summary`).toBeGreaterThan(10);
      expect(isKnownCode(code)).toBe(true);
    }
  });

  it('catalog — holds the codes the design promises callers', () => {
    for (const code of ['TIMEOUT', 'NOCONNECTION', 'NOPROC', 'REMOTE_ERROR', 'BAD_REQUEST', 'NOT_FOUND', 'NAME_TAKEN', 'NO_PROVIDERS', 'ALL_PROVIDERS_FAILED', 'INVALID_OPTION', 'INVALID_NODE_ID', 'INVALID_PID', 'UNKNOWN']) {
      expect(isKnownCode(code), code).toBe(true);
    }
  });

  it('catalog — is frozen, entries too', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    expect(Object.isFrozen(ERROR_CODES.TIMEOUT)).toBe(true);
  });
});
