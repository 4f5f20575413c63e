import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame } from '../../src/codec/framing.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { CohortError } from '../../src/core/errors.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import type { StreamTransport } from '../../src/transport/stream-transport.js';
import { tcpTransport } from '../../src/transport/tcp.js';
import { WASM_AEAD_MAX_BYTES, wasmAead } from '../../src/transport/crypto/wasm-aead.js';
import type { LinkManager } from '../../src/transport/link-manager.js';
import { eventually } from '../helpers/eventually.js';
import { Book, SECRET, gated, inbox, onMessages, recording, tampering } from './helpers.js';

const book = new Book();
afterEach(() => book.close());

const text = (s: string) => Buffer.from(s, 'utf8');

function downs(manager: LinkManager): { peer: string; code: string | undefined }[] {
  const got: { peer: string; code: string | undefined }[] = [];
  manager.events.on('down', (e) => got.push({ peer: e.peer, code: e.error?.code }));
  return got;
}

function refusals(manager: LinkManager): string[] {
  const got: string[] = [];
  manager.events.on('refused', (e) => got.push(e.error.code));
  return got;
}

describe.each([
  ['memory', () => new MemoryNetwork().transport()],
  ['tcp', () => tcpTransport()],
])('link manager over %s', (_name, makeStreams) => {
  it.each([
    ['plain', undefined],
    ['secret + encryption', SECRET],
  ])('link manager — %s: messages arrive whole and in order both ways', async (_mode, secret) => {
    const streams = makeStreams();
    const a = await book.manager('a', streams, secret === undefined ? {} : { secret });
    const b = await book.manager('b', streams, secret === undefined ? {} : { secret });
    const atA = inbox(a);
    const atB = inbox(b);
    for (let i = 0; i < 500; i++) a.send('b', text(`a${i}`));
    for (let i = 0; i < 500; i++) b.send('a', text(`b${i}`));
    await eventually(() => atB.length === 500 && atA.length === 500, 5_000);
    expect(atB.map((m) => m.text)).toEqual(Array.from({ length: 500 }, (_, i) => `a${i}`));
    expect(atA.map((m) => m.text)).toEqual(Array.from({ length: 500 }, (_, i) => `b${i}`));
    expect(new Set(atB.map((m) => m.from))).toEqual(new Set(['a']));
  });

  it('link manager — an encrypting manager loads the WebAssembly cipher; frames on either side of its size limit arrive both ways', async () => {
    const streams = makeStreams();
    const a = await book.manager('a', streams, { secret: SECRET });
    const b = await book.manager('b', streams, { secret: SECRET });
    const [atA, atB] = [inbox(a), inbox(b)];
    await a.connect('b');
    await eventually(() => wasmAead() !== undefined, 5_000);
    // One message per turn, so each is its own frame: small ones in WebAssembly, large ones in node:crypto.
    const sizes = [10, WASM_AEAD_MAX_BYTES - 20, WASM_AEAD_MAX_BYTES + 200, 50, 9000, 3];
    for (const [i, size] of sizes.entries()) {
      a.send('b', text(`${i}:`.padEnd(size, 'a')));
      b.send('a', text(`${i}:`.padEnd(size, 'b')));
      await eventually(() => atA.length === i + 1 && atB.length === i + 1, 5_000);
    }
    expect(atB.map((m) => m.text.length)).toEqual(sizes);
    expect(atA.map((m) => m.text)).toEqual(sizes.map((size, i) => `${i}:`.padEnd(size, 'b')));
  });

  it('link manager — simultaneous dials settle on one link, and nobody is reported down', async () => {
    for (let round = 0; round < 10; round++) {
      const streams = makeStreams();
      const a = await book.manager(`a${round}`, streams, { secret: SECRET });
      const b = await book.manager(`b${round}`, streams, { secret: SECRET });
      const downsA = downs(a);
      const downsB = downs(b);
      const atA = inbox(a);
      const atB = inbox(b);
      a.send(`b${round}`, text('from a'));
      b.send(`a${round}`, text('from b'));
      await eventually(() => atA.length === 1 && atB.length === 1, 5_000);
      expect(a.connected()).toEqual([`b${round}`]);
      expect(b.connected()).toEqual([`a${round}`]);
      // The kept link is the one dialled by the lower id, on both sides.
      expect(a.linkTo(`b${round}`)!.outbound).toBe(true);
      expect(b.linkTo(`a${round}`)!.outbound).toBe(false);
      a.send(`b${round}`, text('again'));
      await eventually(() => atB.length === 2, 5_000);
      expect(downsA).toEqual([]);
      expect(downsB).toEqual([]);
      await book.close();
    }
  });

  it('link manager — when the preferred link replaces one that carries messages, none is lost and each side keeps its order', async () => {
    for (let round = 0; round < 5; round++) {
      const streams = makeStreams();
      const a = await book.manager(`a${round}`, streams, { secret: SECRET });
      const b = await book.manager(`b${round}`, streams, { secret: SECRET });
      const [atA, atB, downsA, downsB] = [inbox(a), inbox(b), downs(a), downs(b)];
      // b (the higher id) dials first: its link is up on both sides before a dials its own.
      await b.connect(`a${round}`);
      await eventually(() => a.connected().length === 1, 5_000);
      expect(b.linkTo(`a${round}`)!.outbound).toBe(true);
      // Both sides keep writing while a's link (by address, as a seed is dialled) replaces b's.
      let sent = 0;
      const writer = setInterval(() => {
        for (let i = 0; i < 20 && sent < 400; i++, sent++) {
          a.send(`b${round}`, text(`a${sent}`));
          b.send(`a${round}`, text(`b${sent}`));
        }
      }, 1);
      await a.dialAddress(book.addresses.get(`b${round}`)!);
      await eventually(() => sent === 400, 5_000);
      clearInterval(writer);
      await eventually(() => atA.length >= 400 && atB.length >= 400, 5_000);
      expect(atB.map((m) => m.text)).toEqual(Array.from({ length: 400 }, (_, i) => `a${i}`));
      expect(atA.map((m) => m.text)).toEqual(Array.from({ length: 400 }, (_, i) => `b${i}`));
      // The preferred link is the one kept, on both sides, and nobody saw the peer go down.
      expect(a.linkTo(`b${round}`)!.outbound).toBe(true);
      expect(b.linkTo(`a${round}`)!.outbound).toBe(false);
      expect([downsA, downsB]).toEqual([[], []]);
      await book.close();
    }
  });

  it('link manager — the other direction finishing its handshake after the preferred link is up does not replace it, and nobody is reported down', async () => {
    const network = makeStreams();
    // b's dials send their hello and first handshake message, then stall: a finishes that
    // handshake only when the test lets the rest through.
    const gate = gated(network, 2);
    const a = await book.manager('a', network, { secret: SECRET });
    const b = await book.manager('b', gate.transport, { secret: SECRET });
    const [atA, atB, downsA, downsB] = [inbox(a), inbox(b), downs(a), downs(b)];
    // b dials a (the direction a does not prefer): done on b's side, stalled on a's.
    await b.connect('a');
    b.send('a', text('b, on its own link'));
    await eventually(() => gate.held() > 0, 5_000);
    // a dials b by address, as a seed is dialled: the preferred link is up on both sides.
    await a.dialAddress(book.addresses.get('b')!);
    await eventually(() => b.linkTo('a')?.outbound === false, 5_000);
    expect(a.linkTo('b')!.outbound).toBe(true);
    // Now a finishes b's handshake, late.
    gate.release();
    await eventually(() => atA.length === 1, 5_000);
    expect(atA[0]!.text).toBe('b, on its own link');
    a.send('b', text('a, after'));
    b.send('a', text('b, after'));
    await eventually(() => atA.length === 2 && atB.length === 1, 5_000);
    expect(atA.map((m) => m.text)).toEqual(['b, on its own link', 'b, after']);
    expect(atB.map((m) => m.text)).toEqual(['a, after']);
    // The preferred link is kept on both sides, and the late one is gone without a down.
    expect(a.linkTo('b')!.outbound).toBe(true);
    expect(b.linkTo('a')!.outbound).toBe(false);
    expect([downsA, downsB]).toEqual([[], []]);
  });

  it('link manager — what the peer wrote on a link that finishes its handshake late arrives before what it wrote after it on the preferred link', async () => {
    const network = makeStreams();
    const gate = gated(network, 2);
    const a = await book.manager('a', network, { secret: SECRET });
    const b = await book.manager('b', gate.transport, { secret: SECRET });
    const [atA, downsA, downsB] = [inbox(a), downs(a), downs(b)];
    // b dials a and writes on that link; a has not finished the handshake (b's last message is held).
    await b.connect('a');
    const early = Array.from({ length: 50 }, (_, i) => `early ${i}`);
    for (const m of early) b.send('a', text(m));
    await eventually(() => gate.held() > 0, 5_000);
    // a dials b by address: b switches to the preferred link and writes on it.
    await a.dialAddress(book.addresses.get('b')!);
    await eventually(() => b.linkTo('a')?.outbound === false, 5_000);
    b.send('a', text('later, on the preferred link'));
    // It reaches a, which must hold it until the late link has given up the earlier ones.
    await eventually(() => a.linkTo('b')!.bytes.in > 0, 5_000);
    gate.release();
    await eventually(() => atA.length === 51, 5_000);
    expect(atA.map((m) => m.text)).toEqual([...early, 'later, on the preferred link']);
    b.send('a', text('after the switch'));
    await eventually(() => atA.length === 52, 5_000);
    expect(atA[51]!.text).toBe('after the switch');
    expect([downsA, downsB]).toEqual([[], []]);
  });

  it.each([
    ['plain', undefined],
    ['secret + encryption', SECRET],
  ])('link manager — %s: with a small frame limit, bursts of small messages and a message of the full limit arrive, and no frame passes the limit', async (_mode, secret) => {
    const streams = makeStreams();
    const limit = 4096;
    const options = secret === undefined ? { maxFrameBytes: limit } : { maxFrameBytes: limit, secret };
    const a = await book.manager('a', streams, options);
    const b = await book.manager('b', streams, options);
    const [atB, downsA, downsB] = [inbox(b), downs(a), downs(b)];
    await a.connect('b');
    // 100 messages in one turn would be bundled into one 20 KB frame without the limit.
    const sent = Array.from({ length: 100 }, (_, i) => `${i}:`.padEnd(200, 'x'));
    for (const m of sent) a.send('b', text(m));
    a.send('b', Buffer.alloc(limit, 7)); // fits the message limit, but not one frame with its record header
    await eventually(() => atB.length === 101, 5_000);
    expect(atB.slice(0, 100).map((m) => m.text)).toEqual(sent);
    expect(atB[100]!.text).toBe(Buffer.alloc(limit, 7).toString('utf8'));
    expect(() => a.send('b', Buffer.alloc(limit + 1))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    // Each side checks incoming frames against the same limit: one over it would have closed the link.
    expect([downsA, downsB]).toEqual([[], []]);
    expect(a.connected()).toEqual(['b']);
  });

  it('link manager — nodes with different frame limits: each writes frames the other accepts, and a message too large for the peer is refused at send', async () => {
    const streams = makeStreams();
    const a = await book.manager('a', streams, { maxFrameBytes: 64 * 1024, secret: SECRET });
    const b = await book.manager('b', streams, { maxFrameBytes: 4096, secret: SECRET });
    const [atA, atB, downsA, downsB] = [inbox(a), inbox(b), downs(a), downs(b)];
    await a.connect('b');
    // a bundles a burst as b can take it: without the limit in the handshake, one 20 KB frame.
    const sent = Array.from({ length: 100 }, (_, i) => `${i}:`.padEnd(200, 'x'));
    for (const m of sent) a.send('b', text(m));
    a.send('b', Buffer.alloc(4096, 1));
    expect(() => a.send('b', Buffer.alloc(4097))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE', message: expect.stringMatching(/maxFrameBytes of b \(4096\)/) }));
    expect(() => b.send('a', Buffer.alloc(4097))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE', message: expect.stringMatching(/exceeds maxFrameBytes \(4096\)/) }));
    b.send('a', Buffer.alloc(4096, 2));
    await eventually(() => atB.length === 101 && atA.length === 1, 5_000);
    expect(atB.slice(0, 100).map((m) => m.text)).toEqual(sent);
    expect([downsA, downsB]).toEqual([[], []]);
  });

  it('link manager — a message queued before the link is up and too large for the peer is counted as refused in up, and its listener told why; the rest arrive', async () => {
    const streams = makeStreams();
    const a = await book.manager('a', streams, { maxFrameBytes: 64 * 1024, secret: SECRET });
    const b = await book.manager('b', streams, { maxFrameBytes: 4096, secret: SECRET });
    const [atB, downsA] = [inbox(b), downs(a)];
    const ups: { peer: string; refused: number }[] = [];
    a.events.on('up', (e) => ups.push({ peer: e.peer, refused: e.refused }));
    const told: { which: string; error: CohortError }[] = [];
    const listener = (which: string) => ({ refused: (error: CohortError) => told.push({ which, error }) });
    // No link yet: a's own limit is all it can check, so the large one is queued with the others.
    a.send('b', text('before'), undefined, listener('before'));
    a.send('b', Buffer.alloc(8192, 1), undefined, listener('large'));
    a.send('b', text('after'));
    await eventually(() => atB.length === 2, 5_000);
    expect(atB.map((m) => m.text)).toEqual(['before', 'after']);
    expect(ups).toEqual([{ peer: 'b', refused: 1 }]);
    expect(told).toEqual([{ which: 'large', error: expect.objectContaining({ code: 'FRAME_TOO_LARGE', message: expect.stringMatching(/maxFrameBytes of b \(4096\)/) }) }]);
    expect(downsA).toEqual([]);
  });

  it('link manager — a full send queue fails at once with QUEUE_FULL and never grows past its bound', async () => {
    const streams = makeStreams();
    const a = await book.manager('a', streams, { maxQueueBytes: 1024 * 1024 });
    await book.manager('b', streams);
    await a.connect('b');
    const chunk = Buffer.alloc(100 * 1024);
    let accepted = 0;
    let error: unknown;
    try {
      for (let i = 0; i < 100; i++) {
        a.send('b', chunk);
        accepted++;
      }
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'QUEUE_FULL', message: expect.stringMatching(/is full .*not keeping up/) });
    expect(accepted).toBeLessThanOrEqual(10);
    expect(a.linkTo('b')!.queuedBytes).toBeLessThanOrEqual(1024 * 1024);
    // A message larger than the whole queue says so, rather than blaming the peer.
    expect(() => a.send('b', Buffer.alloc(2 * 1024 * 1024))).toThrow(
      expect.objectContaining({ code: 'QUEUE_FULL', message: expect.stringMatching(/a message of 2097152 bytes does not fit the send queue to b/) }),
    );
  });

  it('link manager — a message over maxFrameBytes is refused with FRAME_TOO_LARGE; smaller ones still go', async () => {
    const streams = makeStreams();
    const a = await book.manager('a', streams, { maxFrameBytes: 64 * 1024 });
    const b = await book.manager('b', streams, { maxFrameBytes: 64 * 1024 });
    const atB = inbox(b);
    expect(() => a.send('b', Buffer.alloc(65 * 1024))).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    a.send('b', text('fits'));
    await eventually(() => atB.length === 1, 5_000);
  });

  it('link manager — a peer that restarted (new instance) replaces its old link at once', async () => {
    const streams = makeStreams();
    const a = await book.manager('a', streams);
    const oldB = await book.manager('b', streams, { instance: 'run-1' });
    await a.connect('b');
    const ups: string[] = [];
    a.events.on('up', (e) => ups.push(e.instance));
    const newB = await book.manager('b', streams, { instance: 'run-2' });
    const atNewB = inbox(newB);
    await newB.connect('a');
    await eventually(() => ups.includes('run-2'), 5_000);
    a.send('b', text('to the new run'));
    await eventually(() => atNewB.length === 1, 5_000);
    await eventually(() => oldB.connected().length === 0, 5_000);
  });
});

describe('link manager — large messages do not hold up small ones', () => {
  it('while 4 MB messages are in flight, small messages overtake them and arrive within 50 ms', async () => {
    const streams = tcpTransport();
    const a = await book.manager('a', streams, { secret: SECRET });
    const b = await book.manager('b', streams, { secret: SECRET });
    await a.connect('b');
    const order: string[] = [];
    const smallLatency: number[] = [];
    onMessages(b, (_peer, payload) => {
      if (payload.byteLength > 1000) order.push('large');
      else {
        const sentAt = Number(payload.toString('utf8'));
        smallLatency.push(performance.now() - sentAt);
        order.push('small');
      }
    });
    for (let i = 0; i < 4; i++) a.send('b', Buffer.alloc(4 * 1024 * 1024, i));
    // Small messages sent after the large ones, a few milliseconds apart.
    for (let i = 0; i < 10; i++) {
      a.send('b', text(String(performance.now())));
      await new Promise((r) => setTimeout(r, 2));
    }
    await eventually(() => order.length === 14, 10_000);
    expect(order.filter((o) => o === 'small')).toHaveLength(10);
    // The first small message came before the last large one finished.
    expect(order.indexOf('small')).toBeLessThan(order.lastIndexOf('large'));
    expect(Math.max(...smallLatency)).toBeLessThan(50);
  });
});

describe('link manager — authentication', () => {
  it('a wrong secret is refused on both sides and the listener keeps serving', async () => {
    const streams = new MemoryNetwork().transport();
    const b = await book.manager('b', streams, { secret: SECRET });
    const intruder = await book.manager('x', streams, { secret: 'not the right secret at all' });
    const friend = await book.manager('f', streams, { secret: SECRET });
    const refusedAtB = refusals(b);
    await expect(intruder.connect('b')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await eventually(() => refusedAtB.includes('AUTH_FAILED'), 5_000);
    expect(b.connected()).toEqual([]);
    await friend.connect('b');
    // The responder counts the link once it has checked the initiator's proof, just after.
    await eventually(() => expect(b.connected()).toEqual(['f']), 5_000);
  });

  it('refusals from one host are logged as one warning per interval, the rest at debug level', async () => {
    const streams = new MemoryNetwork().transport();
    const warnings: string[] = [];
    const debugs: string[] = [];
    const logger = { debug: (m: string) => debugs.push(m), info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };
    const b = await book.manager('b', streams, { secret: SECRET, logger });
    const refused = refusals(b);
    for (let i = 0; i < 5; i++) {
      const intruder = await book.manager(`x${i}`, streams, { secret: 'not the right secret at all' });
      await intruder.connect('b').catch(() => {});
    }
    await eventually(() => refused.length === 5, 5_000);
    expect(warnings.filter((w) => w === 'refused an incoming link')).toHaveLength(1);
    expect(debugs.filter((d) => d === 'refused an incoming link')).toHaveLength(4);
  });

  it('a node without a secret cannot reach one with a secret, and the error says why', async () => {
    const streams = new MemoryNetwork().transport();
    await book.manager('b', streams, { secret: SECRET });
    const open = await book.manager('a', streams);
    await expect(open.connect('b')).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/requires a shared secret/) });
  });

  it('a replayed handshake does not produce a link', async () => {
    const network = new MemoryNetwork();
    const { transport, sent } = recording(network.transport());
    const b = await book.manager('b', network.transport(), { secret: SECRET });
    const a = await book.manager('a', transport, { secret: SECRET });
    await a.connect('b');
    await eventually(() => expect(b.connected()).toEqual(['a']), 5_000);
    await a.close();
    await eventually(() => b.connected().length === 0, 5_000);
    const refused = refusals(b);
    // Replay every byte the honest initiator sent, on a fresh stream.
    const replay = await network.transport().connect(book.addresses.get('b')!, 1_000);
    replay.on('data', () => {});
    replay.on('error', () => {});
    for (const chunk of sent) replay.write(chunk);
    await eventually(() => refused.length === 1, 5_000);
    expect(refused[0]).toMatch(/AUTH_FAILED|PROTOCOL_ERROR/);
    expect(b.connected()).toEqual([]);
  });

  it('a peer that dials one id and reaches another is refused', async () => {
    const streams = new MemoryNetwork().transport();
    const a = await book.manager('a', streams, { secret: SECRET });
    const b = await book.manager('b', streams, { secret: SECRET });
    book.addresses.set('c', book.addresses.get('b')!); // 'c' points at b
    await expect(a.connect('c')).rejects.toMatchObject({ code: 'AUTH_FAILED', message: expect.stringMatching(/dialled c but the peer says it is b/) });
    expect(b.connected()).toEqual([]);
  });
});

describe('link manager — tampering', () => {
  /** Client-to-server chunks 0-2 are the handshake (hello, Noise message 1, proof); data follows. */
  async function tamperedPair(mutate: (chunk: Buffer, index: number) => Buffer | Buffer[]) {
    const network = new MemoryNetwork();
    let index = 0;
    const a = await book.manager('a', tampering(network.transport(), (chunk) => mutate(chunk, index++)), { secret: SECRET });
    const b = await book.manager('b', network.transport(), { secret: SECRET });
    const c = await book.manager('c', network.transport(), { secret: SECRET });
    const atB = inbox(b);
    const downsB = downs(b);
    await a.connect('b');
    return { a, b, c, atB, downsB };
  }

  async function sendApart(a: LinkManager, n: number) {
    for (let i = 0; i < n; i++) {
      a.send('b', text(`m${i}`));
      await new Promise((r) => setImmediate(r));
    }
  }

  it('a flipped byte in a data frame closes the link with PROTOCOL_ERROR; the frame is never delivered; others keep working', async () => {
    const { a, c, atB, downsB } = await tamperedPair((chunk, i) => {
      if (i === 4) chunk[chunk.length - 1]! ^= 0x01;
      return chunk;
    });
    await sendApart(a, 1);
    await eventually(() => atB.length === 1, 5_000);
    a.send('b', text('tampered'));
    await eventually(() => downsB.length === 1, 5_000);
    expect(downsB[0]).toEqual({ peer: 'a', code: 'PROTOCOL_ERROR' });
    expect(atB.map((m) => m.text)).toEqual(['m0']);
    const atBFromC = inbox(book.managers[1]!);
    c.send('b', text('still here'));
    await eventually(() => atBFromC.length === 1, 5_000);
  });

  it('a replayed data frame closes the link and is not delivered twice', async () => {
    const { a, atB, downsB } = await tamperedPair((chunk, i) => (i === 3 ? [chunk, Buffer.from(chunk)] : chunk));
    await sendApart(a, 1);
    await eventually(() => downsB.length === 1, 5_000);
    expect(downsB[0]!.code).toBe('PROTOCOL_ERROR');
    expect(atB.map((m) => m.text)).toEqual(['m0']);
  });

  it('reordered data frames close the link', async () => {
    let held: Buffer | undefined;
    const { a, atB, downsB } = await tamperedPair((chunk, i) => {
      if (i === 3) {
        held = chunk;
        return [];
      }
      if (i === 4) return [chunk, held!];
      return chunk;
    });
    await sendApart(a, 2);
    await eventually(() => downsB.length === 1, 5_000);
    expect(downsB[0]!.code).toBe('PROTOCOL_ERROR');
    expect(atB).toEqual([]);
  });
});

describe('link manager — hostile bytes on the listener', () => {
  function rawClient(port: number): Promise<{ socket: net.Socket; frames: Buffer[]; closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
      const frames: Buffer[] = [];
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      socket.on('data', (d) => {
        for (const f of decoder.push(d)) frames.push(Buffer.from(f));
      });
      socket.on('error', () => {});
      socket.once('connect', () => resolve({ socket, frames, closed }));
      socket.once('error', reject);
    });
  }
  const hello = (major: number) => encodeFrame(Buffer.concat([Buffer.from('COHORT'), Buffer.from([major, 0, 1, 1])]));

  it('a peer speaking another major version is refused with UNSUPPORTED_VERSION, told why, and the listener keeps serving', async () => {
    const streams = tcpTransport();
    const b = await book.manager('b', streams, { secret: SECRET });
    const refused = refusals(b);
    const client = await rawClient(book.addresses.get('b')!.port);
    client.socket.write(hello(9));
    await client.closed;
    expect(refused).toEqual(['UNSUPPORTED_VERSION']);
    const errorFrame = client.frames.find((f) => f[0] === 0x7f)!;
    expect(JSON.parse(errorFrame.subarray(1).toString())).toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringMatching(/protocol 9\.0; this node speaks 1\.0/),
    });
    const a = await book.manager('a', streams, { secret: SECRET });
    await a.connect('b');
  });

  it('a peer announcing a frame limit that is not an integer from 512 to 2^32 - 1 is refused with PROTOCOL_ERROR', async () => {
    const streams = tcpTransport();
    const b = await book.manager('b', streams);
    const refused = refusals(b);
    for (const frames of [10, 1.5, 2 ** 32, 'big']) {
      const client = await rawClient(book.addresses.get('b')!.port);
      client.socket.write(encodeFrame(Buffer.concat([Buffer.from('COHORT'), Buffer.from([1, 0, 0, 0])])));
      const ident = { id: 'x', instance: 'run-1', nonce: 'ab'.repeat(32), frames };
      client.socket.write(encodeFrame(Buffer.concat([Buffer.from([0x01]), Buffer.from(JSON.stringify(ident))])));
      await client.closed;
    }
    expect(refused).toEqual(['PROTOCOL_ERROR', 'PROTOCOL_ERROR', 'PROTOCOL_ERROR', 'PROTOCOL_ERROR']);
    const a = await book.manager('a', streams);
    await a.connect('b');
  });

  it('an oversized frame header, random bytes and a non-cohort hello are refused; the listener keeps serving', async () => {
    const streams = tcpTransport();
    const b = await book.manager('b', streams, { secret: SECRET });
    const refused = refusals(b);
    const port = book.addresses.get('b')!.port;
    const oversized = await rawClient(port);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(0xffff_ff00);
    oversized.socket.write(header);
    const random = await rawClient(port);
    let seed = 7;
    const noise = Buffer.alloc(4096, 0).map(() => (seed = (seed * 1103515245 + 12345) & 0xff));
    random.socket.write(noise);
    const stranger = await rawClient(port);
    stranger.socket.write(encodeFrame(Buffer.from('GET / HTTP/1.1')));
    await Promise.all([oversized.closed, random.closed, stranger.closed]);
    await eventually(() => refused.length === 3, 5_000);
    expect(refused).toContain('FRAME_TOO_LARGE'); // the oversized header
    expect(refused.every((c) => ['FRAME_TOO_LARGE', 'PROTOCOL_ERROR'].includes(c))).toBe(true);
    const a = await book.manager('a', streams, { secret: SECRET });
    await a.connect('b');
    await eventually(() => expect(b.connected()).toEqual(['a']), 5_000);
  });
});

/** A transport whose first `connect` does what `first` says, and later ones go through; `dials()` counts them. */
function firstDial(inner: StreamTransport, first: 'fail' | 'hang'): StreamTransport & { dials(): number } {
  let dials = 0;
  return {
    dials: () => dials,
    name: `first-dial-${first}(${inner.name})`,
    listen: (address, onStream) => inner.listen(address, onStream),
    connect: (address, timeoutMs) => {
      if (++dials > 1) return inner.connect(address, timeoutMs);
      if (first === 'fail') return Promise.reject(new CohortError('NOCONNECTION', 'refused by the test'));
      return new Promise(() => {});
    },
  };
}

describe('link manager — redial after news that a peer is back', () => {
  it('resetBackoff: after a failed dial the backoff refuses at once; once lifted, the next connect dials', async () => {
    const streams = firstDial(new MemoryNetwork().transport(), 'fail');
    const a = await book.manager('a', streams, { redial: { baseMs: 60_000, maxMs: 60_000 } });
    await book.manager('b', streams);
    await expect(a.connect('b')).rejects.toThrow(/refused by the test/);
    await expect(a.connect('b')).rejects.toThrow(/did not answer recently/);
    a.resetBackoff('b');
    await a.connect('b');
    expect(a.connected()).toEqual(['b']);
  });

  it('redial: a dial that hangs is not waited for once it is older than 250 ms; the queued messages go over a new one', async () => {
    const streams = firstDial(new MemoryNetwork().transport(), 'hang');
    // Real timers, and a monotonic time that the test moves ahead.
    let skew = 0;
    const clock: Clock = { ...systemClock, now: () => systemClock.now() + skew };
    const a = await book.manager('a', streams, { connectTimeoutMs: 60_000, clock });
    const b = await book.manager('b', streams);
    const atB = inbox(b);
    a.send('b', text('queued'));
    for (let i = 0; i < 5; i++) await new Promise(setImmediate);
    a.redial('b'); // a young dial is waited for
    expect(streams.dials()).toBe(1);
    skew += 250;
    a.redial('b');
    expect(streams.dials()).toBe(2);
    await eventually(() => atB.length === 1, 5_000);
    expect(atB.map((m) => m.text)).toEqual(['queued']);
    a.redial('b'); // with a link ready: nothing to do
    expect(a.connected()).toEqual(['b']);
  });

  it('redial: news that arrives while a dial is young is not lost — the dial is replaced once 250 ms old if it hangs', async () => {
    const streams = firstDial(new MemoryNetwork().transport(), 'hang');
    const a = await book.manager('a', streams, { connectTimeoutMs: 60_000 });
    const b = await book.manager('b', streams);
    const atB = inbox(b);
    a.send('b', text('queued'));
    for (let i = 0; i < 5; i++) await new Promise(setImmediate);
    a.redial('b');
    a.redial('b'); // one re-check, not one per call
    expect(streams.dials()).toBe(1);
    await eventually(() => atB.length === 1, 5_000);
    expect(streams.dials()).toBe(2);
    expect(atB.map((m) => m.text)).toEqual(['queued']);
  });
});
