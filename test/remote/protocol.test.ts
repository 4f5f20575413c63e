/**
 * The remote layer's wire tuples: every message survives `encode` and `readMessage` (through the
 * real codec), and a malformed one comes back as a sentence instead of a message.
 */
import { describe, expect, it } from 'vitest';
import { msgpackCodec } from '../../src/codec/msgpack.js';
import type { Pid } from '../../src/core/ids.js';
import { encode, readMessage, type RemoteMessage } from '../../src/remote/protocol.js';

const SENDER = 'sender@127.0.0.1:1';
const SELF = 'self@127.0.0.1:2';
const theirs: Pid = { node: SENDER, incarnation: 3, id: 7 };
const mine: Pid = { node: SELF, incarnation: 5, id: 11 };
const codec = msgpackCodec();

/** What the other node reads of `m`, after the codec. */
const overTheWire = (m: RemoteMessage) => readMessage(codec.decode(codec.encode(encode(m))), SENDER, SELF);

describe('remote protocol', () => {
  it.each<[string, RemoteMessage]>([
    ['call', { t: 'call', i: 1, to: mine, m: { q: 'x' }, ms: 5_000, f: theirs }],
    ['call without a caller', { t: 'call', i: 2, to: mine, m: null, ms: 1 }],
    ['spawn', { t: 'spawn', i: 3, b: 'kv', a: [1], ms: 100, n: 'name', g: true, l: theirs }],
    ['stop', { t: 'stop', i: 4, to: mine, r: 'shutdown', ms: 100 }],
    ['ok', { t: 'ok', i: 5, v: 'value' }],
    ['err', { t: 'err', i: 6, e: { name: 'CohortError', code: 'TIMEOUT', message: 'late', retryable: true } }],
    ['spawned', { t: 'spawned', i: 7, p: theirs }],
    ['cast', { t: 'cast', to: mine, m: 1 }],
    ['info', { t: 'info', to: mine, m: 'hello' }],
    ['mon with the lane of its down', { t: 'mon', ref: 'r1', to: mine, l: 42 }],
    ['mon without a lane', { t: 'mon', ref: 'r2', to: mine }],
    ['demon', { t: 'demon', ref: 'r1' }],
    ['down', { t: 'down', ref: 'r1', r: 'error', msg: 'boom' }],
    ['link', { t: 'link', from: theirs, to: mine }],
    ['unlink', { t: 'unlink', from: theirs, to: mine }],
    ['exit', { t: 'exit', from: theirs, to: mine, r: 'normal' }],
  ])('%s — arrives as it was sent', (_label, message) => {
    const read = overTheWire(message);
    expect(typeof read).toBe('object');
    // Optional fields left off on the wire read back as undefined.
    expect(JSON.parse(JSON.stringify(read))).toEqual(JSON.parse(JSON.stringify(message)));
  });

  it.each<[string, unknown[]]>([
    ['a negative lane', [8, 'r1', 11, 5, -1]],
    ['a fractional lane', [8, 'r1', 11, 5, 1.5]],
    ['a lane that is a string', [8, 'r1', 11, 5, '1']],
    ['no ref', [8, undefined, 11, 5]],
    ['a negative process id', [8, 'r1', -11, 5]],
  ])('mon — %s is refused as a malformed monitor', (_label, tuple) => {
    expect(readMessage(tuple, SENDER, SELF)).toBe('a malformed monitor');
  });
});
