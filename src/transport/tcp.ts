/**
 * TCP streams for links: `node:net` with Nagle off (links batch their own writes) and keep-alive
 * on, so a dead peer behind a silent network is eventually noticed even without traffic.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { CohortError } from '../core/errors.js';
import type { StreamAddress, StreamListener, StreamTransport } from './stream-transport.js';

const KEEPALIVE_MS = 10_000;

/** Options of {@link tcpTransport}. */
export interface TcpTransportOptions {
  /**
   * The local address outgoing connections are bound to, so peers see this node's own IP (useful
   * when several nodes share a machine on different loopback addresses). @default the OS's choice
   */
  localAddress?: string;
}

/** The TCP stream transport. */
export function tcpTransport(options: TcpTransportOptions = {}): StreamTransport {
  return {
    name: 'tcp',
    listen(address, onStream) {
      return new Promise<StreamListener>((resolve, reject) => {
        const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS }, (socket) => {
          onStream(socket, { host: socket.remoteAddress ?? 'unknown', port: socket.remotePort ?? 0 });
        });
        const onError = (error: Error) => {
          reject(
            new CohortError('INVALID_OPTION', `cannot listen on ${address.host}:${address.port}: ${error.message}`, {
              cause: error,
              details: { host: address.host, port: address.port },
            }),
          );
        };
        server.once('error', onError);
        server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
          server.off('error', onError);
          const bound = server.address() as net.AddressInfo;
          resolve({
            address: { host: address.host, port: bound.port },
            close: () => new Promise<void>((done) => server.close(() => done())),
          });
        });
      });
    },
    connect(address, timeoutMs) {
      return new Promise<Duplex>((resolve, reject) => {
        const socket = net.connect({
          host: address.host,
          port: address.port,
          noDelay: true,
          keepAlive: true,
          keepAliveInitialDelay: KEEPALIVE_MS,
          ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        });
        const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        const fail = (error: Error) => {
          clearTimeout(timer);
          socket.destroy();
          reject(
            new CohortError('NOCONNECTION', `cannot connect to ${address.host}:${address.port}: ${error.message}`, {
              cause: error,
              details: { host: address.host, port: address.port },
            }),
          );
        };
        socket.once('error', fail);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.off('error', fail);
          resolve(socket);
        });
      });
    },
  };
}

export type { StreamAddress };
