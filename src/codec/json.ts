/**
 * A JSON codec for debugging: messages you can read in a packet capture or a log.
 *
 * Guarantees. The output is UTF-8 JSON. Values JSON cannot express travel as tagged objects of
 * the form `{"$cohort": tag, ...}`, so the same types survive a round trip as with the msgpack
 * codec: `undefined` (also inside arrays and objects; holes come back as `undefined`), `NaN`,
 * `±Infinity` and `-0` (which msgpack cannot keep), `BigInt` (up to 20,000 decimal digits),
 * `Date` (also invalid dates), `Map`, `Set`, `Uint8Array`, `Buffer` (each comes back as itself),
 * the other typed arrays, `ArrayBuffer`, `DataView`, `RegExp`, and `Error` with its `name`,
 * `message`, `cause` and, for an `AggregateError`, its `errors`; strings survive even with lone
 * surrogates (JSON escapes them). A plain object that has a key
 * `$cohort` of its own is wrapped in an `object` tag, so data can never pass for a tag. Every
 * object the decoder builds is a fresh plain object whose prototype is `Object.prototype`; a
 * key `__proto__` arrives as an own property named `__proto_`, as with msgpack.
 *
 * Deliberately not done: no speed or size goals (use msgpack on real links); an error's `stack`
 * and other own properties do not travel; class instances travel as their `toJSON()` result if
 * they have one, else as their own enumerable properties, and arrive as plain objects.
 * Functions, symbols and circular structures are refused with `ENCODE_FAILED`.
 */
import { CohortError, describe, isCohortError } from '../core/errors.js';
import type { Codec } from './codec.js';

/** Options for {@link jsonCodec}. */
export interface JsonCodecOptions {
  /**
   * Indentation passed to `JSON.stringify`; `0` writes compact JSON.
   * @default 0
   */
  space?: number;
}

/** The defaults of {@link JsonCodecOptions}. */
export const JSON_DEFAULTS = Object.freeze({
  space: 0,
} as const satisfies Required<JsonCodecOptions>);

/** The key that marks a tagged value. */
export const JSON_TAG_KEY = '$cohort';

/** The longest decimal `BigInt` the decoder accepts; parsing is quadratic in the digits. */
const MAX_BIGINT_DIGITS = 20_000;

const ERROR_CLASSES: ReadonlyMap<string, ErrorConstructor> = new Map<string, ErrorConstructor>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
]);

type TypedArrayConstructor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

const TYPED_ARRAYS: ReadonlyMap<string, TypedArrayConstructor> = new Map<string, TypedArrayConstructor>([
  ['Int8Array', Int8Array],
  ['Uint8ClampedArray', Uint8ClampedArray],
  ['Int16Array', Int16Array],
  ['Uint16Array', Uint16Array],
  ['Int32Array', Int32Array],
  ['Uint32Array', Uint32Array],
  ['Float32Array', Float32Array],
  ['Float64Array', Float64Array],
  ['BigInt64Array', BigInt64Array],
  ['BigUint64Array', BigUint64Array],
]);

/** A JSON-ready tree; objects are built without a prototype so a `__proto__` key stays data. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/**
 * Creates a JSON codec. Stateless: instances differ only in their options.
 *
 * `encode` throws `ENCODE_FAILED` for functions, symbols, circular structures and typed arrays
 * of unknown kinds; `decode` throws `DECODE_FAILED` for bytes that are not UTF-8 JSON or hold a
 * malformed or unknown tag, naming the path where it was found.
 *
 * @example
 * const codec = jsonCodec();
 * new TextDecoder().decode(codec.encode({ at: new Date(0), n: 1n }));
 * // {"at":{"$cohort":"date","v":"1970-01-01T00:00:00.000Z"},"n":{"$cohort":"bigint","v":"1"}}
 */
export function jsonCodec(options: JsonCodecOptions = {}): Codec {
  const space = options.space ?? JSON_DEFAULTS.space;
  if (!Number.isInteger(space) || space < 0 || space > 10) {
    throw new CohortError('INVALID_OPTION', `jsonCodec: space must be an integer from 0 to 10, got ${describe(space)}`);
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  return Object.freeze({
    name: 'json',
    encode(value: unknown): Uint8Array {
      try {
        const tree = toJson(value, [], new Set());
        return Buffer.from(JSON.stringify(tree, null, space), 'utf8');
      } catch (error) {
        if (isCohortError(error)) throw error;
        throw new CohortError(
          'ENCODE_FAILED',
          `cannot encode ${describe(value)} as json: ${error instanceof Error ? error.message : describe(error)}; ` +
            'expected plain data without cycles, functions or symbols',
          { cause: error },
        );
      }
    },
    decode(bytes: Uint8Array): unknown {
      if (!(bytes instanceof Uint8Array)) {
        throw new CohortError('DECODE_FAILED', `json decode expected a Uint8Array, got ${describe(bytes)}`);
      }
      try {
        return fromJson(JSON.parse(utf8.decode(bytes)) as Json, []);
      } catch (error) {
        if (isCohortError(error)) throw error;
        throw new CohortError(
          'DECODE_FAILED',
          `cannot decode ${bytes.byteLength} bytes as json: ${error instanceof Error ? error.message : describe(error)}; ` +
            'expected UTF-8 JSON written by a cohort json codec',
          { cause: error },
        );
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// encoding

function toJson(value: unknown, path: Path, ancestors: Set<object>): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return tag('number', { v: Object.is(value, -0) ? '-0' : String(value) });
    case 'bigint': {
      const digits = value.toString();
      if (digits.replace(/^-/, '').length > MAX_BIGINT_DIGITS) {
        throw new CohortError(
          'ENCODE_FAILED',
          `cannot encode a bigint of ${digits.length} digits at ${formatPath(path)}; ` +
            `expected at most ${MAX_BIGINT_DIGITS} digits`,
        );
      }
      return tag('bigint', { v: digits });
    }
    case 'undefined':
      return tag('undefined', {});
    case 'function':
    case 'symbol':
      throw new CohortError(
        'ENCODE_FAILED',
        `cannot encode ${describe(value)} at ${formatPath(path)}: ${typeof value}s do not cross the wire; ` +
          'expected plain data',
      );
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) {
    throw new CohortError(
      'ENCODE_FAILED',
      `cannot encode a circular structure: ${formatPath(path)} refers back to one of its parents; expected a tree`,
    );
  }
  ancestors.add(object);
  try {
    return objectToJson(object, path, ancestors);
  } finally {
    ancestors.delete(object);
  }
}

function objectToJson(value: object, path: Path, ancestors: Set<object>): Json {
  const child = (item: unknown, key: string | number): Json => {
    path.push(key);
    try {
      return toJson(item, path, ancestors);
    } finally {
      path.pop();
    }
  };
  if (Array.isArray(value)) {
    const out: Json[] = new Array<Json>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = child(value[i], i);
    return out;
  }
  if (value instanceof Date) {
    const time = value.getTime();
    return tag('date', { v: Number.isNaN(time) ? null : value.toISOString() });
  }
  if (value instanceof Map) {
    let i = 0;
    const entries: Json[] = [];
    for (const [key, item] of value) {
      entries.push([child(key, `<map key ${i}>`), child(item, `<map value ${i}>`)]);
      i++;
    }
    return tag('map', { v: entries });
  }
  if (value instanceof Set) {
    let i = 0;
    const items: Json[] = [];
    for (const item of value) items.push(child(item, `<set item ${i++}>`));
    return tag('set', { v: items });
  }
  if (value instanceof Error) return errorToJson(value, child);
  if (value instanceof RegExp) return tag('regexp', { v: value.source, f: value.flags });
  if (value instanceof ArrayBuffer) return tag('arraybuffer', { v: base64(new Uint8Array(value)) });
  if (ArrayBuffer.isView(value)) return viewToJson(value, path);

  const proto: unknown = Object.getPrototypeOf(value);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (proto !== Object.prototype && proto !== null && typeof toJSON === 'function') {
    const replaced: unknown = toJSON.call(value);
    if (replaced !== value) return toJson(replaced, path, ancestors);
  }
  const out = Object.create(null) as { [key: string]: Json };
  let hasTagKey = false;
  for (const key of Object.keys(value)) {
    if (key === JSON_TAG_KEY) hasTagKey = true;
    out[key] = child((value as Record<string, unknown>)[key], key);
  }
  return hasTagKey ? tag('object', { v: out }) : out;
}

function errorToJson(error: Error, child: (item: unknown, key: string) => Json): Json {
  const fields: { [key: string]: Json } = { name: String(error.name), message: String(error.message) };
  if (Object.hasOwn(error, 'cause')) fields['cause'] = child(error.cause, 'cause');
  if (error instanceof AggregateError && Array.isArray(error.errors)) fields['errors'] = child(error.errors, 'errors');
  return tag('error', fields);
}

function viewToJson(view: ArrayBufferView, path: Path): Json {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (Buffer.isBuffer(view)) return tag('buffer', { v: base64(bytes) });
  if (view instanceof Uint8Array) return tag('bytes', { v: base64(bytes) });
  if (view instanceof DataView) return tag('dataview', { v: base64(bytes) });
  const name = view.constructor.name;
  if (!TYPED_ARRAYS.has(name)) {
    throw new CohortError(
      'ENCODE_FAILED',
      `cannot encode a ${name} at ${formatPath(path)}; expected one of Uint8Array, Buffer, DataView, ` +
        [...TYPED_ARRAYS.keys()].join(', '),
    );
  }
  return tag('typed', { t: name, v: base64(bytes) });
}

function tag(kind: string, fields: { [key: string]: Json }): Json {
  return { [JSON_TAG_KEY]: kind, ...fields };
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

// ---------------------------------------------------------------------------------------------
// decoding

function fromJson(node: Json, path: Path): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) {
    const out: unknown[] = new Array<unknown>(node.length);
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      out[i] = fromJson(node[i] as Json, path);
      path.pop();
    }
    return out;
  }
  if (Object.hasOwn(node, JSON_TAG_KEY)) return fromTag(node, path);
  return plainObject(node, path);
}

/** Rebuilds an object as a fresh plain object; `__proto__` becomes the data key `__proto_`. */
function plainObject(node: { [key: string]: Json }, path: Path): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node)) {
    path.push(key);
    const value = fromJson(node[key] as Json, path);
    path.pop();
    // Only `__proto__` is an accessor on Object.prototype; every other key assigns as data.
    if (key === '__proto__') out['__proto_'] = value;
    else out[key] = value;
  }
  return out;
}

function fromTag(node: { [key: string]: Json }, path: Path): unknown {
  const kind = field(node, JSON_TAG_KEY);
  const v = field(node, 'v');
  switch (kind) {
    case 'undefined':
      return undefined;
    case 'number':
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      if (v === '-0') return -0;
      throw bad(path, kind, `"v" to be "NaN", "Infinity", "-Infinity" or "-0", got ${describe(v)}`);
    case 'bigint':
      if (typeof v !== 'string' || v.replace(/^-/, '').length > MAX_BIGINT_DIGITS || !/^-?(0|[1-9][0-9]*)$/.test(v)) {
        const expected = `"v" to be a decimal integer string of at most ${MAX_BIGINT_DIGITS} digits`;
        throw bad(path, kind, `${expected}, got ${describe(v)}`);
      }
      return BigInt(v);
    case 'date': {
      if (v === null) return new Date(NaN);
      const date = typeof v === 'string' ? new Date(v) : undefined;
      if (date === undefined || Number.isNaN(date.getTime())) {
        throw bad(path, kind, `"v" to be an ISO date string or null, got ${describe(v)}`);
      }
      return date;
    }
    case 'map':
      return new Map(
        items(v, path, kind).map((entry, i) => {
          if (!Array.isArray(entry) || entry.length !== 2) {
            throw bad(path, kind, `entry ${i} to be a [key, value] pair, got ${describe(entry)}`);
          }
          return [at(path, `<map key ${i}>`, entry[0] as Json), at(path, `<map value ${i}>`, entry[1] as Json)];
        }),
      );
    case 'set':
      return new Set(items(v, path, kind).map((item, i) => at(path, `<set item ${i}>`, item)));
    case 'bytes':
      return new Uint8Array(fromBase64(v, path, kind));
    case 'buffer':
      return Buffer.from(fromBase64(v, path, kind));
    case 'arraybuffer':
      return fromBase64(v, path, kind);
    case 'dataview':
      return new DataView(fromBase64(v, path, kind));
    case 'typed': {
      const t = field(node, 't');
      const ctor = typeof t === 'string' ? TYPED_ARRAYS.get(t) : undefined;
      if (ctor === undefined) {
        throw bad(path, kind, `"t" to be one of ${[...TYPED_ARRAYS.keys()].join(', ')}, got ${describe(t)}`);
      }
      const buffer = fromBase64(v, path, kind);
      if (buffer.byteLength % ctor.BYTES_PER_ELEMENT !== 0) {
        const expected = `a byte length divisible by ${ctor.BYTES_PER_ELEMENT} for ${String(t)}`;
        throw bad(path, kind, `${expected}, got ${buffer.byteLength}`);
      }
      return new ctor(buffer);
    }
    case 'regexp': {
      const flags = field(node, 'f');
      if (typeof v !== 'string' || typeof flags !== 'string') {
        throw bad(path, kind, `string "v" (source) and "f" (flags), got ${describe(v)} and ${describe(flags)}`);
      }
      try {
        return new RegExp(v, flags);
      } catch (error) {
        throw bad(path, kind, `a valid regular expression, got /${v}/${flags}`, error);
      }
    }
    case 'error':
      return fromErrorTag(node, path);
    case 'object':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw bad(path, kind, `"v" to be an object, got ${describe(v)}`);
      }
      return plainObject(v, path);
    default:
      throw new CohortError(
        'DECODE_FAILED',
        `unknown json tag ${describe(kind)} at ${formatPath(path)}; expected one of undefined, number, bigint, date, ` +
          'map, set, bytes, buffer, arraybuffer, dataview, typed, regexp, error, object',
      );
  }
}

function fromErrorTag(node: { [key: string]: Json }, path: Path): Error {
  const name = field(node, 'name');
  const message = field(node, 'message');
  if (typeof name !== 'string' || typeof message !== 'string') {
    throw bad(path, 'error', `string "name" and "message", got ${describe(name)} and ${describe(message)}`);
  }
  const options = Object.hasOwn(node, 'cause') ? { cause: at(path, 'cause', field(node, 'cause')) } : undefined;
  if (name === 'AggregateError') {
    const errors = Object.hasOwn(node, 'errors') ? at(path, 'errors', field(node, 'errors')) : [];
    if (!Array.isArray(errors)) throw bad(path, 'error', `"errors" to be an array, got ${describe(errors)}`);
    return new AggregateError(errors, message, options);
  }
  const ctor = ERROR_CLASSES.get(name);
  if (ctor !== undefined) return new ctor(message, options);
  const error = new Error(message, options);
  error.name = name;
  return error;
}

/** An own field of a parsed object (never one inherited from Object.prototype). */
function field(node: { [key: string]: Json }, key: string): Json | undefined {
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

function at(path: Path, key: string | number, node: Json | undefined): unknown {
  path.push(key);
  try {
    return fromJson(node === undefined ? null : node, path);
  } finally {
    path.pop();
  }
}

function items(v: Json | undefined, path: Path, kind: string): Json[] {
  if (!Array.isArray(v)) throw bad(path, kind, `"v" to be an array, got ${describe(v)}`);
  return v;
}

function fromBase64(v: Json | undefined, path: Path, kind: string): ArrayBuffer {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
    throw bad(path, kind, `"v" to be a base64 string, got ${describe(v)}`);
  }
  const bytes = Buffer.from(v, 'base64');
  // A fresh, unshared, aligned ArrayBuffer (Buffer.from may hand out a slice of a shared pool).
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

function bad(path: Path, kind: string, expected: string, cause?: unknown): CohortError {
  return new CohortError(
    'DECODE_FAILED',
    `malformed json tag "${kind}" at ${formatPath(path)}: expected ${expected}`,
    cause === undefined ? {} : { cause },
  );
}

function formatPath(path: Path): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (key.startsWith('<')) out += ` ${key}`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
