import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_GOSSIP_PER_MESSAGE, parseMessage } from '../../../src/cluster/membership/messages.js';

const A = 'a@10.0.0.1:4000';
const B = 'b@10.0.0.2:4000';
const member = (over: Record<string, unknown> = {}) => ({ id: B, incarnation: 3, status: 'alive', meta: { zone: 'eu' }, ...over });

const reason = (value: unknown): string => {
  const r = parseMessage(value);
  if (r.ok) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return r.reason;
};

describe('messages — valid shapes', () => {
  it('messages — accepts each message type and returns a frozen copy of only the known fields', () => {
    const inputs = [
      { type: 'ping', seq: 1, target: A, gossip: [member()] },
      { type: 'ack', seq: 0, gossip: [] },
      { type: 'ping-req', seq: 9, target: B, gossip: [] },
      { type: 'sync', reply: true, members: [member(), member({ id: A, status: 'dead' })] },
      { type: 'gossip', gossip: [member({ status: 'left' })] },
    ];
    for (const input of inputs) {
      const r = parseMessage({ ...input, extra: 'ignored' });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.message).toEqual(input);
      expect(Object.isFrozen(r.message)).toBe(true);
    }
  });
});

describe('messages — hostile shapes are refused with a reason, never a throw', () => {
  it('messages — wrong top-level values', () => {
    expect(reason(null)).toMatch(/must be an object/);
    expect(reason('ping')).toMatch(/must be an object/);
    expect(reason([])).toMatch(/must be an object/);
    expect(reason({ type: 'pong' })).toMatch(/unknown message type/);
    expect(reason({ type: 'ping', seq: -1, target: A, gossip: [] })).toMatch(/seq/);
    expect(reason({ type: 'ping', seq: 1.5, target: A, gossip: [] })).toMatch(/seq/);
    expect(reason({ type: 'ack', seq: 2 ** 60, gossip: [] })).toMatch(/seq/);
    expect(reason({ type: 'ping', seq: 1, target: 'nope', gossip: [] })).toMatch(/target/);
    expect(reason({ type: 'ack', seq: 1 })).toMatch(/gossip must be an array/);
    expect(reason({ type: 'sync', reply: 'yes', members: [] })).toMatch(/reply/);
  });

  it('messages — bad member records', () => {
    const ack = (m: unknown) => ({ type: 'ack', seq: 1, gossip: [m] });
    expect(reason(ack(member({ id: 'x' })))).toMatch(/not a node id/);
    expect(reason(ack(member({ incarnation: -1 })))).toMatch(/incarnation/);
    expect(reason(ack(member({ incarnation: Number.MAX_SAFE_INTEGER })))).toMatch(/incarnation/);
    expect(reason(ack(member({ incarnation: '3' })))).toMatch(/incarnation/);
    expect(reason(ack(member({ status: 'zombie' })))).toMatch(/status/);
    expect(reason(ack(member({ meta: { big: 'x'.repeat(2000) } })))).toMatch(/bytes/);
    expect(reason(ack(member({ meta: { n: 1 } })))).toMatch(/string/);
    expect(reason(ack(JSON.parse(`{"id":"${B}","incarnation":1,"status":"alive","meta":{"__proto__":"x"}}`)))).toMatch(/not allowed/);
    expect(reason({ type: 'ack', seq: 1, gossip: [member(), member()] })).toMatch(/twice/);
  });

  it('messages — too many piggybacked records', () => {
    const gossip = Array.from({ length: MAX_GOSSIP_PER_MESSAGE + 1 }, (_, i) => member({ id: `n${i}@h:${1000 + i}` }));
    expect(reason({ type: 'ack', seq: 1, gossip })).toMatch(/at most 64/);
  });

  it('messages — a throwing getter is reported, not thrown', () => {
    const evil = { type: 'ack', seq: 1 };
    Object.defineProperty(evil, 'gossip', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(reason(evil)).toMatch(/unreadable message/);
  });

  it('messages — random JSON values never throw and never pass as a message unless well-formed', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseMessage(value);
        if (r.ok) expect(['ping', 'ack', 'ping-req', 'sync', 'gossip']).toContain(r.message.type);
      }),
    );
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom('ping', 'ack', 'ping-req', 'sync', 'gossip'),
          seq: fc.oneof(fc.integer(), fc.double(), fc.string()),
          target: fc.oneof(fc.constant(A), fc.string()),
          reply: fc.oneof(fc.boolean(), fc.integer()),
          gossip: fc.array(fc.anything(), { maxLength: 3 }),
          members: fc.array(fc.anything(), { maxLength: 3 }),
        }),
        (value) => {
          expect(() => parseMessage(value)).not.toThrow();
        },
      ),
    );
  });
});
