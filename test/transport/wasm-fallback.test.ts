/**
 * When the WebAssembly cipher cannot load (here: libsodium-wrappers fails to initialise), an
 * encrypting node says so in its log and its links still work, every frame through node:crypto.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { loadWasmAead, wasmAead } from '../../src/transport/crypto/wasm-aead.js';
import type { Logger } from '../../src/core/logger.js';
import { eventually } from '../helpers/eventually.js';
import { Book, SECRET, inbox } from './helpers.js';

vi.mock('libsodium-wrappers', () => ({ default: { ready: Promise.reject(new Error('no WebAssembly here')) } }));

const book = new Book();
afterEach(() => book.close());

describe('link manager without the WebAssembly cipher', () => {
  it('link manager — the WebAssembly cipher fails to load: a warning says so, and encrypted messages still arrive both ways', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (message) => warnings.push(message) };
    const streams = new MemoryNetwork().transport();
    const a = await book.manager('a', streams, { secret: SECRET, logger });
    const b = await book.manager('b', streams, { secret: SECRET });
    expect(await loadWasmAead()).toBeUndefined();
    expect(wasmAead()).toBeUndefined();
    await eventually(() => warnings.some((w) => w.includes('WebAssembly cipher')), 5_000);
    const [atA, atB] = [inbox(a), inbox(b)];
    a.send('b', Buffer.from('small'));
    b.send('a', Buffer.from('x'.repeat(5000)));
    await eventually(() => atA.length === 1 && atB.length === 1, 5_000);
    expect(atB[0]!.text).toBe('small');
    expect(atA[0]!.text).toBe('x'.repeat(5000));
  });
});
