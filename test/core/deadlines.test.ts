import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock, type Clock } from '../../src/core/clock.js';
import { Deadline, Deadlines } from '../../src/core/deadlines.js';
import { thrown } from '../helpers/errors.js';

describe('deadlines', () => {
  it('deadlines — fire at their time, never early, in order of time then of adding', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    d.add(100, () => fired.push('a100'));
    d.add(50, () => fired.push('b50'));
    d.add(100, () => fired.push('c100'));
    await clock.advance(49);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual(['b50']);
    await clock.advance(49);
    expect(fired).toEqual(['b50']);
    await clock.advance(1);
    expect(fired).toEqual(['b50', 'a100', 'c100']);
    expect(d.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('deadlines — a subclass started with start() expires once, in order with the others, never after cancel, and cannot be started twice', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    class Request extends Deadline {
      constructor(readonly name: string) {
        super();
      }
      protected override expire(): void {
        fired.push(this.name);
      }
    }
    const a = d.start(20, new Request('a'));
    d.add(20, () => fired.push('fn'));
    const b = d.start(20, new Request('b'));
    const c = d.start(10, new Request('c'));
    expect([a.pending, b.pending, c.pending, d.size]).toEqual([true, true, true, 4]);
    b.cancel();
    expect(b.pending).toBe(false);
    expect(thrown(() => d.start(5, b)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => d.start(5, a)).code).toBe('INVALID_ARGUMENT');
    await clock.advance(10);
    expect(fired).toEqual(['c']);
    expect(c.pending).toBe(false);
    await clock.advance(10);
    expect(fired).toEqual(['c', 'a', 'fn']);
    a.cancel();
    await clock.advance(100);
    expect(fired).toEqual(['c', 'a', 'fn']);
    expect(d.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('deadlines — a fractional time rounds up to the next millisecond', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    let fired = false;
    d.add(10.2, () => (fired = true));
    await clock.advance(10.2);
    expect(fired).toBe(false);
    await clock.advance(0.8);
    expect(fired).toBe(true);
  });

  it('deadlines — cancel withdraws one; cancelling every one leaves no timer armed', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const fired: number[] = [];
    const handles = [10, 20, 30].map((ms) => d.add(ms, () => fired.push(ms)));
    handles[1]!.cancel();
    handles[1]!.cancel();
    await clock.advance(30);
    expect(fired).toEqual([10, 30]);
    const more = [5, 6].map((ms) => d.add(ms, () => fired.push(ms)));
    for (const h of more) h.cancel();
    expect(d.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('deadlines — one cancelled by another of the same bucket while it fires does not run, and the count stays exact', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    const later: { cancel(): void }[] = [];
    d.add(10, () => {
      fired.push('first');
      later[0]?.cancel();
    });
    later.push(d.add(10, () => fired.push('second')));
    d.add(20, () => fired.push('third'));
    await clock.advance(10);
    expect(fired).toEqual(['first']);
    expect(d.size).toBe(1);
    await clock.advance(10);
    expect(fired).toEqual(['first', 'third']);
    expect(d.size).toBe(0);
  });

  it('deadlines — a deadline added while others fire is kept, also when already due', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    d.add(10, () => {
      fired.push('a');
      d.add(0, () => fired.push('now'));
      d.add(5, () => fired.push('later'));
    });
    await clock.advance(10);
    await clock.advance(0);
    expect(fired).toEqual(['a', 'now']);
    await clock.advance(5);
    expect(fired).toEqual(['a', 'now', 'later']);
  });

  it('deadlines — one after another, each cancelled before the next: one timer for them all, and it holds the process only while one is pending', async () => {
    const manual = new ManualClock();
    let armed = 0;
    const holding = new Set<object>();
    // The manual clock with timers that can switch whether they keep the process alive, as real ones do.
    const clock: Clock = {
      now: () => manual.now(),
      wallTime: () => manual.wallTime(),
      setInterval: (fn, ms) => manual.setInterval(fn, ms),
      setTimeout(fn, ms, options) {
        armed++;
        const inner = manual.setTimeout(() => {
          holding.delete(timer);
          fn();
        }, ms);
        const timer = {
          cancel: () => {
            holding.delete(timer);
            inner.cancel();
          },
          keepAlive: (on: boolean) => void (on ? holding.add(timer) : holding.delete(timer)),
        };
        if (options?.keepAlive === true) holding.add(timer);
        return timer;
      },
    };
    const d = new Deadlines(clock, { keepAlive: true });
    let fired = 0;
    for (let i = 0; i < 1_000; i++) {
      const deadline = d.add(5_000, () => fired++);
      expect(holding.size).toBe(1);
      await manual.advance(1);
      deadline.cancel();
      expect(holding.size).toBe(0);
    }
    // The calls of 5 s: a timer per 5 s (when the armed one comes due, finds nothing, and the next call re-arms).
    expect(armed).toBe(1);
    await manual.advance(5_000);
    expect(fired).toBe(0);
    expect(manual.pending()).toBe(0);
    // A deadline earlier than the armed timer still re-arms, and fires on time.
    d.add(10_000, () => fired++);
    d.add(10, () => fired++);
    await manual.advance(10);
    expect(fired).toBe(1);
  });

  it('deadlines — clear cancels everything', async () => {
    const clock = new ManualClock();
    const d = new Deadlines(clock);
    let fired = 0;
    for (let i = 0; i < 10; i++) d.add(i * 3, () => fired++);
    d.clear();
    await clock.advance(100);
    expect(fired).toBe(0);
    expect(d.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('deadlines — random adds, cancels and advances: each fires once, at or after its time and within 1 ms, unless cancelled', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.double({ min: 0, max: 50, noNaN: true }), cancelAfter: fc.option(fc.integer({ min: 0, max: 60 })) }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 30 }),
        async (items, steps) => {
          const clock = new ManualClock();
          const d = new Deadlines(clock);
          const firedAt = new Map<number, number>();
          const handles = items.map((item, i) => d.add(item.ms, () => {
            expect(firedAt.has(i)).toBe(false);
            firedAt.set(i, clock.now());
          }));
          let t = 0;
          const cancelled = new Set<number>();
          for (const step of [...steps, 100]) {
            for (const [i, item] of items.entries()) {
              if (item.cancelAfter !== null && item.cancelAfter <= t && !firedAt.has(i) && !cancelled.has(i)) {
                handles[i]!.cancel();
                cancelled.add(i);
              }
            }
            await clock.advance(step);
            t += step;
          }
          for (const [i, item] of items.entries()) {
            if (cancelled.has(i)) expect(firedAt.has(i)).toBe(false);
            else {
              const at = firedAt.get(i);
              expect(at).toBeDefined();
              expect(at!).toBeGreaterThanOrEqual(item.ms);
              expect(at! - item.ms).toBeLessThanOrEqual(1 + 1e-9 + Math.max(...steps, 100));
            }
          }
          expect(d.size).toBe(0);
          expect(clock.pending()).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
