/**
 * Counts the bytes a node's sockets carry: a stream-transport wrapper that keeps every TCP socket
 * it sees (accepted or dialled) and sums `bytesRead` / `bytesWritten`, for open sockets now and
 * closed ones as they were when they closed. It reads counters the sockets keep anyway, so it adds
 * no listener and changes nothing about the streams.
 *
 * Wrap it directly around the TCP transport (inside any fault injector) so that it counts what
 * actually crossed the wire: framing, handshake and encryption overhead included, bytes dropped by
 * fault injection excluded. Streams that are not sockets (e.g. the memory transport's) are passed
 * through uncounted.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { StreamTransport } from '../../src/transport/stream-transport.js';
import type { ByteTotals } from './protocol.js';

export class ByteCounter {
  readonly #open = new Set<net.Socket>();
  #closedIn = 0;
  #closedOut = 0;
  #streams = 0;

  /** Wraps `inner` so that its sockets are counted. */
  wrap(inner: StreamTransport): StreamTransport {
    return {
      name: inner.name,
      listen: (address, onStream) => inner.listen(address, (stream, remote) => onStream(this.#track(stream), remote)),
      connect: async (address, timeoutMs) => this.#track(await inner.connect(address, timeoutMs)),
    };
  }

  /** Bytes read and written so far, over every socket seen. */
  totals(): ByteTotals {
    let read = this.#closedIn;
    let written = this.#closedOut;
    for (const s of this.#open) {
      read += s.bytesRead;
      written += s.bytesWritten;
    }
    return { in: read, out: written, streams: this.#streams };
  }

  #track(stream: Duplex): Duplex {
    if (!(stream instanceof net.Socket)) return stream;
    this.#streams++;
    this.#open.add(stream);
    stream.once('close', () => {
      if (!this.#open.delete(stream)) return;
      this.#closedIn += stream.bytesRead;
      this.#closedOut += stream.bytesWritten;
    });
    return stream;
  }
}
