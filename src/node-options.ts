/**
 * The options of `Node.start`: their types, defaults (one frozen object) and validation.
 *
 * Validation is strict and up front: an unknown key, a value of the wrong type or range, or an
 * unsafe combination (no secret on a non-loopback address without `insecure: true`) is an
 * `INVALID_OPTION` error that names the option and says what was expected.
 */
import { isIP } from 'node:net';
import { systemClock, type Clock } from './core/clock.js';
import { CohortError, describe } from './core/errors.js';
import { validateHost, validateNodeName, validatePort } from './core/ids.js';
import { silentLogger, type Logger } from './core/logger.js';
import { DEFAULT_MAX_FRAME_BYTES } from './codec/framing.js';
import { resolveCodec, type Codec, type CodecName } from './codec/index.js';
import type { MembershipTimings } from './cluster/cluster.js';
import { resolveDiscovery, staticDiscovery, type Discovery } from './cluster/discovery/index.js';
import type { StreamTransport } from './transport/stream-transport.js';
import { tcpTransport } from './transport/tcp.js';
import { checkTlsOptions, tlsTransport, type TlsOptions } from './transport/tls.js';

/** The lowest `maxFrameBytes`: the handshake's own frames (hello, identities, proofs) must fit. */
const MIN_FRAME_BYTES = 4096;
/** The highest `maxFrameBytes`: a frame's length is a u32. */
const MAX_FRAME_BYTES = 0xffff_ffff;

/** Options of `Node.start`. */
export interface NodeOptions {
  /** The node's name, the part before `@` in its id: 1-64 letters, digits, `_`, `.`, `-`. @default 'cohort' */
  name?: string;
  /** The address to listen on. Without a `secret` it must be a loopback address unless `insecure`. @default '127.0.0.1' */
  host?: string;
  /** The port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** The host other nodes reach this one at, when it differs from `host` (e.g. `host: '0.0.0.0'`). @default host */
  advertiseHost?: string;
  /** Nodes to join: node ids (`app2@10.0.0.2:4369`) or `host:port`. Those down at start are retried. @default [] */
  seeds?: string[];
  /** More ways to find nodes: a `Discovery`, a list of them, or a config (`{ type: 'dns' | 'file' | 'static', ... }`). */
  discovery?: unknown;
  /**
   * A shared secret (at least 16 characters): every link proves both sides know it, and is
   * encrypted unless `encryption: false`. Without one, the node listens on loopback only unless
   * `insecure: true`.
   */
  secret?: string;
  /**
   * How links are encrypted: `true` (the default with a secret) uses keys bound to the secret
   * (Noise NNpsk0: X25519, ChaCha20-Poly1305); `{ tls: { cert, key, ca } }` uses TLS 1.3 with
   * mutual certificate checks instead; `false` sends authenticated but unencrypted frames.
   * @default true when a secret is set, else false
   */
  encryption?: boolean | { tls: TlsOptions };
  /** Allow a node without a secret to listen on a non-loopback address: anyone who can reach it may join. @default false */
  insecure?: boolean;
  /** Small key/value facts about the node that travel with membership. @default {} */
  meta?: Record<string, string>;
  /** Membership timings (probe period, timeouts, suspicion). @default see MEMBERSHIP_DEFAULTS */
  membership?: MembershipTimings;
  /**
   * The largest message a link carries either way, and the largest frame on the wire (a bigger
   * message is refused with `FRAME_TOO_LARGE`; frames are checked against it before buffering).
   * An integer from 4096 (the handshake's own frames must fit) to 2^32 − 1. @default 16 MiB
   */
  maxFrameBytes?: number;
  /** The most bytes that may wait to be sent to one peer; beyond it sends fail with `QUEUE_FULL`. @default 64 MiB */
  maxQueueBytes?: number;
  /** The wire codec: 'msgpack', 'json' (for debugging) or a `Codec`. All nodes of a cluster use the same. @default 'msgpack' */
  codec?: CodecName | Codec;
  /** How links are carried: TCP, or an in-memory network for tests. @default TCP */
  transport?: StreamTransport;
  /** How long a link handshake may take. @default 5000 */
  handshakeTimeoutMs?: number;
  /** How long a dial may take. @default 3000 */
  connectTimeoutMs?: number;
  /** How often discovery is asked again once joined. @default 30000 */
  discoveryIntervalMs?: number;
  /** The clock every timer of the node uses. @default systemClock */
  clock?: Clock;
  /** Uniform numbers in [0, 1) for jitter and random choices; inject a seeded one in tests. @default Math.random */
  random?: () => number;
  /** Where the node logs. @default silentLogger */
  logger?: Logger;
  /** Default timeout of `call`. @default 5000 */
  callTimeoutMs?: number;
  /** How long `stop()` gives each top-level process to stop before killing it. @default 5000 */
  shutdownTimeoutMs?: number;
  /**
   * How long `rpc.unexpose` and `stop()` wait for the calls a withdrawn service is still running.
   * @default 15000
   */
  drainTimeoutMs?: number;
}

/** Defaults of {@link NodeOptions}. */
export const NODE_DEFAULTS = Object.freeze({
  name: 'cohort',
  host: '127.0.0.1',
  port: 0,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxQueueBytes: 64 * 1024 * 1024,
  codec: 'msgpack' as CodecName,
  handshakeTimeoutMs: 5_000,
  connectTimeoutMs: 3_000,
  discoveryIntervalMs: 30_000,
  callTimeoutMs: 5_000,
  shutdownTimeoutMs: 5_000,
  drainTimeoutMs: 15_000,
});

/** The options after validation, with every default applied. */
export interface ResolvedNodeOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly advertiseHost: string;
  readonly discovery: Discovery[];
  readonly secret: string | undefined;
  /** Whether links encrypt their own frames (false with TLS, which encrypts the stream). */
  readonly encryption: boolean;
  readonly tls: TlsOptions | undefined;
  readonly meta: Record<string, string>;
  readonly membership: MembershipTimings;
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly codec: Codec;
  readonly transport: StreamTransport;
  readonly handshakeTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly discoveryIntervalMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly callTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly drainTimeoutMs: number;
}

const OPTION_KEYS: readonly (keyof NodeOptions)[] = [
  'name',
  'host',
  'port',
  'advertiseHost',
  'seeds',
  'discovery',
  'secret',
  'encryption',
  'insecure',
  'meta',
  'membership',
  'maxFrameBytes',
  'maxQueueBytes',
  'codec',
  'transport',
  'handshakeTimeoutMs',
  'connectTimeoutMs',
  'discoveryIntervalMs',
  'clock',
  'random',
  'logger',
  'callTimeoutMs',
  'shutdownTimeoutMs',
  'drainTimeoutMs',
];

/** Validates `Node.start` options and applies defaults. @throws CohortError `INVALID_OPTION`. */
export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CohortError('INVALID_OPTION', `Node.start options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key as keyof NodeOptions)) {
      throw new CohortError('INVALID_OPTION', `unknown option '${key}'; known options: ${OPTION_KEYS.join(', ')}`, {
        details: { option: key },
      });
    }
  }
  const option = <T>(key: keyof NodeOptions, check: () => T): T => {
    try {
      return check();
    } catch (cause) {
      throw new CohortError('INVALID_OPTION', `invalid option '${key}': ${(cause as Error).message}`, { cause, details: { option: key } });
    }
  };
  const positive = (key: keyof typeof NODE_DEFAULTS & keyof NodeOptions) =>
    option(key, () => {
      const v = options[key] ?? NODE_DEFAULTS[key];
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`expected a positive number, got ${describe(v)}`);
      return v;
    });

  const name = option('name', () => validateNodeName(options.name ?? NODE_DEFAULTS.name));
  const host = option('host', () => validateHost(options.host ?? NODE_DEFAULTS.host));
  const port = option('port', () => validatePort(options.port ?? NODE_DEFAULTS.port, true));
  const secret = option('secret', () => {
    const s = options.secret;
    if (s === undefined) return undefined;
    if (typeof s !== 'string' || s.length < 16) {
      throw new Error('expected a string of at least 16 characters (a short secret is easy to guess offline)');
    }
    return s;
  });
  const tls = option('encryption', () => {
    const e = options.encryption;
    if (typeof e !== 'object' || e === null) return undefined;
    if (!('tls' in e)) throw new Error('expected true, false or { tls: { cert, key, ca } }');
    return checkTlsOptions(e.tls);
  });
  const encryption = option('encryption', () => {
    const e = options.encryption;
    if (tls !== undefined) return false;
    if (e === undefined) return secret !== undefined;
    if (typeof e !== 'boolean') throw new Error(`expected true, false or { tls: { cert, key, ca } }, got ${describe(e)}`);
    if (e && secret === undefined) throw new Error('encryption needs a secret (the keys are bound to it) or { tls: { cert, key, ca } }');
    return e;
  });
  option('insecure', () => {
    const insecure = options.insecure ?? false;
    if (typeof insecure !== 'boolean') throw new Error(`expected true or false, got ${describe(insecure)}`);
    if (secret === undefined && tls === undefined && !insecure && !isLoopback(host)) {
      throw new Error(
        `a node without a secret or TLS certificates listens on loopback only; to listen on ${host}, set a secret (recommended), encryption: { tls }, or insecure: true`,
      );
    }
    return insecure;
  });
  const advertiseHost = option('advertiseHost', () => {
    const h = validateHost(options.advertiseHost ?? host);
    if (h === '0.0.0.0' || h === '::') throw new Error(`${h} is a wildcard; give the address other nodes reach this one at`);
    return h;
  });
  const discovery = option('discovery', () => {
    const list: Discovery[] = [];
    const seeds = options.seeds ?? [];
    if (!Array.isArray(seeds) || seeds.some((s) => typeof s !== 'string')) throw new Error('seeds must be an array of strings');
    if (seeds.length > 0) list.push(staticDiscovery(seeds));
    if (options.discovery !== undefined) {
      const d = options.discovery;
      for (const one of Array.isArray(d) && d.every((x) => typeof x !== 'string') ? d : [d]) list.push(resolveDiscovery(one as never));
    }
    return list;
  });
  const meta = option('meta', () => {
    const m = options.meta ?? {};
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error(`expected an object of strings, got ${describe(m)}`);
    for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') throw new Error(`meta.${k} must be a string, got ${describe(v)}`);
    return { ...m };
  });
  const membership = option('membership', () => {
    const m = options.membership ?? {};
    if (typeof m !== 'object' || m === null) throw new Error(`expected an object of timings, got ${describe(m)}`);
    return { ...m };
  });
  const codec = option('codec', () => resolveCodec(options.codec ?? NODE_DEFAULTS.codec));
  const transport = option('transport', () => {
    // Outgoing connections leave from the listen address, so peers see this node's own IP.
    const local = host === '0.0.0.0' || host === '::' || isIP(host) === 0 ? {} : { localAddress: host };
    if (options.transport !== undefined && tls !== undefined) throw new Error('give either transport or encryption: { tls }, not both');
    const t = options.transport ?? (tls !== undefined ? tlsTransport(tls, local) : tcpTransport(local));
    if (typeof t?.listen !== 'function' || typeof t.connect !== 'function') throw new Error('expected a stream transport with listen and connect');
    return t;
  });
  const clock = option('clock', () => {
    const c = options.clock ?? systemClock;
    if (typeof c?.now !== 'function' || typeof c.setTimeout !== 'function' || typeof c.setInterval !== 'function' || typeof c.wallTime !== 'function') {
      throw new Error('expected a Clock with now, wallTime, setTimeout and setInterval');
    }
    return c;
  });
  const random = option('random', () => {
    const r = options.random ?? Math.random;
    if (typeof r !== 'function') throw new Error(`expected a function returning numbers in [0, 1), got ${describe(r)}`);
    return r;
  });
  const logger = option('logger', () => {
    const l = options.logger ?? silentLogger;
    for (const m of ['debug', 'info', 'warn', 'error'] as const) {
      if (typeof l?.[m] !== 'function') throw new Error(`expected a logger with debug, info, warn and error functions (missing ${m})`);
    }
    return l;
  });
  const maxFrameBytes = option('maxFrameBytes', () => {
    const v = options.maxFrameBytes ?? NODE_DEFAULTS.maxFrameBytes;
    if (!Number.isSafeInteger(v) || v < MIN_FRAME_BYTES || v > MAX_FRAME_BYTES) {
      throw new Error(`expected an integer from ${MIN_FRAME_BYTES} to ${MAX_FRAME_BYTES} (bytes), got ${describe(v)}`);
    }
    return v;
  });
  const maxQueueBytes = positive('maxQueueBytes');
  option('maxQueueBytes', () => {
    if (maxQueueBytes < maxFrameBytes) {
      throw new Error(`${maxQueueBytes} is less than maxFrameBytes (${maxFrameBytes}): a message up to maxFrameBytes must fit the send queue`);
    }
  });
  return {
    name,
    host,
    port,
    advertiseHost,
    discovery,
    secret,
    encryption,
    tls,
    meta,
    membership,
    maxFrameBytes,
    maxQueueBytes,
    codec,
    transport,
    handshakeTimeoutMs: positive('handshakeTimeoutMs'),
    connectTimeoutMs: positive('connectTimeoutMs'),
    discoveryIntervalMs: positive('discoveryIntervalMs'),
    clock,
    random,
    logger,
    callTimeoutMs: positive('callTimeoutMs'),
    shutdownTimeoutMs: positive('shutdownTimeoutMs'),
    drainTimeoutMs: positive('drainTimeoutMs'),
  };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}
