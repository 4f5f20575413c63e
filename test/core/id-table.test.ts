import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IdTable } from '../../src/core/id-table.js';
import { thrown } from '../helpers/errors.js';

/** One step: add the next key (the counter moves on by `gap`), or take back the n-th key still in (mod how many). */
type Step = { readonly add: number } | { readonly take: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ add: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 5000 }), fc.constant(2 ** 31 - 7)) }) },
  { weight: 2, arbitrary: fc.record({ take: fc.nat() }) },
);

describe('id table', () => {
  it('id table — behaves as a Map of the same entries through random adds and removals, waits of any length and growth and shrinking', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3000 }), (steps) => {
        const table = new IdTable<{ key: number }>();
        const model = new Map<number, { key: number }>();
        let next = 0;
        for (const s of steps) {
          if ('add' in s) {
            next += s.add;
            const value = { key: next };
            table.set(next, value);
            model.set(next, value);
          } else {
            const keys = [...model.keys()];
            // Mostly an entry that is in; sometimes one that is not (deleting it changes nothing).
            const key = keys.length === 0 || s.take % 7 === 0 ? next + 1 : keys[s.take % keys.length]!;
            expect(table.delete(key)).toBe(model.delete(key));
            expect(table.get(key)).toBeUndefined();
          }
          expect(table.size).toBe(model.size);
        }
        for (const [key, value] of model) expect(table.get(key)).toBe(value);
        expect(new Map(table.entries())).toEqual(model);
        for (const [key] of table) table.delete(key);
        expect(table.size).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('id table — a burst of 100,000 grows it, emptying it shrinks it again, and it keeps working', () => {
    const table = new IdTable<number>();
    for (let key = 0; key < 100_000; key++) table.set(key, key);
    expect(table.size).toBe(100_000);
    expect(table.capacity).toBe(262_144);
    let deleted = 0;
    for (let key = 0; key < 100_000; key++) if (table.delete(key)) deleted++;
    expect(deleted).toBe(100_000);
    expect(table.size).toBe(0);
    expect(table.capacity).toBe(65_536);
    // One entry that waits while many come and go: it keeps its value, and the table stays small.
    table.set(200_000, -1);
    for (let key = 200_001; key < 300_000; key++) {
      table.set(key, key);
      table.delete(key);
    }
    expect(table.get(200_000)).toBe(-1);
    expect(table.size).toBe(1);
    expect(table.capacity).toBe(1024);
  });

  it('id table — refuses keys that are not non-negative safe integers, an undefined value, and a key already in', () => {
    const table = new IdTable<string>();
    for (const key of [-1, 1.5, 2 ** 53, Number.NaN]) expect(thrown(() => table.set(key, 'x')).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => table.set(1, undefined as unknown as string)).code).toBe('INVALID_ARGUMENT');
    table.set(1, 'one');
    expect(thrown(() => table.set(1, 'again')).message).toMatch(/already in the table/);
    expect(table.get(1)).toBe('one');
    expect(table.has(2)).toBe(false);
  });
});
