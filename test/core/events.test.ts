import { describe, expect, it, vi } from 'vitest';
import { Emitter } from '../../src/core/events.js';

type TestEvents = { tick: number; tock: string };

describe('Emitter', () => {
  it('on — delivers every event to the listener until unsubscribed', () => {
    const em = new Emitter<TestEvents>();
    const got: number[] = [];
    const off = em.on('tick', (n) => got.push(n));
    em.emit('tick', 1);
    em.emit('tick', 2);
    off();
    em.emit('tick', 3);
    expect(got).toEqual([1, 2]);
  });

  it('on — the unsubscribe function is idempotent and removes only its own listener', () => {
    const em = new Emitter<TestEvents>();
    const a = vi.fn();
    const b = vi.fn();
    const offA = em.on('tick', a);
    em.on('tick', b);
    offA();
    offA();
    expect(em.listenerCount('tick')).toBe(1);
    em.emit('tick', 1);
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledWith(1);
  });

  it('on — a stale unsubscribe after the type emptied does not remove a newer listener', () => {
    const em = new Emitter<TestEvents>();
    const first = vi.fn();
    const second = vi.fn();
    const off = em.on('tick', first);
    off();
    em.on('tick', second);
    off();
    em.emit('tick', 7);
    expect(second).toHaveBeenCalledWith(7);
    expect(em.listenerCount('tick')).toBe(1);
  });

  it('on — refuses a listener that is not a function', () => {
    const em = new Emitter<TestEvents>();
    expect(() => em.on('tick', 'nope' as unknown as () => void)).toThrow(TypeError);
  });

  it('emit — runs listeners in subscription order, only for their type', () => {
    const em = new Emitter<TestEvents>();
    const order: string[] = [];
    em.on('tick', () => order.push('a'));
    em.on('tock', () => order.push('tock'));
    em.on('tick', () => order.push('b'));
    em.on('tick', () => order.push('c'));
    em.emit('tick', 0);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('emit — with no listeners does nothing', () => {
    const em = new Emitter<TestEvents>();
    expect(() => em.emit('tick', 1)).not.toThrow();
  });

  it('once — fires for the next event only', () => {
    const em = new Emitter<TestEvents>();
    const fn = vi.fn();
    em.once('tick', fn);
    em.emit('tick', 1);
    em.emit('tick', 2);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(1);
    expect(em.listenerCount('tick')).toBe(0);
  });

  it('once — can be unsubscribed before it fires', () => {
    const em = new Emitter<TestEvents>();
    const fn = vi.fn();
    const off = em.once('tick', fn);
    off();
    em.emit('tick', 1);
    expect(fn).not.toHaveBeenCalled();
  });

  it('once — fires only once even when an earlier listener re-emits the same type', () => {
    const em = new Emitter<TestEvents>();
    const fn = vi.fn();
    let reentered = false;
    em.on('tick', (n) => {
      if (!reentered) {
        reentered = true;
        em.emit('tick', n + 100);
      }
    });
    em.once('tick', fn);
    em.emit('tick', 1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(101);
  });

  it('emit — a listener unsubscribed by an earlier one during an emit is not called', () => {
    const em = new Emitter<TestEvents>();
    const b = vi.fn();
    let offB = () => {};
    em.on('tick', () => offB());
    offB = em.on('tick', b);
    em.emit('tick', 1);
    expect(b).not.toHaveBeenCalled();
  });

  it('emit — a throwing listener goes to onError and the others still run', () => {
    const onError = vi.fn();
    const em = new Emitter<TestEvents>(onError);
    const boom = new Error('boom');
    const after = vi.fn();
    em.on('tick', () => {
      throw boom;
    });
    em.on('tick', after);
    expect(() => em.emit('tick', 5)).not.toThrow();
    expect(onError).toHaveBeenCalledWith(boom, 'tick');
    expect(after).toHaveBeenCalledWith(5);
  });

  it('emit — without onError a throwing listener is swallowed', () => {
    const em = new Emitter<TestEvents>();
    const after = vi.fn();
    em.on('tick', () => {
      throw new Error('x');
    });
    em.on('tick', after);
    expect(() => em.emit('tick', 1)).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('emit — a listener added during an emit sees the next event, not the current one', () => {
    const em = new Emitter<TestEvents>();
    const late = vi.fn();
    let added = false;
    em.on('tick', () => {
      if (!added) {
        added = true;
        em.on('tick', late);
      }
    });
    em.emit('tick', 1);
    expect(late).not.toHaveBeenCalled();
    em.emit('tick', 2);
    expect(late).toHaveBeenCalledTimes(1);
    expect(late).toHaveBeenCalledWith(2);
  });

  it('on — the same function subscribed twice is called twice and removed independently', () => {
    const em = new Emitter<TestEvents>();
    const fn = vi.fn();
    const off1 = em.on('tick', fn);
    em.on('tick', fn);
    em.emit('tick', 1);
    expect(fn).toHaveBeenCalledTimes(2);
    off1();
    em.emit('tick', 2);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(em.listenerCount('tick')).toBe(1);
  });

  it('listenerCount — counts per type and in total; clear removes all', () => {
    const em = new Emitter<TestEvents>();
    expect(em.listenerCount()).toBe(0);
    em.on('tick', () => {});
    em.on('tick', () => {});
    const off = em.on('tock', () => {});
    expect(em.listenerCount('tick')).toBe(2);
    expect(em.listenerCount('tock')).toBe(1);
    expect(em.listenerCount()).toBe(3);
    off();
    expect(em.listenerCount('tock')).toBe(0);
    expect(em.listenerCount()).toBe(2);
    em.clear();
    expect(em.listenerCount()).toBe(0);
  });
});
