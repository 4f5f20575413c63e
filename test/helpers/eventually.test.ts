import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

describe('eventually', () => {
  it('eventually — returns what fn returns once it stops throwing', async () => {
    let calls = 0;
    const value = await eventually(() => {
      calls++;
      if (calls < 3) throw new Error('not yet');
      return 'done';
    }, 1_000);
    expect(value).toBe('done');
    expect(calls).toBe(3);
  });

  it('eventually — treats a return of false as not yet, and awaits async attempts', async () => {
    let calls = 0;
    await expect(eventually(async () => ++calls >= 3, 1_000)).resolves.toBe(true);
    expect(calls).toBe(3);
  });

  it('eventually — gives up after timeoutMs with the last error, saying how long it tried', async () => {
    let calls = 0;
    const error = await eventually(() => {
      calls++;
      throw new Error(`attempt ${calls} failed`);
    }, 30).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/^eventually: gave up after \d+ ms \(timeout 30 ms, \d+ attempts\); last error: attempt \d+ failed$/);
    expect(error!.message).toContain(`attempt ${calls} failed`);
  });

  it('eventually — keeps the expected and actual values of a failed assertion', async () => {
    const error = await eventually(() => expect(1).toBe(2), 20).then(
      () => undefined,
      (e: unknown) => e as { expected?: unknown; actual?: unknown; message: string },
    );
    expect(error?.message).toContain('expected 1 to be 2');
    expect(error?.expected).toBe(2);
    expect(error?.actual).toBe(1);
  });

  it('eventually — an attempt that never settles is abandoned at the deadline', async () => {
    const started = performance.now();
    await expect(eventually(() => new Promise<never>(() => {}), 40)).rejects.toThrow(/did not settle/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('eventually — when the last attempt is cut off, the error of the one before is reported', async () => {
    let calls = 0;
    const fn = () => (++calls === 1 ? Promise.reject(new Error('not yet: 1')) : new Promise<never>(() => {}));
    await expect(eventually(fn, 40)).rejects.toThrow(/not yet: 1/);
  });

  it('eventually — refuses a timeout that is not a positive finite number', async () => {
    await expect(eventually(() => true, 0)).rejects.toThrow(RangeError);
    await expect(eventually(() => true, Infinity)).rejects.toThrow(RangeError);
  });
});
