import { describe, expect, it } from 'vitest';
import { GossipQueue, retransmitLimit } from '../../../src/cluster/membership/gossip-queue.js';
import { makeMember, type Member } from '../../../src/cluster/membership/member.js';

const m = (i: number, incarnation = 1): Member => makeMember(`n${i}@10.0.0.1:${4000 + i}`, incarnation, 'alive', {});
const ids = (members: Member[]) => members.map((x) => x.id.split('@')[0]);

describe('gossip queue — retransmit limit', () => {
  it('retransmitLimit — is mult × ceil(log10(n + 1)), at least mult', () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    expect(retransmitLimit(4, 99)).toBe(8);
    expect(retransmitLimit(4, 250)).toBe(12);
    expect(retransmitLimit(3, 0)).toBe(3);
  });

  it('gossip queue — sends an update exactly retransmitLimit times, then drops it', () => {
    const q = new GossipQueue({ retransmitMult: 2, capacity: 100 });
    q.enqueue(m(1));
    let sent = 0;
    for (let i = 0; i < 10; i++) sent += q.take(8, 5).length; // limit 2 × ceil(log10 6) = 2
    expect(sent).toBe(2);
    expect(q.size).toBe(0);
  });

  it('gossip queue — the limit follows the cluster size at the time of sending', () => {
    const q = new GossipQueue({ retransmitMult: 1, capacity: 100 });
    q.enqueue(m(1));
    let sent = 0;
    for (let i = 0; i < 10; i++) sent += q.take(8, 150).length; // 1 × ceil(log10 151) = 3
    expect(sent).toBe(3);
  });
});

describe('gossip queue — ordering and cap', () => {
  it('gossip queue — hands out at most `limit` updates, newest first among the unsent', () => {
    const q = new GossipQueue({ retransmitMult: 4, capacity: 100 });
    for (let i = 1; i <= 5; i++) q.enqueue(m(i));
    expect(ids(q.take(3, 10))).toEqual(['n5', 'n4', 'n3']);
    // n1 and n2 have not been sent: they go before n3..n5, sent once.
    expect(ids(q.take(3, 10))).toEqual(['n2', 'n1', 'n5']);
  });

  it('gossip queue — least-sent first: a new update jumps ahead of ones already sent', () => {
    const q = new GossipQueue({ retransmitMult: 4, capacity: 100 });
    q.enqueue(m(1));
    q.enqueue(m(2));
    q.take(2, 10);
    q.enqueue(m(3));
    expect(ids(q.take(1, 10))).toEqual(['n3']);
  });

  it('gossip queue — a newer update about a member replaces the queued one and starts unsent', () => {
    const q = new GossipQueue({ retransmitMult: 4, capacity: 100 });
    q.enqueue(m(1, 1));
    q.take(1, 10);
    q.enqueue(m(1, 2));
    expect(q.size).toBe(1);
    expect(q.peek(m(1).id)).toEqual({ member: m(1, 2), transmits: 0 });
  });

  it('gossip queue — skips the excluded member without counting a transmit for it', () => {
    const q = new GossipQueue({ retransmitMult: 4, capacity: 100 });
    q.enqueue(m(1));
    q.enqueue(m(2));
    expect(ids(q.take(8, 10, m(2).id))).toEqual(['n1']);
    expect(q.peek(m(2).id)?.transmits).toBe(0);
  });

  it('gossip queue — is bounded: past capacity the most-sent, then oldest, updates go first', () => {
    const q = new GossipQueue({ retransmitMult: 8, capacity: 3 });
    q.enqueue(m(1));
    q.enqueue(m(2));
    q.take(1, 10); // n2 sent once
    q.enqueue(m(3));
    q.enqueue(m(4)); // over capacity: n2 (most sent) is dropped
    expect(q.size).toBe(3);
    expect(q.peek(m(2).id)).toBeUndefined();
    q.enqueue(m(5)); // all unsent: the oldest (n1) goes
    expect(q.peek(m(1).id)).toBeUndefined();
    expect(ids(q.take(8, 10))).toEqual(['n5', 'n4', 'n3']);
  });

  it('gossip queue — clear empties it', () => {
    const q = new GossipQueue({ retransmitMult: 4, capacity: 10 });
    q.enqueue(m(1));
    q.clear();
    expect(q.size).toBe(0);
    expect(q.take(8, 10)).toEqual([]);
  });
});
