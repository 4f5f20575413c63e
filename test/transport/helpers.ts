/**
 * Test helpers for the transport: link managers wired together, and a stream transport that lets
 * a test see and tamper with the bytes on the wire.
 */
import { Duplex, Transform } from 'node:stream';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { secretKeys } from '../../src/transport/handshake.js';
import { LinkManager, type LinkManagerOptions } from '../../src/transport/link-manager.js';
import type { StreamAddress, StreamTransport } from '../../src/transport/stream-transport.js';

export const SECRET = 'correct horse battery staple';

/** A registry of test peers' addresses, shared by the managers of one test. */
export class Book {
  readonly addresses = new Map<string, StreamAddress>();
  readonly managers: LinkManager[] = [];

  async manager(id: string, streams: StreamTransport, options: Partial<LinkManagerOptions> & { secret?: string } = {}): Promise<LinkManager> {
    const { secret, ...rest } = options;
    const manager = new LinkManager({
      localId: id,
      instance: 'run-1',
      streams,
      keys: secret === undefined ? undefined : secretKeys(secret),
      encrypt: secret !== undefined,
      maxFrameBytes: 16 * 1024 * 1024,
      maxQueueBytes: 64 * 1024 * 1024,
      handshakeTimeoutMs: 2_000,
      connectTimeoutMs: 2_000,
      logger: silentLogger,
      clock: systemClock,
      addressOf: (peer) => this.addresses.get(peer),
      ...rest,
    });
    this.addresses.set(id, await manager.listen({ host: '127.0.0.1', port: 0 }));
    this.managers.push(manager);
    return manager;
  }

  async close(): Promise<void> {
    await Promise.all(this.managers.splice(0).map((m) => m.close()));
  }
}

/** Hands each message a manager receives to `fn`, as a view of its bytes. */
export function onMessages(manager: LinkManager, fn: (peer: string, payload: Buffer) => void): void {
  manager.onMessage((peer, buffer, start, end) => fn(peer, buffer.subarray(start, end)));
}

/** Collects messages a manager receives, as text. */
export function inbox(manager: LinkManager): { from: string; text: string }[] {
  const got: { from: string; text: string }[] = [];
  onMessages(manager, (from, payload) => got.push({ from, text: payload.toString('utf8') }));
  return got;
}

/** A transport whose dialled streams send their client-to-server bytes through a fresh `outgoing()` transform each. */
function throughOutgoing(inner: StreamTransport, name: string, outgoing: () => Transform): StreamTransport {
  return {
    name: `${name}(${inner.name})`,
    listen: (address, onStream) => inner.listen(address, onStream),
    async connect(address, timeoutMs) {
      const real = await inner.connect(address, timeoutMs);
      const out = outgoing();
      out.pipe(real);
      const wrapped = Duplex.from({ readable: real, writable: out });
      real.once('close', () => wrapped.destroy());
      return wrapped;
    },
  };
}

/** Rewrites the client-to-server bytes of dialled streams with `mutate` (given each chunk and the running byte offset). */
export function tampering(inner: StreamTransport, mutate: (chunk: Buffer, offset: number) => Buffer | Buffer[]): StreamTransport {
  return throughOutgoing(inner, 'tampering', () => {
    let offset = 0;
    return new Transform({
      transform(chunk: Buffer, _enc, done) {
        const out = mutate(chunk, offset);
        offset += chunk.length;
        for (const piece of Array.isArray(out) ? out : [out]) this.push(piece);
        done();
      },
    });
  });
}

/** Records every client-to-server chunk of dialled streams. */
export function recording(inner: StreamTransport): { transport: StreamTransport; sent: Buffer[] } {
  const sent: Buffer[] = [];
  return {
    sent,
    transport: tampering(inner, (chunk) => {
      sent.push(Buffer.from(chunk));
      return chunk;
    }),
  };
}

/**
 * Lets the first `open` client-to-server writes of each dialled stream through, then holds the
 * rest until `release()` (in order), as a slow network path would.
 */
export function gated(inner: StreamTransport, open: number): { transport: StreamTransport; held(): number; release(): void } {
  const waiting: (() => void)[] = [];
  let released = false;
  return {
    held: () => waiting.length,
    release: () => {
      released = true;
      for (const go of waiting.splice(0)) go();
    },
    transport: throughOutgoing(inner, 'gated', () => {
      let writes = 0;
      return new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (released || ++writes <= open) done(null, chunk);
          else waiting.push(() => done(null, chunk));
        },
      });
    }),
  };
}
