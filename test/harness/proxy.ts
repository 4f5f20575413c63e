/**
 * A TCP proxy that sits between a node and its peer, for hostile-network tests: it records the
 * bytes the client sends, and can tamper with one of the client's frames (the cohort wire is
 * u32-big-endian length-prefixed frames, so the proxy re-frames the client-to-server direction
 * and can flip a byte inside one frame without breaking the framing).
 *
 * @example
 * const proxy = await FrameProxy.start({ host: '127.0.0.2', target: { host: '127.0.0.10', port } });
 * // a node dials proxy.address instead of the target; then:
 * proxy.connections[0]!.recorded;       // every chunk the client sent, as sent
 * proxy.connections[0]!.tamperNext();   // flip a byte in the next data frame (after the handshake)
 * await proxy.close();
 */
import net from 'node:net';

/** The client-to-server frames of a cohort link that belong to the handshake: hello, Noise message 1, proof. */
export const HANDSHAKE_FRAMES = 3;

/** Where the proxy forwards to, and where it listens. */
export interface FrameProxyOptions {
  /** The address the proxy listens on. @default '127.0.0.1' */
  readonly host?: string;
  readonly target: { readonly host: string; readonly port: number };
}

/** One proxied connection. */
export class ProxyConnection {
  /** Every chunk the client sent, unmodified, in order. */
  readonly recorded: Buffer[] = [];
  /** Resolves when both sides are closed. */
  readonly closed: Promise<void>;
  readonly #client: net.Socket;
  readonly #server: net.Socket;
  #pending: Buffer = Buffer.alloc(0);
  #frames = 0;
  #tamperAt: number | undefined;
  #tampered: Promise<number> | undefined;
  #onTampered: ((index: number) => void) | undefined;

  /** @internal */
  constructor(client: net.Socket, server: net.Socket) {
    this.#client = client;
    this.#server = server;
    this.closed = Promise.all([
      new Promise<void>((r) => client.once('close', () => r())),
      new Promise<void>((r) => server.once('close', () => r())),
    ]).then(() => undefined);
    client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    server.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', end);
    server.on('error', end);
    client.on('close', end);
    server.on('close', end);
  }

  /** Whether both sides are still open. */
  get open(): boolean {
    return !this.#client.destroyed && !this.#server.destroyed;
  }

  /** How many complete client frames went through so far. */
  get frames(): number {
    return this.#frames;
  }

  /**
   * Flips a bit in the last byte of the next client frame after the handshake (the frame's
   * authentication tag when encrypted). Resolves with that frame's index once it went through.
   */
  tamperNext(): Promise<number> {
    this.#tamperAt = Math.max(this.#frames, HANDSHAKE_FRAMES);
    this.#tampered = new Promise<number>((resolve) => (this.#onTampered = resolve));
    return this.#tampered;
  }

  /** Closes both sides. */
  destroy(): void {
    this.#client.destroy();
    this.#server.destroy();
  }

  #fromClient(chunk: Buffer): void {
    this.recorded.push(Buffer.from(chunk));
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: Buffer[] = [];
    while (this.#pending.length >= 4) {
      const length = this.#pending.readUInt32BE(0);
      if (this.#pending.length < 4 + length) break;
      const frame = Buffer.from(this.#pending.subarray(0, 4 + length));
      this.#pending = this.#pending.subarray(4 + length);
      const index = this.#frames++;
      if (this.#tamperAt !== undefined && index >= this.#tamperAt && length > 0) {
        frame[frame.length - 1]! ^= 0x01;
        this.#tamperAt = undefined;
        this.#onTampered?.(index);
      }
      out.push(frame);
    }
    if (out.length > 0) this.#server.write(Buffer.concat(out));
  }
}

/** A recording, tampering TCP proxy. */
export class FrameProxy {
  /** Every connection accepted so far. */
  readonly connections: ProxyConnection[] = [];
  readonly #server: net.Server;
  readonly #options: FrameProxyOptions;
  #address: { host: string; port: number } | undefined;

  private constructor(options: FrameProxyOptions) {
    this.#options = options;
    this.#server = net.createServer((client) => {
      client.pause();
      client.on('error', () => upstream.destroy());
      const upstream = net.connect({ host: options.target.host, port: options.target.port, noDelay: true });
      upstream.once('connect', () => {
        this.connections.push(new ProxyConnection(client, upstream));
        client.resume();
      });
      upstream.once('error', () => client.destroy());
    });
  }

  /** Starts listening on `host` (port 0). */
  static async start(options: FrameProxyOptions): Promise<FrameProxy> {
    const proxy = new FrameProxy(options);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen({ host, port: 0 }, () => resolve());
    });
    proxy.#address = { host, port: (proxy.#server.address() as net.AddressInfo).port };
    return proxy;
  }

  /** Where clients dial the proxy. */
  get address(): { host: string; port: number } {
    if (this.#address === undefined) throw new Error('the proxy is not listening');
    return this.#address;
  }

  /** The address the proxy forwards to. */
  get target(): { host: string; port: number } {
    return { ...this.#options.target };
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A raw client socket for hostile-byte tests: collects what the node answers. */
export interface RawClient {
  readonly socket: net.Socket;
  /** Everything the node sent back. */
  readonly received: Buffer[];
  /** Resolves when the node (or we) closed the socket. */
  readonly closed: Promise<void>;
}

/** Opens a raw TCP connection to `host:port`. */
export function rawClient(host: string, port: number, timeoutMs = 5_000): Promise<RawClient> {
  return new Promise<RawClient>((resolve, reject) => {
    const socket = net.connect({ host, port });
    const received: Buffer[] = [];
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (d: Buffer) => received.push(d));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`could not connect to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.on('error', () => {});
      resolve({ socket, received, closed });
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
