import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import {
  CIRCUIT_BREAKER_DEFAULTS,
  CIRCUIT_STATE,
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitChange,
} from '../../../src/services/balancer/breaker.js';
import { thrown } from '../../helpers/errors.js';

/** A breaker on a manual clock, with every change it emits recorded. */
function setup(options: Omit<CircuitBreakerOptions, 'clock'> = {}) {
  const clock = new ManualClock({ start: 1_000 });
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1_000, ...options, clock });
  const changes: CircuitChange[] = [];
  breaker.onChange((c) => changes.push(c));
  const transitions = () => changes.map((c) => `${c.from}>${c.to}`);
  const fail = (n: number) => {
    for (let i = 0; i < n; i++) breaker.failure();
  };
  return { clock, breaker, changes, transitions, fail };
}

describe('CircuitBreaker closed', () => {
  it('breaker — starts closed and allows every call', () => {
    const { breaker, changes } = setup();
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 10; i++) expect(breaker.allow()).toBe(true);
    expect(breaker.consecutiveFailures).toBe(0);
    expect(breaker.openedAt).toBeUndefined();
    expect(breaker.retryAt).toBeUndefined();
    expect(changes).toEqual([]);
  });

  it('breaker — opens after exactly failureThreshold consecutive failures', () => {
    for (const threshold of [1, 2, 3, 7]) {
      const { breaker, fail, transitions } = setup({ failureThreshold: threshold });
      fail(threshold - 1);
      expect(breaker.state).toBe('closed');
      expect(breaker.allow()).toBe(true);
      expect(breaker.consecutiveFailures).toBe(threshold - 1);
      fail(1);
      expect(breaker.state).toBe('open');
      expect(breaker.allow()).toBe(false);
      expect(transitions()).toEqual(['closed>open']);
    }
  });

  it('breaker — a success in between resets the count', () => {
    const { breaker, fail } = setup();
    fail(2);
    breaker.success();
    expect(breaker.consecutiveFailures).toBe(0);
    fail(2);
    expect(breaker.state).toBe('closed');
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('breaker — a release while closed changes nothing', () => {
    const { breaker, fail, changes } = setup();
    fail(2);
    breaker.release();
    expect(breaker.consecutiveFailures).toBe(2);
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual([]);
  });

  it('breaker — defaults are 5 failures and a 10 s cool-down', async () => {
    expect(CIRCUIT_BREAKER_DEFAULTS).toMatchObject({ failureThreshold: 5, cooldownMs: 10_000 });
    expect(Object.isFrozen(CIRCUIT_BREAKER_DEFAULTS)).toBe(true);
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ clock });
    for (let i = 0; i < 4; i++) breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    await clock.advance(9_999);
    expect(breaker.allow()).toBe(false);
    await clock.advance(1);
    expect(breaker.allow()).toBe(true);
  });
});

describe('CircuitBreaker open and half-open', () => {
  it('breaker — open refuses every call until the cool-down has passed, then is half-open', async () => {
    const { clock, breaker, fail, changes } = setup();
    fail(3);
    expect(breaker.openedAt).toBe(1_000);
    expect(breaker.retryAt).toBe(2_000);
    for (const step of [0, 500, 499]) {
      await clock.advance(step);
      expect(breaker.allow()).toBe(false);
      expect(breaker.state).toBe('open');
    }
    await clock.advance(1); // now 2000 = retryAt
    expect(breaker.state).toBe('half-open');
    expect(changes.at(-1)).toEqual({ type: 'change', from: 'open', to: 'half-open', at: 2_000, consecutiveFailures: 3 });
  });

  it('breaker — the half-open change carries the end of the cool-down even when noticed later', async () => {
    const { clock, breaker, fail, changes } = setup();
    fail(3);
    await clock.advance(5_000);
    expect(breaker.allow()).toBe(true);
    expect(changes.at(-1)).toMatchObject({ from: 'open', to: 'half-open', at: 2_000 });
  });

  it('breaker — half-open lets exactly one probe through at a time', async () => {
    const { clock, breaker, fail } = setup();
    fail(3);
    await clock.advance(1_000);
    expect(breaker.probing).toBe(false);
    expect(breaker.allow()).toBe(true);
    expect(breaker.probing).toBe(true);
    for (let i = 0; i < 5; i++) expect(breaker.allow()).toBe(false);
    await clock.advance(60_000); // time alone does not free the probe
    expect(breaker.allow()).toBe(false);
    expect(breaker.state).toBe('half-open');
  });

  it('breaker — a released probe lets the next one through, without a change of state', async () => {
    const { clock, breaker, fail, transitions } = setup();
    fail(3);
    await clock.advance(1_000);
    expect(breaker.allow()).toBe(true);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false);
    expect(transitions()).toEqual(['closed>open', 'open>half-open']);
  });

  it('breaker — a successful probe closes it and resets the count', async () => {
    const { clock, breaker, fail, changes, transitions } = setup();
    fail(3);
    await clock.advance(1_500);
    expect(breaker.allow()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
    expect(breaker.openedAt).toBeUndefined();
    expect(breaker.retryAt).toBeUndefined();
    expect(breaker.probing).toBe(false);
    for (let i = 0; i < 5; i++) expect(breaker.allow()).toBe(true);
    expect(transitions()).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
    expect(changes.at(-1)).toEqual({ type: 'change', from: 'half-open', to: 'closed', at: 2_500, consecutiveFailures: 0 });
    // and it takes a full threshold of failures to open again
    fail(2);
    expect(breaker.state).toBe('closed');
    fail(1);
    expect(breaker.state).toBe('open');
  });

  it('breaker — a failed probe re-opens it for a full cool-down from the failure', async () => {
    const { clock, breaker, fail, changes, transitions } = setup();
    fail(3);
    await clock.advance(1_200); // half-open since 2000; the probe fails at 2200
    expect(breaker.allow()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.openedAt).toBe(2_200);
    expect(breaker.retryAt).toBe(3_200);
    expect(breaker.consecutiveFailures).toBe(4);
    expect(changes.at(-1)).toEqual({ type: 'change', from: 'half-open', to: 'open', at: 2_200, consecutiveFailures: 4 });
    await clock.advance(999);
    expect(breaker.allow()).toBe(false);
    await clock.advance(1);
    expect(breaker.allow()).toBe(true);
    expect(transitions()).toEqual(['closed>open', 'open>half-open', 'half-open>open', 'open>half-open']);
  });

  it('breaker — verdicts that arrive while open neither close it nor extend the cool-down', async () => {
    const { clock, breaker, fail, changes } = setup();
    fail(3);
    await clock.advance(300);
    breaker.success(); // a call let through before it opened, answering late
    breaker.failure();
    breaker.release();
    expect(breaker.state).toBe('open');
    expect(breaker.consecutiveFailures).toBe(3);
    expect(breaker.retryAt).toBe(2_000);
    expect(changes).toHaveLength(1);
    await clock.advance(700);
    expect(breaker.allow()).toBe(true);
  });

  it('breaker — a zero cool-down goes half-open at the next look', () => {
    const { breaker, fail, transitions } = setup({ cooldownMs: 0 });
    fail(3);
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false);
    expect(transitions()).toEqual(['closed>open', 'open>half-open']);
  });
});

describe('CircuitBreaker events', () => {
  it('breaker — fires one event per transition, never for repeated reads or calls', async () => {
    const { clock, breaker, fail, transitions } = setup();
    fail(5); // failures 4 and 5 come while open
    for (let i = 0; i < 3; i++) void breaker.state;
    await clock.advance(1_000);
    for (let i = 0; i < 3; i++) {
      void breaker.state;
      breaker.allow();
    }
    breaker.success();
    breaker.success();
    expect(transitions()).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('breaker — a listener sees the new state; unsubscribing stops its events', async () => {
    const { clock, breaker, fail } = setup();
    const seen: string[] = [];
    const off = breaker.onChange((c) => seen.push(`${c.to}:${breaker.state}`));
    fail(3);
    expect(seen).toEqual(['open:open']);
    off();
    off(); // twice is harmless
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(seen).toEqual(['open:open']);
  });

  it('breaker — a throwing listener is logged and stops neither the breaker nor other listeners', () => {
    const warn = vi.fn();
    const logger = { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() };
    const breaker = new CircuitBreaker({ failureThreshold: 1, clock: new ManualClock(), logger });
    const after = vi.fn();
    breaker.onChange(() => {
      throw new Error('listener bug');
    });
    breaker.onChange(after);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(after).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('circuit breaker listener threw', { error: 'Error: listener bug' });
  });

  it('CIRCUIT_STATE — names the three states and is frozen', () => {
    expect(Object.values(CIRCUIT_STATE)).toEqual(['closed', 'open', 'half-open']);
    expect(Object.isFrozen(CIRCUIT_STATE)).toBe(true);
  });
});

describe('CircuitBreaker options', () => {
  it.each<[string, unknown, RegExp]>([
    ['failureThreshold 0', { failureThreshold: 0 }, /failureThreshold 0: expected an integer >= 1/],
    ['failureThreshold 2.5', { failureThreshold: 2.5 }, /failureThreshold 2.5/],
    ['failureThreshold Infinity', { failureThreshold: Infinity }, /failureThreshold Infinity/],
    ['failureThreshold "5"', { failureThreshold: '5' }, /failureThreshold "5"/],
    ['negative cooldownMs', { cooldownMs: -1 }, /cooldownMs -1: expected a finite number of milliseconds >= 0/],
    ['NaN cooldownMs', { cooldownMs: Number.NaN }, /cooldownMs NaN/],
    ['infinite cooldownMs', { cooldownMs: Infinity }, /cooldownMs Infinity/],
    ['a clock without now', { clock: {} }, /clock an object: expected a Clock/],
    ['a logger without warn', { logger: { info: () => {} } }, /logger an object: expected a Logger/],
    ['a misspelt option', { threshold: 3 }, /unknown circuit breaker option 'threshold'; known options: failureThreshold, cooldownMs/],
    ['null', null, /options must be an object, got null/],
  ])('breaker — refuses %s with INVALID_OPTION', (_label, options, message) => {
    const e = thrown(() => new CircuitBreaker(options as CircuitBreakerOptions));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(message);
  });
});
