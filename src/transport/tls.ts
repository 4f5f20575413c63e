/**
 * TLS 1.3 streams for links, for operators who use certificates: X25519 key exchange,
 * ChaCha20-Poly1305, and mutual certificate checks (each side presents a certificate and verifies
 * the other's against the configured CA). Nothing older than TLS 1.3 is accepted.
 *
 * Over TLS the link handshake still runs (protocol version, identities, and a secret's proofs when
 * one is set), but frames are not encrypted a second time.
 */
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { CohortError, describe } from '../core/errors.js';
import type { StreamListener, StreamTransport } from './stream-transport.js';

/** Certificates and keys for TLS links (PEM strings or buffers). */
export interface TlsOptions {
  /** This node's certificate (chain). */
  cert: string | Buffer;
  /** This node's private key. */
  key: string | Buffer;
  /** The CA certificate(s) every peer's certificate must chain to. */
  ca: string | Buffer | (string | Buffer)[];
  /**
   * Check the peer certificate's name against the host dialled (as HTTPS does). Turn it off when
   * one certificate is shared by all nodes and names do not match addresses. @default true
   */
  checkServerName?: boolean;
}

const KEEPALIVE_MS = 10_000;

/** Validates TLS options; throws `INVALID_OPTION` saying what is missing. */
export function checkTlsOptions(value: unknown): TlsOptions {
  if (typeof value !== 'object' || value === null) {
    throw new CohortError('INVALID_OPTION', `encryption.tls must be an object { cert, key, ca }, got ${describe(value)}`);
  }
  const o = value as Partial<TlsOptions>;
  const pem = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  for (const field of ['cert', 'key'] as const) {
    if (!pem(o[field])) throw new CohortError('INVALID_OPTION', `encryption.tls.${field} must be a PEM string or Buffer`);
  }
  if (!(pem(o.ca) || (Array.isArray(o.ca) && o.ca.length > 0 && o.ca.every(pem)))) {
    throw new CohortError('INVALID_OPTION', 'encryption.tls.ca must be the PEM CA certificate(s) peers are checked against');
  }
  if (o.checkServerName !== undefined && typeof o.checkServerName !== 'boolean') {
    throw new CohortError('INVALID_OPTION', 'encryption.tls.checkServerName must be true or false');
  }
  return o as TlsOptions;
}

/** The TLS 1.3 stream transport with mutual certificate checks. */
export function tlsTransport(options: TlsOptions, local: { localAddress?: string } = {}): StreamTransport {
  const common = {
    cert: options.cert,
    key: options.key,
    ca: options.ca,
    minVersion: 'TLSv1.3' as const,
    maxVersion: 'TLSv1.3' as const,
    ciphers: 'TLS_CHACHA20_POLY1305_SHA256',
    ecdhCurve: 'X25519',
  };
  return {
    name: 'tls',
    listen(address, onStream) {
      return new Promise<StreamListener>((resolve, reject) => {
        const server = tls.createServer({ ...common, requestCert: true, rejectUnauthorized: true }, (socket) => {
          socket.setNoDelay(true);
          socket.setKeepAlive(true, KEEPALIVE_MS);
          onStream(socket, { host: socket.remoteAddress ?? 'unknown', port: socket.remotePort ?? 0 });
        });
        // A peer that fails the TLS handshake (bad certificate, old protocol) is dropped; keep serving.
        server.on('tlsClientError', (_error, socket) => socket.destroy());
        const onError = (error: Error) =>
          reject(new CohortError('INVALID_OPTION', `cannot listen on ${address.host}:${address.port}: ${error.message}`, { cause: error }));
        server.once('error', onError);
        server.listen({ host: address.host, port: address.port, exclusive: true }, () => {
          server.off('error', onError);
          const bound = server.address() as { port: number };
          resolve({ address: { host: address.host, port: bound.port }, close: () => new Promise<void>((done) => server.close(() => done())) });
        });
      });
    },
    connect(address, timeoutMs) {
      return new Promise<Duplex>((resolve, reject) => {
        const socket = tls.connect({
          ...common,
          host: address.host,
          port: address.port,
          rejectUnauthorized: true,
          ...(local.localAddress === undefined ? {} : { localAddress: local.localAddress }),
          ...(options.checkServerName === false ? { checkServerIdentity: () => undefined } : {}),
        });
        const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        const fail = (error: Error) => {
          clearTimeout(timer);
          socket.destroy();
          const code = /certificate|self.signed|verify|alert/i.test(error.message) ? 'AUTH_FAILED' : 'NOCONNECTION';
          reject(new CohortError(code, `cannot open a TLS link to ${address.host}:${address.port}: ${error.message}`, { cause: error }));
        };
        socket.once('error', fail);
        socket.once('secureConnect', () => {
          clearTimeout(timer);
          socket.off('error', fail);
          socket.setNoDelay(true);
          socket.setKeepAlive(true, KEEPALIVE_MS);
          resolve(socket);
        });
      });
    },
  };
}
