import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { FrameCipher } from '../../src/transport/crypto/index.js';
import type { LinkManager } from '../../src/transport/link-manager.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { eventually } from '../helpers/eventually.js';
import { Book, SECRET, onMessages } from './helpers.js';

const book = new Book();
afterEach(async () => {
  vi.restoreAllMocks();
  await book.close();
});

/** `rounds` sequential request/response calls from a to b (b answers "re:" + the request). */
async function pingPong(a: LinkManager, b: LinkManager, rounds: number): Promise<string[]> {
  onMessages(b, (peer, payload) => b.send(peer, Buffer.concat([Buffer.from('re:'), payload])));
  const replies: string[] = [];
  onMessages(a, (_peer, payload) => replies.push(payload.toString()));
  for (let i = 0; i < rounds; i++) {
    a.send('b', Buffer.from(`q${i}`));
    await eventually(() => replies.length === i + 1, 5_000);
  }
  return replies;
}

describe('link', () => {
  it('link — an encrypted link sets up its cipher for the next frame after each write, and request/response rounds arrive intact', async () => {
    const prepare = vi.spyOn(FrameCipher.prototype, 'prepare');
    const streams = new MemoryNetwork().transport();
    const a = await book.manager('a', streams, { secret: SECRET });
    const b = await book.manager('b', streams, { secret: SECRET });
    const replies = await pingPong(a, b, 100);
    expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => `re:q${i}`));
    // Each side wrote 100 frames and prepared after each write.
    expect(prepare.mock.calls.length).toBeGreaterThanOrEqual(200);
  });

  it('link — a plain link has no cipher to prepare', async () => {
    const prepare = vi.spyOn(FrameCipher.prototype, 'prepare');
    const streams = new MemoryNetwork().transport();
    const a = await book.manager('a', streams);
    const b = await book.manager('b', streams);
    expect(await pingPong(a, b, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `re:q${i}`));
    expect(prepare).not.toHaveBeenCalled();
  });
});

describe('link — bursts', () => {
  it('link — bursts of small messages, one far larger than the queue keeps room for, arrive in order, plain and encrypted, and the link goes on', async () => {
    for (const secret of [{}, { secret: SECRET }]) {
      const streams = new MemoryNetwork().transport();
      const a = await book.manager('a', streams, secret);
      const b = await book.manager('b', streams, secret);
      const got: string[] = [];
      onMessages(b, (_peer, payload) => got.push(payload.toString()));
      await a.connect('b');
      const sent: string[] = [];
      for (const burst of [300, 10_000, 5]) {
        for (let i = 0; i < burst; i++) {
          sent.push(`${burst}:${i}`);
          a.send('b', Buffer.from(`${burst}:${i}`));
        }
        await eventually(() => got.length === sent.length, 10_000);
      }
      expect(got).toEqual(sent);
      await book.close();
    }
  });
});

describe('link — frame limits (property)', () => {
  it('link — for any two frame limits and any message sizes up to the smaller one, every message of one lane arrives whole and in order, and no link closes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4096, max: 70_000 }),
        fc.integer({ min: 4096, max: 70_000 }),
        fc.boolean(),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 }),
        async (limitA, limitB, encrypt, fractions) => {
          const streams = new MemoryNetwork().transport();
          const secret = encrypt ? { secret: SECRET } : {};
          const a = await book.manager('a', streams, { maxFrameBytes: limitA, ...secret });
          const b = await book.manager('b', streams, { maxFrameBytes: limitB, ...secret });
          let closed = 0;
          for (const m of [a, b]) m.events.on('down', () => closed++);
          const got: Buffer[] = [];
          onMessages(b, (_peer, payload) => got.push(Buffer.from(payload)));
          await a.connect('b');
          // Sizes from 0 to the smaller limit, the limit itself included, sent in one turn on one lane.
          const max = Math.min(limitA, limitB);
          const sent = fractions.map((f, i) => Buffer.alloc(Math.round(f * max), i % 251));
          for (const m of sent) a.send('b', m, 7);
          await eventually(() => got.length === sent.length || closed > 0, 10_000);
          expect(closed).toBe(0);
          expect(got.map((m) => m.length)).toEqual(sent.map((m) => m.length));
          expect(got.every((m, i) => m.equals(sent[i]!))).toBe(true);
          await book.close();
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('link — ordering lanes', () => {
  it('link — a small message overtakes a large one sent before it on another lane, and waits behind one of its own lane', async () => {
    const streams = new MemoryNetwork().transport();
    const a = await book.manager('a', streams, { secret: SECRET });
    const b = await book.manager('b', streams, { secret: SECRET });
    const got: string[] = [];
    onMessages(b, (_peer, payload) => got.push(payload.byteLength > 1000 ? `large ${payload[0]}` : payload.toString()));
    await a.connect('b');
    a.send('b', Buffer.alloc(4 * 1024 * 1024, 1), 1);
    a.send('b', Buffer.from('small on lane 1'), 1);
    a.send('b', Buffer.from('small on lane 2'), 2);
    a.send('b', Buffer.from('small without a lane'));
    a.send('b', Buffer.alloc(2 * 1024 * 1024, 2), 1);
    a.send('b', Buffer.from('small on lane 1, last'), 1);
    await eventually(() => got.length === 6, 10_000);
    // Lane 1 in the order sent; the others did not wait for its large messages.
    expect(got.filter((m) => m.includes('lane 1') || m.startsWith('large'))).toEqual(['large 1', 'small on lane 1', 'large 2', 'small on lane 1, last']);
    expect(got.indexOf('small on lane 2')).toBeLessThan(got.indexOf('large 1'));
    expect(got.indexOf('small without a lane')).toBeLessThan(got.indexOf('large 1'));
  });
});
