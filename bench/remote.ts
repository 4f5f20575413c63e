/**
 * `npm run bench:remote`: remote call throughput and latency between two processes on loopback,
 * cohort against the limit (a raw socket) and against Moleculer.
 *
 * Every subject answers the same ~100-byte message (`{ type: 'echo', data: <80 characters> }`)
 * with itself, and is measured three ways: sequential calls (await each before the next) with
 * p50/p99 latency, and waves of 16 and of 256 calls in flight (issued together, awaited together,
 * repeated). The subjects:
 * - raw: `node:net`, each frame a u32 big-endian length and a msgpackr payload `[id, message]`;
 *   the server decodes each request and encodes its reply; both sides gather the frames written
 *   in one tick into one socket write (queue + `queueMicrotask` flush). No timeouts, no checks:
 *   the most a remote call on Node.js can do here, which is the bar cohort is held to;
 * - raw sealed: the raw echo with every socket write sealed as an encrypted cohort link seals a
 *   frame, by cohort's own compiled cipher (`CipherState`): ChaCha20-Poly1305, one key per
 *   direction, a counter nonce; small frames in WebAssembly, large ones through node:crypto with
 *   the next cipher set up right after each write. It is what sealing each frame costs by itself,
 *   the floor under cohort's encryption cost;
 * - cohort plain and cohort encrypted: `node.call(pid, message, { timeoutMs: 5000 })` from one
 *   node to an echo GenServer on another; both nodes have a secret, with `encryption: false`
 *   (authenticated frames) or `true` (Noise, ChaCha20-Poly1305);
 * - cohort TLS: the same over TLS 1.3 (`encryption: { tls }`, a certificate made for the run),
 *   where node's TLS stream encrypts in native code;
 * - moleculer: `broker.call('echo.echo', message)` to an action that returns its params, over
 *   Moleculer's TCP transporter with its default JSON serializer, UDP discovery off and the
 *   server's address given as a static url. Moleculer's TCP listener has no host option and binds
 *   every interface; the benchmark replaces its `listen` so it binds 127.0.0.1 (see
 *   `LoopbackTcpTransporter`), and makes both brokers advertise 127.0.0.1.
 *
 * Method:
 * - cohort is measured as compiled JavaScript: the run first compiles `src/` with `tsc` into a
 *   temporary directory (see `compile.ts`; removed afterwards); `--source` measures the
 *   TypeScript sources through tsx instead (about 2× slower per call).
 * - Each subject has its own two processes, both on 127.0.0.1 with ports picked by the OS: the
 *   server (echo side), and the client that measures. This process only steers them over IPC, so
 *   no subject's JIT feedback or heap slows another. The server tells its address to this process,
 *   which starts the client with it.
 * - Every subject warms up in each mode; then `rounds` timed rounds of `durationMs` run
 *   interleaved across subjects and modes, so background load and CPU drift spread evenly; the
 *   median round is reported (every round is in the JSON). A ratio of two subjects is the median of
 *   their ratios within each round, which cancels a change of the machine's speed between rounds.
 * - CPU per call: the CPU time (user + system) the client and the server used during each round,
 *   divided by the calls of the round; the median round is reported. It is not a target, but it
 *   explains the figures and varies less than calls/s when other work shares the machine: time a
 *   process waits for a CPU it does not get is not counted.
 * - Latency: `latencySamples` sequential calls timed one by one after the rounds.
 * - Time comes from `performance.now()`. On 2 cores the whole run takes about 3 minutes; `--quick`
 *   about 30 s (a smoke run, too short to compare). Other work on the machine skews every figure:
 *   the run warns when the load average was high before it started.
 * - A subject that fails (to start, or during a round) is reported with its error, and the others
 *   are measured anyway; ratios that need it are left out.
 *
 * It reports the CPU per call of every subject and the ratios of calls/s cohort/raw,
 * cohort-encrypted/cohort-plain (what encryption costs), raw-sealed/raw (what sealing each frame
 * costs at the least), cohort-tls/cohort-plain and cohort/moleculer, checks them against the
 * targets, and writes everything to `.bench-results/remote.json` (gitignored).
 *
 * Usage: `npm run bench:remote [-- --quick] [-- --source]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Packr } from 'msgpackr';
import { generate } from 'selfsigned';
import type * as CohortModule from '../src/index.js';
import type { Behavior, Pid, ProcessRef } from '../src/index.js';
import type * as CryptoModule from '../src/transport/crypto/index.js';
import type { CipherState } from '../src/transport/crypto/index.js';
import type * as WasmAeadModule from '../src/transport/crypto/wasm-aead.js';
import { compileSources } from './compile.js';
import { latency, median, table, type Latency } from './stats.js';

type Cohort = typeof CohortModule;
/** The compiled cipher modules the raw sealed echo seals with. */
type CryptoModules = typeof CryptoModule & typeof WasmAeadModule;

/** Loads the compiled cohort a subject measures, or its cipher alone. */
interface Loaders {
  cohort(): Promise<Cohort>;
  crypto(): Promise<CryptoModules>;
}

// --- configuration ---------------------------------------------------------------------------

interface BenchConfig {
  /** Warm-up per subject and mode before the timed rounds. */
  readonly warmupMs: number;
  /** Length of one timed round of one subject in one mode. */
  readonly durationMs: number;
  /** Timed rounds per subject and mode; the median is reported. */
  readonly rounds: number;
  /** Sequential calls timed one by one for the latency percentiles. */
  readonly latencySamples: number;
}

const FULL: BenchConfig = { warmupMs: 500, durationMs: 1_000, rounds: 7, latencySamples: 20_000 };
const QUICK: BenchConfig = { warmupMs: 150, durationMs: 250, rounds: 2, latencySamples: 2_000 };

/** Calls in flight per mode: 1 is the sequential mode. */
const IN_FLIGHT = [1, 16, 256] as const;
type InFlight = (typeof IN_FLIGHT)[number];
const MODE_KEY = { 1: 'sequential', 16: 'inFlight16', 256: 'inFlight256' } as const satisfies Record<InFlight, string>;
type ModeKey = (typeof MODE_KEY)[InFlight];

const LOOPBACK = '127.0.0.1';
const SECRET = 'cohort remote benchmark secret';
const CALL_TIMEOUT_MS = 5_000;
/** The longest wait for a child to start, answer a command, or exit. */
const START_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 5_000;

interface EchoMessage {
  readonly type: 'echo';
  readonly data: string;
}
/** The message every subject echoes: about 100 bytes on the wire as JSON or MessagePack. */
const MESSAGE: EchoMessage = { type: 'echo', data: 'cohort remote benchmark: eighty characters of payload to echo back and forth ...' };

// --- subjects --------------------------------------------------------------------------------

/** The echo side, running in the server process. */
interface EchoServer {
  /** What a client needs to reach it (plain data: it crosses IPC). */
  readonly address: unknown;
  stop(): Promise<void>;
}

/** The calling side, running in the client process. */
interface EchoClient {
  /** One call with {@link MESSAGE}; resolves with the reply. */
  call(): Promise<unknown>;
  stop(): Promise<void>;
}

interface Subject {
  /** A stable key: `raw`, `raw-sealed`, `cohort-plain`, `cohort-encrypted`, `cohort-tls`, `moleculer`. */
  readonly name: string;
  readonly label: string;
  serve(load: Loaders): Promise<EchoServer>;
  connect(address: unknown, load: Loaders): Promise<EchoClient>;
}

/**
 * Length-prefixed frames on a socket. Frames sent in the same tick leave in one socket write;
 * `onFrame` gets each frame's payload (a view into the received bytes). With a {@link Sealer},
 * each write is one sealed frame around the frames of that tick, as an encrypted cohort link
 * bundles its records.
 */
class FramedSocket {
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #pending: Buffer | undefined;

  constructor(
    readonly socket: Socket,
    private readonly onFrame: (payload: Buffer) => void,
    private readonly sealer?: Sealer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  send(payload: Buffer): void {
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(payload.length, 0);
    if (this.#queue.length === 0) queueMicrotask(this.#flush);
    this.#queue.push(header, payload);
    this.#queuedBytes += 4 + payload.length;
  }

  readonly #flush = (): void => {
    const bytes = Buffer.concat(this.#queue, this.#queuedBytes);
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.sealer === undefined) {
      this.socket.write(bytes);
      return;
    }
    const frame = this.sealer.seal(bytes);
    frame.writeUInt32BE(frame.length - 4, 0);
    this.socket.write(frame);
    this.sealer.prepare();
  };

  #receive(chunk: Buffer): void {
    const buf = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at);
      if (buf.length - at - 4 < length) break;
      const frame = buf.subarray(at + 4, at + 4 + length);
      if (this.sealer === undefined) this.onFrame(frame);
      else this.#unbundle(this.sealer.open(frame));
      at += 4 + length;
    }
    this.#pending = at === buf.length ? undefined : buf.subarray(at);
  }

  /** The frames inside an opened one. */
  #unbundle(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; ) {
      const length = bytes.readUInt32BE(at);
      this.onFrame(bytes.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
  }
}

/**
 * ChaCha20-Poly1305 per frame with cohort's own cipher states (the compiled `CipherState`), as an
 * encrypted cohort link seals its frames: a key per direction, the Noise nonce (4 zero bytes, a
 * 64-bit little-endian counter), small frames in WebAssembly and large ones through node:crypto,
 * whose setup for the next frame is made in `prepare`, right after a write. A frame that fails to
 * open throws, which breaks the benchmark's socket.
 */
class Sealer {
  readonly #send: CipherState;
  readonly #receive: CipherState;

  private constructor(send: CipherState, receive: CipherState) {
    this.#send = send;
    this.#receive = receive;
  }

  /**
   * Loads the compiled cipher and waits for its WebAssembly part; returns what makes the sealer
   * of one connection, with keys derived from the benchmark's secret, one per direction.
   */
  static async factory(role: 'client' | 'server', load: Loaders): Promise<() => Sealer> {
    const crypto = await load.crypto();
    await crypto.loadWasmAead();
    const key = (direction: string) => createHash('sha256').update(`${SECRET}/${direction}`).digest();
    return () => {
      const sealer = new Sealer(new crypto.CipherState(key(role === 'client' ? 'to-server' : 'to-client')), new crypto.CipherState(key(role === 'client' ? 'to-client' : 'to-server')));
      sealer.prepare();
      return sealer;
    };
  }

  prepare(): void {
    this.#send.prepare('encrypt');
    this.#receive.prepare('decrypt');
  }

  /** The sealed frame, after 4 bytes left free for its length prefix. */
  seal(plain: Buffer): Buffer {
    return this.#send.encryptAfter(4, plain);
  }

  open(frame: Buffer): Buffer {
    const plain = this.#receive.decrypt(frame);
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  }
}

/** Plain MessagePack (maps, no records), as msgpackr's own `pack` writes it. */
const packr = new Packr({ useRecords: false });

const rawSubject = (sealed: boolean): Subject => ({
  name: sealed ? 'raw-sealed' : 'raw',
  label: sealed ? 'raw socket, each write sealed' : 'raw socket (net + msgpackr)',
  async serve(load) {
    const makeSealer = sealed ? await Sealer.factory('server', load) : undefined;
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      const framed = new FramedSocket(
        socket,
        (payload) => {
          const [id, message] = packr.unpack(payload) as [number, unknown];
          framed.send(packr.pack([id, message]));
        },
        makeSealer?.(),
      );
    });
    const port = await listen(server);
    return {
      address: { port },
      stop: async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  },
  async connect(address, load) {
    const { port } = address as { port: number };
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: LOOPBACK, port }, () => (s.off('error', reject), resolve(s)));
      s.once('error', reject);
    });
    const waiting = new Map<number, (reply: unknown) => void>();
    let lastId = 0;
    const framed = new FramedSocket(
      socket,
      (payload) => {
        const [id, message] = packr.unpack(payload) as [number, unknown];
        const resolve = waiting.get(id);
        waiting.delete(id);
        resolve?.(message);
      },
      sealed ? (await Sealer.factory('client', load))() : undefined,
    );
    socket.on('error', () => {}); // a broken socket shows up as calls that never answer: the command times out
    return {
      call: () =>
        new Promise((resolve) => {
          const id = ++lastId;
          waiting.set(id, resolve);
          framed.send(packr.pack([id, MESSAGE]));
        }),
      stop: async () => void socket.destroy(),
    };
  },
});

/** The echo GenServer: replies with the message it got. */
const echo: Behavior<void, null, EchoMessage, EchoMessage> = {
  init: () => null,
  handleCall: (message, state) => [message, state],
};

/** Where the echo process is: the server node's id and the pid, as plain data; and the certificate to use over TLS. */
interface CohortAddress {
  readonly node: string;
  readonly pid: Pid;
  readonly tls?: TlsPems;
}

/** A certificate for 127.0.0.1 with its key, and the CA that signed it (PEM). */
interface TlsPems {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** How a cohort subject's links are protected. */
type Protection = 'plain' | 'encrypted' | 'tls';

/** A CA made for this run and a certificate it signed for 127.0.0.1, which both nodes present. */
async function runCertificate(): Promise<TlsPems> {
  const options = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;
  const ca = await generate([{ name: 'commonName', value: 'cohort benchmark CA' }], {
    ...options,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'cohort benchmark node' }], {
    ...options,
    ca: { cert: ca.cert, key: ca.private },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: LOOPBACK }] },
    ],
  });
  return { cert: leaf.cert, key: leaf.private, ca: ca.cert };
}

const COHORT_LABELS = {
  plain: 'cohort node.call, plain',
  encrypted: 'cohort node.call, encrypted',
  tls: 'cohort node.call, TLS 1.3',
} as const satisfies Record<Protection, string>;

const cohortSubject = (protection: Protection): Subject => ({
  name: `cohort-${protection}`,
  label: COHORT_LABELS[protection],
  async serve(load) {
    const { Node } = await load.cohort();
    const tls = protection === 'tls' ? await runCertificate() : undefined;
    const encryption = tls === undefined ? protection === 'encrypted' : { tls };
    const node = await Node.start({ name: 'server', host: LOOPBACK, port: 0, secret: SECRET, encryption });
    try {
      node.behaviors.register('echo', echo);
      const ref = await node.spawn('echo');
      const address: CohortAddress = { node: node.id, pid: { node: ref.node, incarnation: ref.incarnation, id: ref.id }, ...(tls === undefined ? {} : { tls }) };
      return { address, stop: () => node.stop() };
    } catch (error) {
      await node.stop();
      throw error;
    }
  },
  async connect(address, load) {
    const { node: serverId, pid, tls } = address as CohortAddress;
    const { Node } = await load.cohort();
    const encryption = tls === undefined ? protection === 'encrypted' : { tls };
    const node = await Node.start({ name: 'client', host: LOOPBACK, port: 0, seeds: [serverId], secret: SECRET, encryption });
    try {
      await bounded(
        new Promise<void>((resolve) => {
          const up = () => node.members().some((m) => m.id === serverId && m.status === 'alive');
          if (up()) return resolve();
          const off = node.on('nodeUp', () => {
            if (!up()) return;
            off();
            resolve();
          });
        }),
        10_000,
        `${serverId} did not show up as alive in the client's members`,
      );
      const ref = pid as ProcessRef<typeof echo>;
      return { call: () => node.call(ref, MESSAGE, { timeoutMs: CALL_TIMEOUT_MS }), stop: () => node.stop() };
    } catch (error) {
      await node.stop();
      throw error;
    }
  },
});

/** What the benchmark touches of moleculer 0.15's TcpReader (`src/transporters/tcp/tcp-reader.js`). */
interface MoleculerTcpReader {
  opts: { port?: number | null };
  server: Server | null;
  connected: boolean;
  listen(): Promise<number>;
  onTcpClientConnected(socket: Socket): void;
}

/** A Moleculer broker on the TCP transporter, on 127.0.0.1 only, logger off, JSON serializer. */
async function moleculerBroker(nodeID: string, urls: string | undefined) {
  const { ServiceBroker, Transporters } = await import('moleculer');
  /**
   * Moleculer's TCP transporter, with its listener on 127.0.0.1: its TcpReader listens on every
   * interface and has no host option, so the reader's `listen` is replaced, as the transporter
   * creates the reader, by the same steps bound to 127.0.0.1.
   */
  class LoopbackTcpTransporter extends Transporters.TCP {
    private loopbackReader: MoleculerTcpReader | null = null;
    get reader(): MoleculerTcpReader | null {
      return this.loopbackReader;
    }
    set reader(reader: MoleculerTcpReader | null) {
      if (reader !== null) reader.listen = () => listenOnLoopback(reader);
      this.loopbackReader = reader;
    }
  }
  const transporter = new LoopbackTcpTransporter({ udpDiscovery: false, useHostname: true, ...(urls === undefined ? {} : { urls }) });
  const broker = new ServiceBroker({ nodeID, namespace: 'cohort-bench', logger: false, skipProcessEventRegistration: true, transporter });
  // Advertise 127.0.0.1 rather than the host name and the interfaces' addresses.
  const local = broker.registry.nodes.localNode;
  if (local === undefined) throw new Error('moleculer: the broker has no local node');
  local.hostname = LOOPBACK;
  local.ipList = [LOOPBACK];
  return broker;
}

/** moleculer's `TcpReader.listen`, bound to 127.0.0.1. */
function listenOnLoopback(reader: MoleculerTcpReader): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => reader.onTcpClientConnected(socket));
    reader.server = server;
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: reader.opts.port ?? 0, exclusive: true }, () => {
      const port = (server.address() as AddressInfo).port;
      reader.opts.port = port;
      reader.connected = true;
      resolve(port);
    });
  });
}

const moleculer: Subject = {
  name: 'moleculer',
  label: 'moleculer TCP (JSON)',
  async serve() {
    const broker = await moleculerBroker('server', undefined);
    broker.createService({ name: 'echo', actions: { echo: (ctx) => ctx.params } });
    await broker.start();
    const port = broker.registry.nodes.localNode?.port;
    return { address: { port }, stop: () => broker.stop() };
  },
  async connect(address) {
    const { port } = address as { port: number };
    const broker = await moleculerBroker('client', `${LOOPBACK}:${port}/server`);
    try {
      await broker.start();
      await broker.waitForServices('echo', 10_000);
      return { call: () => broker.call('echo.echo', MESSAGE, { timeout: CALL_TIMEOUT_MS }), stop: () => broker.stop() };
    } catch (error) {
      await broker.stop();
      throw error;
    }
  },
};

const SUBJECTS: readonly Subject[] = [rawSubject(false), rawSubject(true), cohortSubject('plain'), cohortSubject('encrypted'), cohortSubject('tls'), moleculer];

// --- measurement (in the client process) -----------------------------------------------------

/** What one timed round measured in the client. */
interface Round {
  readonly callsPerSec: number;
  readonly calls: number;
  /** CPU time (user + system) this process used during the round, in µs. */
  readonly cpuUs: number;
}

/** Runs waves of `inFlight` calls (or runs of sequential calls) for at least `ms`. */
async function throughput(call: () => Promise<unknown>, inFlight: InFlight, ms: number): Promise<Round> {
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let elapsed = 0;
  const wave = new Array<Promise<unknown>>(inFlight);
  do {
    if (inFlight === 1) {
      for (let i = 0; i < 64; i++) await call();
      calls += 64;
    } else {
      for (let i = 0; i < inFlight; i++) wave[i] = call();
      await Promise.all(wave);
      calls += inFlight;
    }
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  const cpu = process.cpuUsage(cpu0);
  return { callsPerSec: (calls * 1000) / elapsed, calls, cpuUs: cpu.user + cpu.system };
}

// --- child processes -------------------------------------------------------------------------

type Command =
  /** (Servers) the CPU time this process has used so far, user + system, in µs. */
  | { readonly cmd: 'cpu' }
  | { readonly cmd: 'warmup'; readonly inFlight: InFlight }
  | { readonly cmd: 'round'; readonly inFlight: InFlight }
  | { readonly cmd: 'latency' }
  | { readonly cmd: 'stop' };

interface Answer {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

/** What a child is told through its environment. */
interface ChildSpec {
  readonly role: 'server' | 'client';
  readonly subject: string;
  readonly config: BenchConfig;
  /** The cohort module to import. */
  readonly url: string;
  /** The server's address (clients only). */
  readonly address?: unknown;
}

const benchFile = fileURLToPath(import.meta.url);
const CHILD_ENV = 'COHORT_REMOTE_BENCH_CHILD';

const errorText = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
};

/** Rejects with `what` if `promise` has not settled within `ms`. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (within ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The child side: start the server or client named in the environment, then answer commands. */
async function childMain(spec: ChildSpec): Promise<void> {
  // The parent went away (or is done): leave nothing behind.
  process.on('disconnect', () => process.exit(0));
  const answer = (a: Answer, then: () => void = () => {}) => process.send!(a, then);
  try {
    const subject = SUBJECTS.find((s) => s.name === spec.subject);
    if (subject === undefined) throw new Error(`unknown subject ${spec.subject}`);
    const load: Loaders = {
      cohort: () => import(spec.url) as Promise<Cohort>,
      crypto: async () => ({
        ...((await import(new URL('transport/crypto/index.js', spec.url).href)) as typeof CryptoModule),
        ...((await import(new URL('transport/crypto/wasm-aead.js', spec.url).href)) as typeof WasmAeadModule),
      }),
    };
    if (spec.role === 'server') {
      const server = await subject.serve(load);
      process.on('message', (c: Command) => {
        if (c.cmd === 'cpu') {
          const cpu = process.cpuUsage();
          return answer({ ok: true, value: cpu.user + cpu.system });
        }
        if (c.cmd !== 'stop') return answer({ ok: false, error: `a server does not ${c.cmd}` });
        server.stop().then(
          () => answer({ ok: true }, () => process.exit(0)),
          (error: unknown) => answer({ ok: false, error: errorText(error) }, () => process.exit(1)),
        );
      });
      answer({ ok: true, value: server.address });
      return;
    }
    const client = await subject.connect(spec.address, load);
    const reply = await client.call();
    if (JSON.stringify(reply) !== JSON.stringify(MESSAGE)) throw new Error(`the echo came back as ${JSON.stringify(reply)}`);
    const { config } = spec;
    const run = async (c: Command): Promise<unknown> => {
      switch (c.cmd) {
        case 'warmup':
          return throughput(client.call, c.inFlight, config.warmupMs);
        case 'round':
          return throughput(client.call, c.inFlight, config.durationMs);
        case 'latency':
          return latency(client.call, config.latencySamples);
        case 'cpu':
          throw new Error('a client does not cpu');
        case 'stop':
          return client.stop();
      }
    };
    process.on('message', (c: Command) => {
      run(c).then(
        (value) => answer({ ok: true, value }, c.cmd === 'stop' ? () => process.exit(0) : undefined),
        (error: unknown) => answer({ ok: false, error: errorText(error) }),
      );
    });
    answer({ ok: true });
  } catch (error) {
    answer({ ok: false, error: errorText(error) }, () => process.exit(1));
  }
}

/** Every child started, so none outlives this process. */
const children = new Set<ChildProcess>();
const killChildren = () => {
  for (const child of children) child.kill('SIGKILL');
};

/** A child process steered over IPC, one command at a time, each answer bounded in time. */
class Child {
  readonly #child: ChildProcess;
  readonly #name: string;
  readonly #exited: Promise<void>;
  #waiting: { resolve: (value: unknown) => void; reject: (error: Error) => void } | undefined;
  /** Resolves with the child's first answer (a server's address). */
  readonly ready: Promise<unknown>;

  constructor(spec: ChildSpec) {
    this.#name = `${spec.subject} ${spec.role}`;
    this.#child = spawn(process.execPath, ['--import', 'tsx', benchFile], {
      env: { ...process.env, [CHILD_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this.#child);
    this.#exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.on('message', (a: Answer) => {
      const w = this.#take();
      if (a.ok) w?.resolve(a.value);
      else w?.reject(new Error(`${this.#name}: ${a.error}`));
    });
    this.#child.on('error', (error) => this.#take()?.reject(error));
    this.#child.on('exit', (code, signal) => {
      children.delete(this.#child);
      this.#take()?.reject(new Error(`${this.#name} exited (code ${code}, signal ${signal})`));
    });
    this.ready = this.#next(START_TIMEOUT_MS);
  }

  #take() {
    const w = this.#waiting;
    this.#waiting = undefined;
    return w;
  }

  #next(ms: number): Promise<unknown> {
    if (this.#waiting !== undefined) return Promise.reject(new Error(`${this.#name}: a command is already running`));
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.reject(new Error(`${this.#name} has exited`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#take();
        this.kill();
        reject(new Error(`${this.#name}: no answer within ${ms} ms`));
      }, ms);
      this.#waiting = {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  send(command: Command): Promise<unknown> {
    const answer = this.#next(COMMAND_TIMEOUT_MS);
    this.#child.send(command);
    return answer;
  }

  /** Asks the child to stop and waits for it to exit; kills it if it does not in time. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.connected) {
      await this.send({ cmd: 'stop' }).catch(() => {});
    }
    await bounded(this.#exited, EXIT_TIMEOUT_MS, `${this.#name} did not exit`).catch(() => this.kill());
    await this.#exited;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

// --- orchestration (in this process) ---------------------------------------------------------

/** A subject's server and client processes, or why it could not be measured. */
interface Pair {
  readonly subject: Subject;
  server?: Child;
  client?: Child;
  error?: string;
}

async function startPair(subject: Subject, config: BenchConfig, url: string): Promise<Pair> {
  const pair: Pair = { subject };
  try {
    pair.server = new Child({ role: 'server', subject: subject.name, config, url });
    const address = await pair.server.ready;
    pair.client = new Child({ role: 'client', subject: subject.name, config, url, address });
    await pair.client.ready;
  } catch (error) {
    await fail(pair, error);
  }
  return pair;
}

/** Marks a pair failed and stops its processes. */
async function fail(pair: Pair, error: unknown): Promise<void> {
  pair.error ??= errorText(error);
  await Promise.all([pair.client?.stop(), pair.server?.stop()]);
}

/** Sends a command to a live pair's client (or server); on failure marks the pair failed and returns undefined. */
async function ask(pair: Pair, command: Command, side: 'client' | 'server' = 'client'): Promise<unknown> {
  const child = pair[side];
  if (pair.error !== undefined || child === undefined) return undefined;
  try {
    return await child.send(command);
  } catch (error) {
    await fail(pair, error);
    return undefined;
  }
}

/** One round: the client's figures and the server's CPU time during it. */
async function round(pair: Pair, inFlight: InFlight): Promise<{ callsPerSec: number; cpuPerCallUs: number } | undefined> {
  const before = await ask(pair, { cmd: 'cpu' }, 'server');
  const client = (await ask(pair, { cmd: 'round', inFlight })) as Round | undefined;
  const after = await ask(pair, { cmd: 'cpu' }, 'server');
  if (client === undefined || typeof before !== 'number' || typeof after !== 'number') return undefined;
  return { callsPerSec: client.callsPerSec, cpuPerCallUs: (client.cpuUs + after - before) / client.calls };
}

/** One subject's figures. */
interface SubjectResult {
  readonly subject: string;
  readonly label: string;
  /**
   * Per mode: the median calls/s and every round's; and the median CPU time per call, client and
   * server together, and every round's.
   */
  readonly modes: Partial<
    Record<ModeKey, { readonly callsPerSec: number; readonly rounds: readonly number[]; readonly cpuPerCallUs: number; readonly cpuRounds: readonly number[] }>
  >;
  readonly latency?: Latency;
  /** Why the subject was not (fully) measured. */
  readonly error?: string;
}

async function measure(config: BenchConfig, url: string): Promise<SubjectResult[]> {
  const pairs = await Promise.all(SUBJECTS.map((s) => startPair(s, config, url)));
  try {
    for (const pair of pairs) for (const inFlight of IN_FLIGHT) await ask(pair, { cmd: 'warmup', inFlight });
    const rounds = pairs.map(() => new Map<InFlight, { callsPerSec: number; cpuPerCallUs: number }[]>(IN_FLIGHT.map((n) => [n, []])));
    for (let r = 0; r < config.rounds; r++) {
      for (const inFlight of IN_FLIGHT) {
        for (const [i, pair] of pairs.entries()) {
          const value = await round(pair, inFlight);
          if (value !== undefined) rounds[i]!.get(inFlight)!.push(value);
        }
      }
    }
    const latencies: (Latency | undefined)[] = [];
    for (const pair of pairs) latencies.push((await ask(pair, { cmd: 'latency' })) as Latency | undefined);
    return pairs.map((pair, i) => {
      const modes: SubjectResult['modes'] = {};
      for (const inFlight of IN_FLIGHT) {
        const values = rounds[i]!.get(inFlight)!;
        if (values.length === 0) continue;
        const calls = values.map((v) => v.callsPerSec);
        const cpu = values.map((v) => v.cpuPerCallUs);
        modes[MODE_KEY[inFlight]] = { callsPerSec: median(calls), rounds: calls, cpuPerCallUs: median(cpu), cpuRounds: cpu };
      }
      const lat = latencies[i];
      return {
        subject: pair.subject.name,
        label: pair.subject.label,
        modes,
        ...(lat === undefined ? {} : { latency: lat }),
        ...(pair.error === undefined ? {} : { error: pair.error }),
      };
    });
  } finally {
    await Promise.all(pairs.map(async (p) => Promise.all([p.client?.stop(), p.server?.stop()])));
  }
}

// --- report ----------------------------------------------------------------------------------

/** `a/b` → calls/s of `a` divided by those of `b`, per mode. */
type Ratios = Record<string, Partial<Record<ModeKey, number>>>;

const RATIOS: readonly (readonly [string, string])[] = [
  ['cohort-plain', 'raw'],
  ['cohort-encrypted', 'raw'],
  ['cohort-encrypted', 'cohort-plain'],
  ['raw-sealed', 'raw'],
  ['cohort-tls', 'cohort-plain'],
  ['cohort-plain', 'moleculer'],
  ['cohort-encrypted', 'moleculer'],
];

/**
 * Each ratio is the median over rounds of the ratio within a round: the two subjects of a round
 * ran seconds apart, so a change in the machine's speed from one round to the next cancels out
 * (a ratio of the two medians could pair a fast round of one with a slow round of the other).
 * When a subject lost rounds, the rounds no longer pair up, and the ratio of the medians is used.
 */
function ratios(results: readonly SubjectResult[]): Ratios {
  const out: Ratios = {};
  const bySubject = new Map(results.map((r) => [r.subject, r]));
  for (const [a, b] of RATIOS) {
    const ra = bySubject.get(a);
    const rb = bySubject.get(b);
    const row: Partial<Record<ModeKey, number>> = {};
    for (const mode of Object.values(MODE_KEY)) {
      const x = ra?.modes[mode];
      const y = rb?.modes[mode];
      if (x === undefined || y === undefined) continue;
      const paired = x.rounds.length === y.rounds.length && y.rounds.every((v) => v > 0);
      if (paired) row[mode] = median(x.rounds.map((v, i) => v / y.rounds[i]!));
      else if (y.callsPerSec > 0) row[mode] = x.callsPerSec / y.callsPerSec;
    }
    if (Object.keys(row).length > 0) out[`${a}/${b}`] = row;
  }
  return out;
}

/** A target of the issue, checked against this run. */
interface TargetCheck {
  readonly target: string;
  /** The measured value (a ratio, or a cost as a fraction); undefined when it could not be measured. */
  readonly measured?: number;
  readonly met?: boolean;
}

function checkTargets(r: Ratios): TargetCheck[] {
  const check = (target: string, measured: number | undefined, ok: (x: number) => boolean): TargetCheck =>
    measured === undefined ? { target } : { target, measured, met: ok(measured) };
  const enc = r['cohort-encrypted/cohort-plain'];
  const costs = enc === undefined ? [] : Object.values(enc).map((x) => 1 - x);
  return [
    check('sequential: cohort-plain ≥ 0.9× raw', r['cohort-plain/raw']?.sequential, (x) => x >= 0.9),
    check('256 in flight: cohort-plain ≥ 0.7× raw', r['cohort-plain/raw']?.inFlight256, (x) => x >= 0.7),
    check('encryption costs ≤ 25 % (worst mode)', costs.length === 0 ? undefined : Math.max(...costs), (x) => x <= 0.25),
  ];
}

/** What encryption costs at the least (sealing each write of the raw echo), and what TLS 1.3 costs cohort, per mode. */
function encryptionContext(r: Ratios): string[] {
  const cost = (ratio: Partial<Record<ModeKey, number>> | undefined) =>
    ratio === undefined
      ? 'not measured'
      : Object.values(MODE_KEY)
          .map((mode) => `${ratio[mode] === undefined ? '—' : `${((1 - ratio[mode]) * 100).toFixed(0)} %`} ${MODE_LABEL[mode]}`)
          .join(', ');
  return [
    `sealing each write costs the raw echo: ${cost(r['raw-sealed/raw'])} (the floor under cohort's encryption cost)`,
    `encryption over TLS 1.3 costs cohort: ${cost(r['cohort-tls/cohort-plain'])}`,
  ];
}

const MODE_LABEL = { sequential: 'seq', inFlight16: '@16', inFlight256: '@256' } as const satisfies Record<ModeKey, string>;

const fmtOps = (x: number | undefined) => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const fmtUs = (x: number | undefined) => (x === undefined ? '—' : x < 10 ? `${x.toFixed(2)} µs` : `${x.toFixed(1)} µs`);
const fmtRatio = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}×`);

/** The widest spread of a subject's rounds, over its modes: ±(max - min) / 2 / median. */
function spread(s: SubjectResult): string {
  const spreads = Object.values(s.modes).map((m) => (Math.max(...m.rounds) - Math.min(...m.rounds)) / 2 / m.callsPerSec);
  return spreads.length === 0 ? '—' : `±${(Math.max(...spreads) * 100).toFixed(0)}%`;
}

function report(results: readonly SubjectResult[], r: Ratios, targets: readonly TargetCheck[]): string {
  const rows = results.map((s) => [
    s.label,
    fmtOps(s.modes.sequential?.callsPerSec),
    fmtUs(s.latency?.p50Us),
    fmtUs(s.latency?.p99Us),
    fmtOps(s.modes.inFlight16?.callsPerSec),
    fmtOps(s.modes.inFlight256?.callsPerSec),
    spread(s),
  ]);
  const lines = [table(['subject', 'seq calls/s', 'p50', 'p99', '@16 calls/s', '@256 calls/s', 'spread'], rows), ''];
  lines.push(table(['ratio of calls/s', 'seq', '@16', '@256'], Object.entries(r).map(([name, x]) => [name, fmtRatio(x.sequential), fmtRatio(x.inFlight16), fmtRatio(x.inFlight256)])));
  lines.push('');
  const cpuRows = results.map((s) => [s.label, fmtUs(s.modes.sequential?.cpuPerCallUs), fmtUs(s.modes.inFlight16?.cpuPerCallUs), fmtUs(s.modes.inFlight256?.cpuPerCallUs)]);
  lines.push(table(['CPU per call, client + server', 'seq', '@16', '@256'], cpuRows));
  lines.push('');
  for (const t of targets) {
    const value = t.measured === undefined ? 'not measured' : t.target.startsWith('encryption') ? `${(t.measured * 100).toFixed(0)} %` : fmtRatio(t.measured);
    lines.push(`  target ${t.target}: ${value}${t.met === undefined ? '' : t.met ? ' (met)' : ' (missed)'}`);
  }
  for (const line of encryptionContext(r)) lines.push(`  ${line}`);
  for (const s of results) if (s.error !== undefined) lines.push(`  ${s.subject} not (fully) measured: ${s.error}`);
  return lines.join('\n');
}

// --- main ------------------------------------------------------------------------------------

const root = join(dirname(benchFile), '..');
const outFile = join(root, '.bench-results', 'remote.json');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--quick' && a !== '--source');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(', ')}; usage: bench/remote.ts [--quick] [--source]`);
    process.exitCode = 2;
    return;
  }
  // Read before the compile, which loads the machine itself.
  const loadAverage = loadavg()[0]!;
  const quick = args.includes('--quick');
  const config = quick ? QUICK : FULL;
  let url = pathToFileURL(join(root, 'src', 'index.ts')).href;
  let cleanup = async () => {};
  const kind = args.includes('--source') ? 'source' : 'compiled';
  let removeSync = () => {};
  if (kind === 'compiled') {
    const compiled = await compileSources(root);
    url = pathToFileURL(compiled.entry).href;
    cleanup = compiled.cleanup;
    removeSync = compiled.removeSync;
  }
  // No child outlives this process, and the compiled copy goes with it.
  process.on('exit', killChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killChildren();
      removeSync();
      process.exit(130);
    });
  }
  try {
    await run(config, url, kind, quick, loadAverage);
  } finally {
    await cleanup();
  }
}

async function run(config: BenchConfig, url: string, kind: 'compiled' | 'source', quick: boolean, loadAverage: number): Promise<void> {
  const moleculerVersion = (await import('moleculer')).MOLECULER_VERSION;
  const env = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: availableParallelism(),
    moleculer: moleculerVersion,
    /** The 1-minute load average before the run: other work on the machine skews every figure. */
    loadAverage,
  };
  const bytes = { json: Buffer.byteLength(JSON.stringify(MESSAGE)), msgpack: packr.pack(MESSAGE).length };
  console.log(`cohort remote benchmark: node ${env.node}, ${env.platform}, ${env.cpu} (${env.cpus} CPUs)`);
  console.log(
    `${quick ? 'quick run; ' : ''}echo of a ${bytes.msgpack}-byte message (MessagePack; ${bytes.json} bytes as JSON) between two processes on 127.0.0.1; ` +
      `cohort ${kind === 'compiled' ? 'compiled by tsc' : 'from the TypeScript sources via tsx (slower)'}; moleculer ${moleculerVersion} TCP transporter, JSON serializer\n` +
      `warm-up ${config.warmupMs} ms per mode, ${config.rounds} interleaved rounds × ${config.durationMs} ms, median reported, ratios the median of the ratios within each round; ` +
      `p50/p99 of ${config.latencySamples.toLocaleString('en-US')} sequential calls timed one by one; @n = waves of n calls in flight\n`,
  );
  if (env.loadAverage > 0.5) {
    console.log(`warning: the machine was busy before the run (load average ${env.loadAverage.toFixed(2)} on ${env.cpus} CPUs): the figures may be noisy and low\n`);
  }
  const started = performance.now();
  const results = await measure(config, url);
  const r = ratios(results);
  const targets = checkTargets(r);
  console.log(report(results, r, targets));
  const json = { version: 1, measuredAt: new Date().toISOString(), env, quick, target: kind, config, messageBytes: bytes, results, ratios: r, targets };
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${join('.bench-results', 'remote.json')}`);
  if (results.some((s) => s.error !== undefined)) process.exitCode = 1;
}

/** Listens on 127.0.0.1, on a port the OS picks; returns the port. */
function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0 }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const childSpec = process.env[CHILD_ENV];
if (childSpec !== undefined) await childMain(JSON.parse(childSpec) as ChildSpec);
else {
  await main().catch((error: unknown) => {
    console.error(`bench failed: ${errorText(error)}`);
    process.exitCode = 1;
  });
}
