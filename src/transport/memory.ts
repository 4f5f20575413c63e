/**
 * In-memory streams for fast multi-node tests in one process. A `MemoryNetwork` is an object
 * that tests create and hand to each node: there is no global registry of listeners, so two
 * networks never see each other. Streams are real Node streams with backpressure, and every
 * byte still goes through framing, the handshake and encryption, exactly as over TCP.
 */
import { Duplex, PassThrough } from 'node:stream';
import { CohortError } from '../core/errors.js';
import type { StreamAddress, StreamListener, StreamTransport } from './stream-transport.js';

/** A set of in-memory listeners that dial each other by `host:port`. */
export class MemoryNetwork {
  readonly #listeners = new Map<string, (stream: Duplex, remote: StreamAddress) => void>();
  #nextPort = 20_000;
  #nextClientPort = 50_000;

  /**
   * A stream transport attached to this network. Streams it dials appear to the other side as
   * coming from `from.host` (so a fault injector can tell peers apart). @default 127.0.0.1
   */
  transport(from: { host?: string } = {}): StreamTransport {
    const fromHost = from.host ?? '127.0.0.1';
    return {
      name: 'memory',
      listen: async (address, onStream) => {
        const port = address.port === 0 ? this.#nextPort++ : address.port;
        const key = `${address.host}:${port}`;
        if (this.#listeners.has(key)) {
          throw new CohortError('INVALID_OPTION', `cannot listen on ${key}: the address is in use on this memory network`);
        }
        this.#listeners.set(key, onStream);
        const listener: StreamListener = {
          address: { host: address.host, port },
          close: async () => {
            if (this.#listeners.get(key) === onStream) this.#listeners.delete(key);
          },
        };
        return listener;
      },
      connect: async (address) => {
        const accept = this.#listeners.get(`${address.host}:${address.port}`);
        if (accept === undefined) {
          throw new CohortError('NOCONNECTION', `cannot connect to ${address.host}:${address.port}: nothing listens there on this memory network`, {
            details: { host: address.host, port: address.port },
          });
        }
        const [client, server] = duplexPair();
        // Accept on a later turn, as a real network would.
        queueMicrotask(() => accept(server, { host: fromHost, port: this.#nextClientPort++ }));
        return client;
      },
    };
  }

  /** How many listeners are open. */
  get listeners(): number {
    return this.#listeners.size;
  }
}

/** Two connected duplex streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  // Closing one side ends the other, like a socket.
  const link = (from: Duplex, to: Duplex) => {
    from.once('close', () => {
      if (!to.destroyed) to.destroy();
    });
  };
  link(a, b);
  link(b, a);
  return [a, b];
}
