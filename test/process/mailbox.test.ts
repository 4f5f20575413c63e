import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Mailbox } from '../../src/process/mailbox.js';

describe('mailbox — FIFO', () => {
  it('keeps any interleaving of pushes and shifts in order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.constant<'shift'>('shift')), { maxLength: 5000 }), (ops) => {
        const box = new Mailbox<number>();
        const model: number[] = [];
        for (const op of ops) {
          if (op === 'shift') expect(box.shift()).toBe(model.shift());
          else {
            box.push(op);
            model.push(op);
          }
          expect(box.size).toBe(model.length);
        }
        expect(box.drain()).toEqual(model);
        expect(box.size).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('stays in order across its internal compactions (100,000 messages, never fully drained)', () => {
    const box = new Mailbox<number>();
    let expected = 0;
    let outOfOrder = 0;
    for (let i = 0; i < 100_000; i++) {
      box.push(i);
      if (i % 3 !== 0 && box.shift() !== expected++) outOfOrder++;
    }
    while (box.size > 0) if (box.shift() !== expected++) outOfOrder++;
    expect(outOfOrder).toBe(0);
    expect(expected).toBe(100_000);
    expect(box.shift()).toBeUndefined();
  });
});
