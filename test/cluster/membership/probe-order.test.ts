import { describe, expect, it } from 'vitest';
import { ProbeOrder } from '../../../src/cluster/membership/probe-order.js';
import { Suspicions } from '../../../src/cluster/membership/suspicion.js';
import { ManualClock, TimerSet } from '../../../src/core/clock.js';
import { mulberry32 } from '../../helpers/prng.js';

const all = () => true;

describe('probe order — shuffled round-robin', () => {
  it('probe order — each round visits every member exactly once, in a new order each round', () => {
    const order = new ProbeOrder(mulberry32(1));
    const ids = Array.from({ length: 8 }, (_, i) => `m${i}`);
    for (const id of ids) order.add(id);
    const rounds = Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => order.next(all)!));
    for (const round of rounds) expect([...round].sort()).toEqual(ids);
    expect(new Set(rounds.map((r) => r.join())).size).toBeGreaterThan(1);
  });

  it('probe order — two probes of a member are at most 2n - 1 picks apart', () => {
    const n = 12;
    const order = new ProbeOrder(mulberry32(7));
    for (let i = 0; i < n; i++) order.add(`m${i}`);
    const last = new Map<string, number>();
    let worst = 0;
    for (let pick = 0; pick < 500; pick++) {
      const id = order.next(all)!;
      if (last.has(id)) worst = Math.max(worst, pick - last.get(id)!);
      last.set(id, pick);
    }
    expect(worst).toBeLessThanOrEqual(2 * n - 1);
  });

  it('probe order — a member added mid-round is probed within the current round', () => {
    const order = new ProbeOrder(mulberry32(3));
    for (let i = 0; i < 5; i++) order.add(`m${i}`);
    order.next(all);
    order.next(all);
    order.add('new');
    const rest = Array.from({ length: 4 }, () => order.next(all));
    expect(rest).toContain('new');
  });

  it('probe order — skips ineligible members, returns undefined when none is eligible, and forgets removed ones', () => {
    const order = new ProbeOrder(mulberry32(5));
    for (const id of ['a', 'b', 'c']) order.add(id);
    const picks = Array.from({ length: 6 }, () => order.next((id) => id !== 'b'));
    expect(picks).not.toContain('b');
    expect(order.next(() => false)).toBeUndefined();
    order.remove('a');
    expect(order.size).toBe(2);
    expect(Array.from({ length: 6 }, () => order.next(all))).not.toContain('a');
  });
});

describe('suspicions — timers', () => {
  function setup() {
    const clock = new ManualClock();
    const expired: [string, number][] = [];
    const s = new Suspicions(clock, new TimerSet(clock), (id, inc) => expired.push([id, inc]));
    return { clock, expired, s };
  }

  it('suspicions — expire after their time, once', async () => {
    const { clock, expired, s } = setup();
    s.start('a', 1, 1000);
    await clock.advance(999);
    expect(expired).toEqual([]);
    await clock.advance(5000);
    expect(expired).toEqual([['a', 1]]);
  });

  it('suspicions — can be shortened but never lengthened for the same incarnation', async () => {
    const { clock, expired, s } = setup();
    s.start('a', 1, 1000);
    s.start('a', 1, 5000); // ignored
    await clock.advance(1000);
    expect(expired).toEqual([['a', 1]]);
    s.start('b', 1, 3000);
    await clock.advance(100);
    s.start('b', 1, 400); // shortened: 500 ms after the first start
    await clock.advance(400);
    expect(expired).toEqual([['a', 1], ['b', 1]]);
  });

  it('suspicions — a new incarnation replaces the timer; cancel and clear stop them', async () => {
    const { clock, expired, s } = setup();
    s.start('a', 1, 1000);
    s.start('a', 2, 3000);
    s.start('b', 1, 1000);
    s.cancel('b');
    s.start('c', 1, 1000);
    s.clear();
    s.start('d', 1, 2000);
    await clock.advance(10_000);
    expect(expired).toEqual([['d', 1]]);
    expect(clock.pending()).toBe(0);
  });
});
