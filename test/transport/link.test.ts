import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameCipher } from '../../src/transport/crypto/index.js';
import type { LinkManager } from '../../src/transport/link-manager.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { eventually } from '../helpers/eventually.js';
import { Book, SECRET } from './helpers.js';

const book = new Book();
afterEach(async () => {
  vi.restoreAllMocks();
  await book.close();
});

/** `rounds` sequential request/response calls from a to b (b answers "re:" + the request). */
async function pingPong(a: LinkManager, b: LinkManager, rounds: number): Promise<string[]> {
  b.events.on('message', ({ peer, payload }) => b.send(peer, Buffer.concat([Buffer.from('re:'), payload])));
  const replies: string[] = [];
  a.events.on('message', ({ payload }) => replies.push(Buffer.from(payload).toString()));
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
