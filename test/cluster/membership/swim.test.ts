import { describe, expect, it } from 'vitest';
import { MEMBERSHIP_DEFAULTS, Membership, type MembershipOptions } from '../../../src/cluster/membership/index.js';
import type { MembershipEvent } from '../../../src/cluster/membership/member-list.js';
import type { MembershipMessage } from '../../../src/cluster/membership/messages.js';
import { ManualClock } from '../../../src/core/clock.js';
import { CohortError } from '../../../src/core/errors.js';
import type { LogFields, Logger } from '../../../src/core/logger.js';
import { mulberry32 } from '../../helpers/prng.js';

const A = 'a@10.0.0.1:4000';
const peer = (i: number) => `p${i}@10.0.0.2:${5000 + i}`;
const rec = (id: string, incarnation = 1, status = 'alive', meta: Record<string, string> = {}) => ({ id, incarnation, status, meta });

interface Sent {
  to: string;
  message: MembershipMessage;
  at: number;
}

/**
 * One membership `a` whose IO records what it sends, on a ManualClock, with `peers` already known.
 * With `answering`, every peer not in `silent` answers pings (and ping-reqs about answering peers)
 * right after the send, like a healthy cluster.
 */
function harness(peers = 4, options: Partial<MembershipOptions> = {}, answering = false) {
  const clock = new ManualClock();
  const sent: Sent[] = [];
  const silent = new Set<string>();
  const answer = (to: string, message: MembershipMessage) => {
    if (!answering || silent.has(to)) return;
    if (message.type === 'ping') queueMicrotask(() => m.handle(to, { type: 'ack', seq: message.seq, gossip: [] }));
    if (message.type === 'ping-req' && !silent.has(message.target)) {
      queueMicrotask(() => m.handle(to, { type: 'ack', seq: message.seq, gossip: [] }));
    }
  };
  const events: MembershipEvent[] = [];
  const warnings: { message: string; fields: LogFields | undefined }[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (message, fields) => warnings.push({ message, fields }) };
  const m = new Membership({
    id: A,
    io: {
      send: (to, message) => {
        sent.push({ to, message, at: clock.now() });
        answer(to, message);
      },
    },
    clock,
    random: mulberry32(42),
    logger,
    incarnation: 10,
    jitter: 0,
    ...options,
  });
  for (const type of ['nodeUp', 'nodeDown', 'suspect', 'alive', 'metaChanged', 'invalidMessage'] as const) m.on(type, (e) => events.push(e));
  m.start();
  const ids = Array.from({ length: peers }, (_, i) => peer(i));
  if (peers > 0) m.handle(ids[0]!, { type: 'sync', reply: false, members: ids.map((id) => rec(id)) });
  sent.length = 0;
  events.length = 0;
  const of = <T extends MembershipMessage['type']>(type: T) =>
    sent.filter((s): s is Sent & { message: Extract<MembershipMessage, { type: T }> } => s.message.type === type);
  const pings = () => of('ping');
  /** Answers every ping `a` sent (and has not been answered) with an ack from its target. */
  const ackAll = () => {
    for (const s of of('ping').splice(0)) m.handle(s.to, { type: 'ack', seq: s.message.seq, gossip: [] });
    sent.length = 0;
  };
  return { m, clock, sent, events, warnings, ids, pings, of, ackAll, silent };
}

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CohortError);
    return (error as CohortError).code + ': ' + (error as CohortError).message;
  }
  throw new Error('expected a throw');
};

describe('options — defaults and validation', () => {
  it('options — the defaults are frozen and documented values', () => {
    expect(Object.isFrozen(MEMBERSHIP_DEFAULTS)).toBe(true);
    expect(MEMBERSHIP_DEFAULTS).toMatchObject({
      probeIntervalMs: 500,
      probeTimeoutMs: 200,
      indirectProbes: 3,
      suspicionTimeoutMs: 3000,
      connectionLostSuspicionMs: 400,
      maxPiggyback: 8,
      retransmitMult: 4,
      pushPullIntervalMs: 30_000,
    });
  });

  it('options — a bad option is INVALID_OPTION naming it', () => {
    const io = { send: () => {} };
    const bad: [Partial<MembershipOptions>, RegExp][] = [
      [{ id: 'nope' }, /'id'/],
      [{ io: {} as never }, /'io'/],
      [{ probeIntervalMs: 0 }, /'probeIntervalMs'/],
      [{ probeTimeoutMs: 600 }, /'probeTimeoutMs'.*less than probeIntervalMs/],
      [{ indirectProbes: 1.5 }, /'indirectProbes'/],
      [{ suspicionTimeoutMs: Number.NaN }, /'suspicionTimeoutMs'/],
      [{ connectionLostSuspicionMs: 5000 }, /'connectionLostSuspicionMs'/],
      [{ maxPiggyback: 65 }, /'maxPiggyback'/],
      [{ jitter: 0.9 }, /'jitter'/],
      [{ meta: { n: 1 } as never }, /'meta'.*string/],
      [{ incarnation: -1 }, /'incarnation'/],
      [{ random: 3 as never }, /'random'/],
      [{ probeIntervalMS: 5 } as never, /unknown membership option 'probeIntervalMS'/],
    ];
    for (const [options, message] of bad) {
      expect(code(() => new Membership({ id: A, io, ...options }))).toMatch(/^INVALID_OPTION: /);
      expect(code(() => new Membership({ id: A, io, ...options }))).toMatch(message);
    }
  });
});

describe('probe — one member per period, direct then indirect then suspect', () => {
  it('probe — pings one member per period, and an answered ping leads to nothing more', async () => {
    const h = harness(4);
    await h.clock.advance(499);
    expect(h.pings()).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.pings()).toHaveLength(1);
    expect(h.pings()[0]!.message.target).toBe(h.pings()[0]!.to);
    h.ackAll();
    await h.clock.advance(499);
    expect(h.sent).toHaveLength(0);
    expect(h.events).toEqual([]);
  });

  it('probe — round-robin: every member is probed exactly once in the first n periods', async () => {
    const h = harness(6);
    const targets: string[] = [];
    for (let i = 0; i < 6; i++) {
      await h.clock.advance(500);
      targets.push(...h.pings().map((s) => s.to));
      h.ackAll();
    }
    expect([...targets].sort()).toEqual([...h.ids].sort());
  });

  it('probe — no ack within probeTimeoutMs: asks k other alive members, never the target', async () => {
    const h = harness(5);
    await h.clock.advance(500);
    const target = h.pings()[0]!.to;
    await h.clock.advance(199);
    expect(h.of('ping-req')).toHaveLength(0);
    await h.clock.advance(1);
    const reqs = h.of('ping-req');
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.to)).size).toBe(3);
    for (const r of reqs) {
      expect(r.to).not.toBe(target);
      expect(r.message.target).toBe(target);
      expect(r.message.seq).toBe(h.pings()[0]!.message.seq);
    }
  });

  it('probe — an indirect ack from a helper counts: no suspicion', async () => {
    const h = harness(5);
    await h.clock.advance(700);
    const req = h.of('ping-req')[0]!;
    h.m.handle(req.to, { type: 'ack', seq: req.message.seq, gossip: [] });
    await h.clock.advance(300);
    expect(h.events).toEqual([]);
  });

  it('probe — an ack with the right seq from a stranger does not count', async () => {
    const h = harness(5);
    await h.clock.advance(500);
    const ping = h.pings()[0]!;
    h.m.handle('stranger@10.9.9.9:1', { type: 'ack', seq: ping.message.seq, gossip: [] });
    await h.clock.advance(500);
    expect(h.events.map((e) => e.type)).toEqual(['suspect']);
  });

  it('probe — unanswered by the end of the period: suspect, gossiped, then dead after the suspicion timeout', async () => {
    const h = harness(4);
    await h.clock.advance(500);
    const target = h.pings()[0]!.to;
    await h.clock.advance(500);
    expect(h.events).toEqual([{ type: 'suspect', node: target, incarnation: 1 }]);
    expect(h.m.member(target)?.status).toBe('suspect');
    // The suspicion rides on the next message, and a ping to the suspect carries it first (buddy system).
    h.sent.length = 0;
    await h.clock.advance(500);
    const next = h.sent.find((s) => s.message.type === 'ping')!;
    expect('gossip' in next.message && next.message.gossip.some((g) => g.id === target && g.status === 'suspect')).toBe(true);
    await h.clock.advance(3000 - 500 - 1);
    expect(h.events.filter((e) => e.type === 'nodeDown')).toEqual([]);
    await h.clock.advance(1);
    expect(h.events.filter((e) => e.type === 'nodeDown')).toEqual([{ type: 'nodeDown', node: target, reason: 'failed', incarnation: 1 }]);
  });

  it('probe — the suspicion timeout scales with log10 of the cluster size', () => {
    expect(harness(4).m.suspicionTimeoutMs()).toBe(3000);
    expect(harness(99).m.suspicionTimeoutMs()).toBeCloseTo(6000);
  });

  it('probe — a refutation (alive with a higher incarnation) cancels the suspicion', async () => {
    const h = harness(4, {}, true);
    const target = h.ids[2]!;
    h.silent.add(target);
    h.m.probeNow(target);
    await h.clock.advance(500);
    expect(h.events.map((e) => e.type)).toEqual(['suspect']);
    h.m.handle(target, { type: 'gossip', gossip: [rec(target, 2)] });
    h.silent.delete(target);
    await h.clock.advance(10_000);
    expect(h.events.map((e) => e.type)).toEqual(['suspect', 'alive']);
    expect(h.m.member(target)).toMatchObject({ status: 'alive', incarnation: 2 });
  });
});

describe('probe — answering others', () => {
  it('ping — is answered with an ack of the same seq; a ping meant for another member is dropped', () => {
    const h = harness(2);
    h.m.handle(h.ids[0]!, { type: 'ping', seq: 77, target: A, gossip: [] });
    h.m.handle(h.ids[0]!, { type: 'ping', seq: 78, target: peer(9), gossip: [] });
    expect(h.sent.map((s) => [s.to, s.message.type, 'seq' in s.message ? s.message.seq : -1])).toEqual([[h.ids[0], 'ack', 77]]);
  });

  it('ping-req — pings the target with its own seq and relays the ack with the requester’s seq', () => {
    const h = harness(3);
    const [requester, target] = [h.ids[0]!, h.ids[1]!];
    h.m.handle(requester, { type: 'ping-req', seq: 5, target, gossip: [] });
    const ping = h.of('ping')[0]!;
    expect(ping.to).toBe(target);
    h.sent.length = 0;
    h.m.handle(target, { type: 'ack', seq: ping.message.seq, gossip: [] });
    expect(h.sent.map((s) => [s.to, s.message.type, 'seq' in s.message ? s.message.seq : -1])).toEqual([[requester, 'ack', 5]]);
  });

  it('refute — hearing itself suspected raises its incarnation and gossips alive', async () => {
    const h = harness(2);
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(A, 10, 'suspect')] });
    expect(h.m.incarnation).toBe(11);
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(A, 15, 'dead')] });
    expect(h.m.incarnation).toBe(16);
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(A, 3, 'dead')] }); // older: ignored
    expect(h.m.incarnation).toBe(16);
    await h.clock.advance(500);
    const ping = h.of('ping')[0]!;
    expect(ping.message.gossip).toContainEqual(rec(A, 16, 'alive'));
  });

  it('buddy — a message to a member held as suspect or dead carries that record, even once gossip has spent it', async () => {
    const h = harness(3, { retransmitMult: 1, maxPiggyback: 2 });
    const [x, y] = [h.ids[0]!, h.ids[1]!];
    h.m.handle(h.ids[2]!, { type: 'gossip', gossip: [rec(x, 1, 'suspect'), rec(y, 1, 'dead')] });
    for (let i = 0; i < 3; i++) h.m.handle(h.ids[2]!, { type: 'ping', seq: i, target: A, gossip: [] }); // spend the queue
    h.sent.length = 0;
    h.m.probeNow(x);
    expect(h.pings()[0]!.message.gossip[0]).toEqual(rec(x, 1, 'suspect'));
    h.m.handle(y, { type: 'ping', seq: 9, target: A, gossip: [] });
    expect(h.of('ack')[0]!.message.gossip[0]).toEqual(rec(y, 1, 'dead'));
  });

  it('piggyback — no message carries more than maxPiggyback records', async () => {
    const h = harness(30, { maxPiggyback: 3 });
    for (let i = 0; i < 30; i++) h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[i]!, 2, 'suspect')] });
    for (let i = 0; i < 10; i++) {
      h.m.handle(h.ids[1]!, { type: 'ping', seq: i, target: A, gossip: [] });
      await h.clock.advance(500);
    }
    const carrying = h.sent.filter((s) => 'gossip' in s.message);
    expect(carrying.length).toBeGreaterThan(10);
    for (const s of carrying) expect('gossip' in s.message && s.message.gossip.length).toBeLessThanOrEqual(3);
  });
});

describe('handle — hostile input', () => {
  it('handle — drops malformed messages with a warning and an invalidMessage event, never throws', () => {
    const h = harness(1);
    const hostile: unknown[] = [null, 42, 'ping', { type: 'ping' }, { type: 'ack', seq: 1, gossip: [{ id: 'x' }] }, { type: 'sync', reply: true, members: {} }];
    for (const message of hostile) expect(() => h.m.handle(h.ids[0]!, message)).not.toThrow();
    expect(() => h.m.handle('not an id', { type: 'ack', seq: 1, gossip: [] })).not.toThrow();
    expect(() => h.m.handle(A, { type: 'ack', seq: 1, gossip: [] })).not.toThrow();
    expect(h.events.filter((e) => e.type === 'invalidMessage')).toHaveLength(hostile.length + 2);
    expect(h.warnings).toHaveLength(hostile.length + 2);
    expect(h.warnings[0]!.fields).toMatchObject({ from: h.ids[0] });
    expect(h.sent).toEqual([]);
  });
});

describe('join and push-pull', () => {
  it('join — sends its full state to each seed and retries with backoff until one answers', async () => {
    const h = harness(0, { reconnectIntervalMs: 60_000 });
    h.m.join([peer(1), peer(2), A]);
    expect(h.of('sync').map((s) => [s.to, s.message.reply])).toEqual([
      [peer(1), true],
      [peer(2), true],
    ]);
    expect(h.of('sync')[0]!.message.members).toEqual([rec(A, 10)]);
    h.sent.length = 0;
    await h.clock.advance(2000);
    expect(h.of('sync').length).toBeGreaterThanOrEqual(2); // retried
    h.m.handle(peer(1), { type: 'sync', reply: false, members: [rec(peer(1)), rec(peer(3), 4)] });
    expect(h.events.map((e) => e.type)).toEqual(['nodeUp', 'nodeUp']);
    h.sent.length = 0;
    await h.clock.advance(20_000);
    expect(h.of('sync')).toEqual([]); // joined: no more retries (push-pull is at 30 s)
  });

  it('join — refuses seeds that are not node ids, and joining after stop', () => {
    const h = harness(0);
    expect(code(() => h.m.join(['nope']))).toMatch(/^INVALID_ARGUMENT/);
    h.m.stop();
    expect(code(() => h.m.join([peer(1)]))).toMatch(/^NODE_STOPPED/);
  });

  it('sync — answers a request with its full state, including down members', () => {
    const h = harness(2);
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[1]!, 1, 'dead')] });
    h.sent.length = 0;
    h.m.handle(h.ids[0]!, { type: 'sync', reply: true, members: [] });
    const reply = h.of('sync')[0]!;
    expect(reply.message.reply).toBe(false);
    expect(reply.message.members.map((x) => [x.id, x.status])).toEqual([
      [A, 'alive'],
      [h.ids[0], 'alive'],
      [h.ids[1], 'dead'],
    ]);
  });

  it('sync — a dead claim that arrives by sync is taken as suspect, so the member can refute', () => {
    const h = harness(3);
    h.m.handle(h.ids[0]!, { type: 'sync', reply: false, members: [rec(h.ids[1]!, 1, 'dead')] });
    expect(h.m.member(h.ids[1]!)?.status).toBe('suspect');
    expect(h.events.map((e) => e.type)).toEqual(['suspect']);
  });

  it('sync — a change to a known member learned by sync is gossiped on; members first heard of by sync are not', async () => {
    const h = harness(2);
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[1]!, 1, 'dead')] });
    await h.clock.advance(5000); // spend the gossip queue
    h.sent.length = 0;
    h.m.handle(h.ids[0]!, { type: 'sync', reply: false, members: [rec(h.ids[1]!, 2), rec(peer(5), 1)] });
    h.m.handle(h.ids[0]!, { type: 'ping', seq: 1, target: A, gossip: [] });
    const carried = h.of('ack')[0]!.message.gossip;
    expect(carried).toContainEqual(rec(h.ids[1]!, 2));
    expect(carried.map((m) => m.id)).not.toContain(peer(5));
  });

  it('sync — a message from a member never heard of pulls its state, at most once per period', async () => {
    const h = harness(2);
    h.m.handle(peer(7), { type: 'ping', seq: 1, target: A, gossip: [] });
    h.m.handle(peer(8), { type: 'ping', seq: 2, target: A, gossip: [] });
    h.m.handle(h.ids[0]!, { type: 'ping', seq: 3, target: A, gossip: [] }); // known: no sync
    expect(h.of('sync').map((s) => [s.to, s.message.reply])).toEqual([[peer(7), true]]);
    h.m.handle(peer(9), { type: 'ping', seq: 4, target: A, gossip: [rec(peer(9))] }); // introduced itself: known
    await h.clock.advance(500);
    h.m.handle(peer(8), { type: 'ping', seq: 5, target: A, gossip: [] });
    expect(h.of('sync').map((s) => s.to)).toEqual([peer(7), peer(8)]);
  });

  it('push-pull — every pushPullIntervalMs it syncs with one member, dead ones included', async () => {
    const h = harness(1, { pushPullIntervalMs: 10_000, reconnectIntervalMs: 60_000 });
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[0]!, 1, 'dead')] });
    h.sent.length = 0;
    await h.clock.advance(10_000);
    expect(h.of('sync').map((s) => [s.to, s.message.reply])).toEqual([[h.ids[0], true]]);
  });

  it('reconnect — every reconnectIntervalMs it syncs with one dead member, and with nobody while none is dead', async () => {
    const h = harness(3, { probeIntervalMs: 100_000, pushPullIntervalMs: 60_000, reconnectIntervalMs: 1_000, jitter: 0 });
    h.sent.length = 0;
    await h.clock.advance(3_000);
    expect(h.of('sync')).toEqual([]);
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[1]!, 1, 'dead'), rec(h.ids[2]!, 1, 'dead')] });
    h.sent.length = 0;
    await h.clock.advance(4_000);
    const syncs = h.of('sync');
    expect(syncs).toHaveLength(4);
    for (const s of syncs) {
      expect([h.ids[1], h.ids[2]]).toContain(s.to);
      expect(s.message.reply).toBe(true);
    }
  });

  it('push-pull — forgets dead members after deadRetentionMs', async () => {
    const h = harness(2, { pushPullIntervalMs: 1000, deadRetentionMs: 5000 });
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[1]!, 1, 'dead')] });
    await h.clock.advance(5000);
    expect(h.m.member(h.ids[1]!)).toBeDefined();
    await h.clock.advance(1000);
    expect(h.m.member(h.ids[1]!)).toBeUndefined();
  });
});

describe('probeNow and connectionLost', () => {
  it('probeNow — probes at once; alone it suspects after the period and uses the full suspicion timeout', async () => {
    const h = harness(4);
    const target = h.ids[2]!;
    expect(h.m.probeNow(target)).toBe(true);
    expect(h.pings().map((s) => s.to)).toEqual([target]);
    await h.clock.advance(500);
    expect(h.m.member(target)?.status).toBe('suspect');
    await h.clock.advance(2999);
    expect(h.m.member(target)?.status).toBe('suspect');
    await h.clock.advance(1);
    expect(h.m.member(target)?.status).toBe('dead');
  });

  it('probeNow — refuses unknown, down and own ids, and does not double an ongoing probe', () => {
    const h = harness(2);
    expect(h.m.probeNow(peer(9))).toBe(false);
    expect(h.m.probeNow(A)).toBe(false);
    expect(h.m.probeNow(h.ids[0]!)).toBe(true);
    expect(h.m.probeNow(h.ids[0]!)).toBe(true);
    expect(h.pings()).toHaveLength(1);
  });

  it('connectionLost — a failed probe after a lost connection is dead 900 ms after the report', async () => {
    const h = harness(4);
    const target = h.ids[1]!;
    expect(h.m.connectionLost(target)).toBe(true);
    await h.clock.advance(899);
    expect(h.m.member(target)?.status).toBe('suspect');
    await h.clock.advance(1);
    expect(h.m.member(target)?.status).toBe('dead');
    expect(h.events.map((e) => e.type)).toEqual(['suspect', 'nodeDown']);
  });

  it('connectionLost — the hint does not suspect a member that answers, directly or indirectly', async () => {
    const h = harness(4, {}, true);
    const target = h.ids[1]!;
    h.m.connectionLost(target);
    await h.clock.advance(5000);
    const req = () => h.of('ping-req').filter((r) => r.message.target === target);
    expect(req()).toEqual([]); // the direct ack came back
    // Now only helpers reach it: the direct ping is lost, the indirect probe answers.
    h.silent.add(target);
    const before = h.sent.length;
    h.m.connectionLost(target);
    await h.clock.advance(200);
    expect(h.sent.slice(before).filter((s) => s.message.type === 'ping-req')).toHaveLength(3);
    for (const s of h.sent.slice(before)) {
      if (s.message.type === 'ping-req') h.m.handle(s.to, { type: 'ack', seq: s.message.seq, gossip: [] });
    }
    h.silent.delete(target); // later scheduled probes reach it directly again
    await h.clock.advance(5000);
    expect(h.events).toEqual([]);
  });

  it('connectionLost — an answered probe cancels the hint: a later failure gets the full timeout', async () => {
    const h = harness(4, {}, true);
    const target = h.ids[1]!;
    h.m.connectionLost(target);
    await h.clock.advance(1); // answered
    h.silent.add(target);
    h.m.probeNow(target); // still within the hint's 1000 ms, but the hint is gone
    await h.clock.advance(900);
    expect(h.m.member(target)?.status).toBe('suspect');
    await h.clock.advance(2600);
    expect(h.m.member(target)?.status).toBe('dead');
  });

  it('connectionLost — a message from the member (perhaps sent before the close) does not cancel the hint', async () => {
    const h = harness(4);
    const target = h.ids[1]!;
    h.m.connectionLost(target);
    h.m.handle(target, { type: 'gossip', gossip: [] });
    await h.clock.advance(900);
    expect(h.m.member(target)?.status).toBe('dead');
  });

  it('connectionLost — shortens a suspicion that is already running once a new probe fails', async () => {
    const h = harness(4);
    const target = h.ids[0]!;
    h.m.handle(h.ids[1]!, { type: 'gossip', gossip: [rec(target, 1, 'suspect')] }); // 3000 ms timer
    await h.clock.advance(100);
    h.m.connectionLost(target);
    await h.clock.advance(900);
    expect(h.m.member(target)?.status).toBe('dead');
  });
});

describe('meta, leave and stop', () => {
  it('updateMeta — raises the incarnation and gossips the new record; peers see metaChanged', async () => {
    const h = harness(2);
    h.m.updateMeta({ role: 'web' });
    expect(h.m.incarnation).toBe(11);
    expect(h.m.members()[0]).toEqual(rec(A, 11, 'alive', { role: 'web' }));
    await h.clock.advance(500);
    expect(h.pings()[0]!.message.gossip).toContainEqual(rec(A, 11, 'alive', { role: 'web' }));
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[0]!, 2, 'alive', { v: '2' })] });
    expect(h.events).toEqual([{ type: 'metaChanged', node: h.ids[0], meta: { v: '2' }, previous: {} }]);
    expect(code(() => h.m.updateMeta({ big: 'x'.repeat(2000) }))).toMatch(/^INVALID_ARGUMENT/);
  });

  it('leave — tells leaveFanout members at once with a higher incarnation, then only answers pings', async () => {
    const h = harness(12, { leaveFanout: 5 });
    h.m.leave();
    const told = h.of('gossip');
    expect(told).toHaveLength(5);
    for (const t of told) expect(t.message.gossip[0]).toEqual(rec(A, 11, 'left'));
    expect(h.m.members()[0]!.status).toBe('left');
    expect(h.m.state).toBe('left');
    h.sent.length = 0;
    await h.clock.advance(60_000);
    expect(h.sent).toEqual([]); // no probes, no push-pull
    h.m.handle(h.ids[0]!, { type: 'ping', seq: 3, target: A, gossip: [rec(A, 11, 'suspect')] });
    expect(h.m.incarnation).toBe(11); // a leaving member does not refute
    expect(h.sent.map((s) => s.message.type)).toEqual(['ack']);
    expect(h.clock.pending()).toBe(0);
    expect(code(() => h.m.updateMeta({}))).toMatch(/^NODE_STOPPED/);
  });

  it('stop — clears every timer and ignores messages from then on', async () => {
    const h = harness(4);
    await h.clock.advance(700); // a probe and ping-reqs under way
    h.m.handle(h.ids[0]!, { type: 'gossip', gossip: [rec(h.ids[1]!, 1, 'suspect')] });
    expect(h.clock.pending()).toBeGreaterThan(0);
    h.m.stop();
    expect(h.clock.pending()).toBe(0);
    h.sent.length = 0;
    h.m.handle(h.ids[0]!, { type: 'ping', seq: 1, target: A, gossip: [] });
    await h.clock.advance(10_000);
    expect(h.sent).toEqual([]);
  });

  it('members — includes self first, as frozen records', () => {
    const h = harness(2);
    const list = h.m.members();
    expect(list.map((x) => x.id)).toEqual([A, ...h.ids]);
    expect(Object.isFrozen(list[0])).toBe(true);
  });

  it('events — a listener that throws does not stop the protocol', async () => {
    const h = harness(4, {}, true);
    h.silent.add(h.ids[3]!);
    h.m.on('suspect', () => {
      throw new Error('listener bug');
    });
    h.m.probeNow(h.ids[3]!);
    await h.clock.advance(500);
    expect(h.events.map((e) => e.type)).toEqual(['suspect']);
    await h.clock.advance(3000);
    expect(h.events.map((e) => e.type)).toEqual(['suspect', 'nodeDown']);
    expect(h.events.every((e) => 'node' in e && e.node === h.ids[3])).toBe(true);
  });
});
