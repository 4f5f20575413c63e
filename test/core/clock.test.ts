import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, TimerSet, flushMicrotasks, sleep, systemClock } from '../../src/core/clock.js';

describe('ManualClock', () => {
  it('ManualClock — starts at the given time and moves only on advance', async () => {
    const clock = new ManualClock({ start: 50, wallStart: 1_000_000 });
    expect(clock.now()).toBe(50);
    expect(clock.wallTime()).toBe(1_000_000);
    await clock.advance(25);
    expect(clock.now()).toBe(75);
    expect(clock.wallTime()).toBe(1_000_025);
  });

  it('ManualClock — runs timers in deadline order, ties in creation order', async () => {
    const clock = new ManualClock();
    const order: string[] = [];
    clock.setTimeout(() => order.push('c@30'), 30);
    clock.setTimeout(() => order.push('a@10'), 10);
    clock.setTimeout(() => order.push('b@20'), 20);
    clock.setTimeout(() => order.push('a2@10'), 10);
    clock.setTimeout(() => order.push('a3@10'), 10);
    await clock.advance(30);
    expect(order).toEqual(['a@10', 'a2@10', 'a3@10', 'b@20', 'c@30']);
  });

  it('ManualClock — a timer sees now() equal to its deadline; later ones wait', async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 10);
    clock.setTimeout(() => seen.push(clock.now()), 31);
    await clock.advance(30);
    expect(seen).toEqual([10]);
    expect(clock.now()).toBe(30);
    await clock.advance(1);
    expect(seen).toEqual([10, 31]);
  });

  it('ManualClock — a zero, negative or NaN delay runs on the next advance, even advance(0)', async () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    clock.setTimeout(() => ran.push('zero'), 0);
    clock.setTimeout(() => ran.push('negative'), -5);
    clock.setTimeout(() => ran.push('nan'), Number.NaN);
    expect(ran).toEqual([]);
    await clock.advance(0);
    expect(ran).toEqual(['zero', 'negative', 'nan']);
    expect(clock.now()).toBe(0);
  });

  it('ManualClock — intervals repeat at their period', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const t = clock.setInterval(() => at.push(clock.now()), 10);
    await clock.advance(35);
    expect(at).toEqual([10, 20, 30]);
    await clock.advance(5);
    expect(at).toEqual([10, 20, 30, 40]);
    t.cancel();
    await clock.advance(100);
    expect(at).toHaveLength(4);
    expect(clock.pending()).toBe(0);
  });

  it('ManualClock — a NaN or zero interval period cannot spin advance forever', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const t = clock.setInterval(() => {
      calls++;
      if (calls > 1000) t.cancel(); // keep a regression from hanging the run
    }, Number.NaN);
    let zero = 0;
    clock.setInterval(() => zero++, 0);
    await clock.advance(5);
    expect(calls).toBe(5);
    expect(zero).toBe(5);
  });

  it('ManualClock — cancel stops a timer; cancelling twice or after it ran is harmless', async () => {
    const clock = new ManualClock();
    const fn = vi.fn();
    const t = clock.setTimeout(fn, 10);
    const ran = vi.fn();
    const done = clock.setTimeout(ran, 1);
    await clock.advance(1);
    expect(ran).toHaveBeenCalledTimes(1);
    done.cancel();
    t.cancel();
    t.cancel();
    await clock.advance(100);
    expect(fn).not.toHaveBeenCalled();
    expect(clock.pending()).toBe(0);
  });

  it('ManualClock — a callback can cancel a later timer due in the same advance', async () => {
    const clock = new ManualClock();
    const later = vi.fn();
    const sameInstant = vi.fn();
    let laterTimer = { cancel: () => {} };
    let tieTimer = { cancel: () => {} };
    clock.setTimeout(() => {
      laterTimer.cancel();
      tieTimer.cancel();
    }, 10);
    tieTimer = clock.setTimeout(sameInstant, 10);
    laterTimer = clock.setTimeout(later, 20);
    await clock.advance(50);
    expect(sameInstant).not.toHaveBeenCalled();
    expect(later).not.toHaveBeenCalled();
  });

  it('ManualClock — an interval can cancel itself from its own callback', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const t = clock.setInterval(() => {
      calls++;
      if (calls === 2) t.cancel();
    }, 10);
    await clock.advance(100);
    expect(calls).toBe(2);
    expect(clock.pending()).toBe(0);
  });

  it('ManualClock — a timer scheduled from a timer runs in the same advance if due', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    clock.setTimeout(() => {
      clock.setTimeout(() => at.push(clock.now()), 5);
    }, 10);
    await clock.advance(20);
    expect(at).toEqual([15]);
  });

  it('ManualClock — advance settles promise chains between timers', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(async () => {
          await null;
          clock.setTimeout(() => at.push(clock.now()), 5);
        });
    }, 10);
    // due before the promise-scheduled one, so it proves ordering is by deadline across both
    clock.setTimeout(() => at.push(clock.now()), 12);
    await clock.advance(20);
    expect(at).toEqual([12, 15]);
  });

  it('ManualClock — advance settles promises started before it, so their timers count', async () => {
    const clock = new ManualClock();
    const fired = vi.fn();
    void (async () => {
      await null;
      await null;
      clock.setTimeout(fired, 10);
    })();
    await clock.advance(10);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('ManualClock — pending() and nextDue() describe what is scheduled', async () => {
    const clock = new ManualClock();
    expect(clock.pending()).toBe(0);
    expect(clock.nextDue()).toBeUndefined();
    const a = clock.setTimeout(() => {}, 30);
    clock.setTimeout(() => {}, 20);
    clock.setInterval(() => {}, 25);
    expect(clock.pending()).toBe(3);
    expect(clock.nextDue()).toBe(20);
    a.cancel();
    expect(clock.pending()).toBe(2);
    await clock.advance(20);
    expect(clock.pending()).toBe(1); // only the interval remains
    expect(clock.nextDue()).toBe(25);
    await clock.advance(5);
    expect(clock.nextDue()).toBe(50);
  });

  it('ManualClock — runNext jumps to the next deadline and runs what is due then', async () => {
    const clock = new ManualClock();
    const ran: string[] = [];
    clock.setTimeout(() => ran.push('a'), 40);
    clock.setTimeout(() => ran.push('b'), 40);
    clock.setTimeout(() => ran.push('c'), 70);
    expect(await clock.runNext()).toBe(true);
    expect(ran).toEqual(['a', 'b']);
    expect(clock.now()).toBe(40);
    expect(await clock.runNext()).toBe(true);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(70);
    expect(await clock.runNext()).toBe(false);
    expect(clock.now()).toBe(70);
  });

  it('ManualClock — a timer that can never fall due is pending but runNext says no', async () => {
    const clock = new ManualClock();
    const fn = vi.fn();
    clock.setTimeout(fn, Infinity);
    expect(clock.pending()).toBe(1);
    expect(await clock.runNext()).toBe(false);
    await clock.advance(1e12);
    expect(fn).not.toHaveBeenCalled();
  });

  it('ManualClock — advance refuses negative, NaN and infinite steps', async () => {
    const clock = new ManualClock();
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
    await expect(clock.advance(Infinity)).rejects.toThrow(RangeError);
    expect(clock.now()).toBe(0);
  });
});

describe('TimerSet', () => {
  it('TimerSet — size tracks live timers; a fired timeout leaves the set', async () => {
    const clock = new ManualClock();
    const set = new TimerSet(clock);
    set.setTimeout(() => {}, 10);
    const b = set.setTimeout(() => {}, 20);
    set.setInterval(() => {}, 5);
    expect(set.size).toBe(3);
    await clock.advance(10);
    expect(set.size).toBe(2);
    b.cancel();
    b.cancel();
    expect(set.size).toBe(1);
  });

  it('TimerSet — clear cancels every timer, intervals included', async () => {
    const clock = new ManualClock();
    const set = new TimerSet(clock);
    const fn = vi.fn();
    set.setTimeout(fn, 10);
    set.setTimeout(fn, 20);
    set.setInterval(fn, 5);
    set.clear();
    expect(set.size).toBe(0);
    expect(clock.pending()).toBe(0);
    await clock.advance(100);
    expect(fn).not.toHaveBeenCalled();
  });

  it('TimerSet — a timer can clear the set from its callback', async () => {
    const clock = new ManualClock();
    const set = new TimerSet(clock);
    const later = vi.fn();
    set.setTimeout(() => set.clear(), 10);
    set.setInterval(later, 15);
    await clock.advance(100);
    expect(later).not.toHaveBeenCalled();
    expect(set.size).toBe(0);
  });
});

describe('sleep', () => {
  it('sleep — resolves once the clock reaches the deadline, not before', async () => {
    const clock = new ManualClock();
    let done = false;
    const p = sleep(clock, 100).then(() => {
      done = true;
    });
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
    await p;
  });

  it('sleep — rejects with the abort reason and cancels its timer', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const p = sleep(clock, 100, ac.signal);
    expect(clock.pending()).toBe(1);
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(clock.pending()).toBe(0);
  });

  it('sleep — an already aborted signal rejects at once and schedules nothing', async () => {
    const clock = new ManualClock();
    const reason = new Error('already');
    await expect(sleep(clock, 100, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(clock.pending()).toBe(0);
  });

  it('sleep — aborting after it resolved changes nothing', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const p = sleep(clock, 10, ac.signal);
    await clock.advance(10);
    await expect(p).resolves.toBeUndefined();
    ac.abort(new Error('late'));
    await flushMicrotasks();
  });
});

describe('flushMicrotasks', () => {
  it('flushMicrotasks — lets a chain of promise callbacks finish', async () => {
    let steps = 0;
    void (async () => {
      for (let i = 0; i < 10; i++) {
        await null;
        steps++;
      }
    })();
    await flushMicrotasks();
    expect(steps).toBe(10);
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const refTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('systemClock — its timers do not keep the event loop alive (unref)', () => {
    const before = refTimeouts();
    // control: a plain timer is listed, so the check below can fail
    const plain = setTimeout(() => {}, 60_000);
    expect(refTimeouts()).toBe(before + 1);
    clearTimeout(plain);
    const t = systemClock.setTimeout(() => {}, 60_000);
    const i = systemClock.setInterval(() => {}, 60_000);
    const long = systemClock.setTimeout(() => {}, Infinity);
    try {
      expect(refTimeouts()).toBe(before);
    } finally {
      t.cancel();
      i.cancel();
      long.cancel();
    }
  });

  it('systemClock — handles come from Node timers and are unref()ed', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const t = systemClock.setTimeout(() => {}, 60_000);
    try {
      const handle = spy.mock.results[0]?.value as NodeJS.Timeout;
      expect(handle.hasRef()).toBe(false);
    } finally {
      t.cancel();
      spy.mockRestore();
    }
  });

  it('systemClock — a timeout fires after its delay and cancel stops it', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancelled = vi.fn();
    systemClock.setTimeout(fired, 100);
    const t = systemClock.setTimeout(cancelled, 100);
    t.cancel();
    vi.advanceTimersByTime(99);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('systemClock — an interval repeats until cancelled', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = systemClock.setInterval(fn, 10);
    vi.advanceTimersByTime(35);
    expect(fn).toHaveBeenCalledTimes(3);
    t.cancel();
    vi.advanceTimersByTime(100);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('systemClock — a delay beyond 2^31-1 ms does not fire early; Infinity never fires', () => {
    vi.useFakeTimers();
    const long = vi.fn();
    const never = vi.fn();
    const longInterval = vi.fn();
    systemClock.setTimeout(long, 2 ** 32);
    systemClock.setTimeout(never, Infinity);
    const i = systemClock.setInterval(longInterval, 2 ** 32);
    vi.advanceTimersByTime(1000);
    expect(long).not.toHaveBeenCalled();
    expect(never).not.toHaveBeenCalled();
    expect(longInterval).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2 ** 32 - 1001);
    expect(long).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(long).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(2 ** 40);
    expect(never).not.toHaveBeenCalled();
    i.cancel();
  });

  it('systemClock — a long timeout can still be cancelled after re-arming', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = systemClock.setTimeout(fn, 2 ** 32);
    vi.advanceTimersByTime(2 ** 31); // past the first arming
    t.cancel();
    vi.advanceTimersByTime(2 ** 33);
    expect(fn).not.toHaveBeenCalled();
  });

  it('systemClock — now() is monotonic and wallTime() is epoch milliseconds', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(systemClock.wallTime() - Date.now())).toBeLessThan(1000);
    expect(Object.isFrozen(systemClock)).toBe(true);
  });
});
