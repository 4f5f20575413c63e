/**
 * Shared test helpers for the codec tests: an arbitrary of wire values and a deep comparison
 * that states exactly what each codec promises (no looser than its header says).
 */
import fc from 'fast-check';
import { isCohortError } from '../../src/core/errors.js';

/** The CohortError a function throws (shared with the other tests). */
export { thrown as catchCohort } from '../helpers/errors.js';

/** Runs `fn`; anything it throws must be a CohortError (rethrown otherwise so the test fails). */
export function onlyCohortErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!isCohortError(error)) throw error;
  }
}

const ERROR_CLASSES = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError] as const;

const BIGINT_EDGES = [
  0n,
  -1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 63n,
  -(2n ** 63n) - 1n,
  2n ** 64n - 1n,
  2n ** 64n,
  -(2n ** 64n),
  2n ** 200n + 12345n,
  -(2n ** 1000n),
];

const NUMBER_EDGES = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53) + 1,
  2 ** 64,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
];

const text = fc.string({ unit: 'binary', maxLength: 20 });
const key = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('constructor', 'prototype', '__proto__', '$cohort', 'v', 'toString', '') },
);

type ErrorSpec = [ErrorClass: (typeof ERROR_CLASSES)[number], message: string, name: string | undefined];

const errorSpec: fc.Arbitrary<ErrorSpec> = fc.tuple(
  fc.constantFrom(...ERROR_CLASSES),
  text,
  fc.option(text.map((name) => `Custom${name}`), { nil: undefined }),
);

function buildError([ErrorClass, message, name]: ErrorSpec, cause?: { cause: unknown }): Error {
  const error = new ErrorClass(message, cause);
  if (name !== undefined) error.name = name;
  return error;
}

const errorArb = fc.oneof(
  errorSpec.map((spec) => buildError(spec)),
  fc.tuple(errorSpec, errorSpec).map(([outer, inner]) => buildError(outer, { cause: buildError(inner) })),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  text,
  fc.integer(),
  fc.double(),
  fc.constantFrom(...NUMBER_EDGES),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.constantFrom(...BIGINT_EDGES),
  fc.date(),
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  errorArb,
);

/** Values made of every type both codecs promise to carry, nested. */
export const wireValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.jsonValue({ maxDepth: 2 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
  ),
})).value;

/** What a comparison allows that differs between the codecs. */
export interface SameOptions {
  /** Whether `-0` must come back as `-0` (JSON keeps it, msgpack turns it into `0`). */
  signedZero: boolean;
}

/**
 * Compares a decoded value with the original. Returns `undefined` when they match, else where
 * and how they differ. Plain objects must come back with `Object.prototype`; a key `__proto__`
 * must come back as `__proto_`; Buffer and Uint8Array must keep their own type; errors compare
 * by name (which picks the class), message and cause; Map and Set compare in insertion order.
 */
export function difference(actual: unknown, expected: unknown, options: SameOptions, path = '$'): string | undefined {
  const fail = (what: string): string => `${path}: ${what}`;
  if (typeof expected === 'number') {
    if (!options.signedZero && Object.is(expected, -0)) {
      return actual === 0 ? undefined : fail(`expected 0, got ${String(actual)}`);
    }
    return Object.is(actual, expected) ? undefined : fail(`expected ${String(expected)}, got ${String(actual)}`);
  }
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected) ? undefined : fail(`expected ${String(expected)}, got ${String(actual)}`);
  }
  if (typeof actual !== 'object' || actual === null) return fail(`expected an object, got ${String(actual)}`);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return fail('expected an array');
    if (actual.length !== expected.length) return fail(`expected length ${expected.length}, got ${actual.length}`);
    for (let i = 0; i < expected.length; i++) {
      const d = difference(actual[i], expected[i], options, `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (expected instanceof Date) {
    if (!(actual instanceof Date)) return fail('expected a Date');
    if (Object.is(actual.getTime(), expected.getTime())) return undefined;
    return fail(`expected time ${expected.getTime()}, got ${actual.getTime()}`);
  }
  if (expected instanceof Map || expected instanceof Set) {
    const kind = expected instanceof Map ? Map : Set;
    if (!(actual instanceof kind)) return fail(`expected a ${kind.name}`);
    const a = [...(actual as Map<unknown, unknown> | Set<unknown>).entries()];
    const e = [...expected.entries()];
    return difference(a, e, options, `${path}<${kind.name} entries>`);
  }
  if (Buffer.isBuffer(expected) || expected instanceof Uint8Array) {
    const wanted = Buffer.isBuffer(expected) ? 'Buffer' : 'Uint8Array';
    const got = Buffer.isBuffer(actual) ? 'Buffer' : actual instanceof Uint8Array ? 'Uint8Array' : 'something else';
    if (got !== wanted) return fail(`expected a ${wanted}, got ${got}`);
    return Buffer.compare(Buffer.from(actual as Uint8Array), Buffer.from(expected)) === 0 ? undefined : fail('bytes differ');
  }
  if (expected instanceof Error) {
    if (!(actual instanceof Error)) return fail('expected an Error');
    // The class travels by name: a TypeError renamed 'CustomX' comes back as an Error named 'CustomX'.
    const wantedClass = ERROR_CLASSES.find((c) => c.name === expected.name) ?? Error;
    if (actual.constructor !== wantedClass) {
      return fail(`expected class ${wantedClass.name}, got ${actual.constructor.name}`);
    }
    if (actual.name !== expected.name) return fail(`expected name ${expected.name}, got ${actual.name}`);
    if (actual.message !== expected.message) return fail(`expected message ${expected.message}, got ${actual.message}`);
    return difference(actual.cause, expected.cause, options, `${path}.cause`);
  }
  // A plain object.
  if (Object.getPrototypeOf(actual) !== Object.prototype) return fail('expected a plain object with Object.prototype');
  const expectedKeys = Object.keys(expected).map((k) => (k === '__proto__' ? '__proto_' : k));
  const actualKeys = Object.keys(actual);
  if ([...expectedKeys].sort().join('\u0000') !== [...actualKeys].sort().join('\u0000')) {
    return fail(`expected keys ${JSON.stringify(expectedKeys)}, got ${JSON.stringify(actualKeys)}`);
  }
  for (const k of Object.keys(expected)) {
    const got = (actual as Record<string, unknown>)[k === '__proto__' ? '__proto_' : k];
    const want = Object.getOwnPropertyDescriptor(expected, k)?.value;
    const d = difference(got, want, options, `${path}[${JSON.stringify(k)}]`);
    if (d !== undefined) return d;
  }
  return undefined;
}
