import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { RestartIntensity } from '../../src/process/restart-intensity.js';

describe('RestartIntensity', () => {
  it('RestartIntensity — allows maxRestarts restarts within the window and refuses one more', () => {
    const clock = new ManualClock();
    const intensity = new RestartIntensity(3, 1000, clock);
    expect([intensity.record(), intensity.record(), intensity.record()]).toEqual([true, true, true]);
    expect(intensity.recent).toBe(3);
    expect(intensity.record()).toBe(false);
  });

  it('RestartIntensity — maxRestarts 0 refuses the first restart', () => {
    const intensity = new RestartIntensity(0, 1000, new ManualClock());
    expect(intensity.record()).toBe(false);
  });

  it('RestartIntensity — exposes its limits', () => {
    const intensity = new RestartIntensity(2, 750, new ManualClock());
    expect(intensity.maxRestarts).toBe(2);
    expect(intensity.withinMs).toBe(750);
    expect(intensity.recent).toBe(0);
  });

  it('RestartIntensity — restarts older than withinMs leave the window', async () => {
    const clock = new ManualClock();
    const intensity = new RestartIntensity(2, 1000, clock);
    expect(intensity.record()).toBe(true);
    expect(intensity.record()).toBe(true);
    await clock.advance(999);
    expect(intensity.recent).toBe(2);
    await clock.advance(2);
    expect(intensity.recent).toBe(0);
    expect(intensity.record()).toBe(true);
    expect(intensity.record()).toBe(true);
    expect(intensity.record()).toBe(false);
  });

  it('RestartIntensity — the window slides: restarts spaced under withinMs but never more than maxRestarts in any window pass', async () => {
    const clock = new ManualClock();
    const intensity = new RestartIntensity(2, 1000, clock);
    // At t = 0, 600, 1200, 1800, ... each window of 1000 ms holds at most two restarts.
    for (let i = 0; i < 10; i++) {
      expect(intensity.record(), `restart at t=${clock.now()}`).toBe(true);
      expect(intensity.recent).toBeLessThanOrEqual(2);
      await clock.advance(600);
    }
  });

  it('RestartIntensity — a burst after a quiet period counts only the burst', async () => {
    const clock = new ManualClock();
    const intensity = new RestartIntensity(3, 1000, clock);
    intensity.record();
    intensity.record();
    await clock.advance(5_000);
    expect(intensity.record()).toBe(true);
    expect(intensity.record()).toBe(true);
    expect(intensity.record()).toBe(true);
    expect(intensity.recent).toBe(3);
    expect(intensity.record()).toBe(false);
  });

  it('RestartIntensity — reads time only from the injected clock', async () => {
    const clock = new ManualClock({ start: 1_000_000 });
    const intensity = new RestartIntensity(1, 100, clock);
    expect(intensity.record()).toBe(true);
    await clock.advance(99);
    expect(intensity.recent).toBe(1);
    await clock.advance(2);
    expect(intensity.recent).toBe(0);
    expect(intensity.record()).toBe(true);
  });
});
