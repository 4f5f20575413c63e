/**
 * Link benchmark: a bare request/response over one link between two processes on loopback, with
 * the link plain, authenticated with a secret, and authenticated and encrypted. Reports calls/s
 * sequentially and with 256 in flight, and the encrypted/plain ratio.
 *
 * The echo side runs in a child process (this file with `--echo <mode>`), so the two ends use
 * different cores as two nodes would. All three links are set up first; then the modes are timed
 * in interleaved rounds and each figure is the median round, so load from other processes and
 * CPU drift do not favour one mode (3 rounds of 2 s per figure, about a minute in all).
 * Run with `npx tsx bench/transport.ts [--quick]` (`--quick`: one round of 0.5 s).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { secretKeys } from '../src/transport/handshake.js';
import { LinkManager } from '../src/transport/link-manager.js';
import { tcpTransport } from '../src/transport/tcp.js';
import { median } from './stats.js';

type Mode = 'plain' | 'authenticated' | 'encrypted';
const MODES: readonly Mode[] = ['plain', 'authenticated', 'encrypted'];
const SECRET = 'benchmark secret, long enough';
const PAYLOAD = Buffer.alloc(100, 7);

function manager(id: string, mode: Mode, peers: Map<string, { host: string; port: number }>): LinkManager {
  return new LinkManager({
    localId: id,
    instance: 'bench',
    streams: tcpTransport(),
    keys: mode === 'plain' ? undefined : secretKeys(SECRET),
    encrypt: mode === 'encrypted',
    maxFrameBytes: 16 * 1024 * 1024,
    maxQueueBytes: 256 * 1024 * 1024,
    handshakeTimeoutMs: 5_000,
    connectTimeoutMs: 5_000,
    logger: silentLogger,
    clock: systemClock,
    addressOf: (peer) => peers.get(peer),
  });
}

async function echoMain(mode: Mode): Promise<void> {
  const echo = manager('echo', mode, new Map());
  echo.onMessage((peer, buffer, start, end) => echo.send(peer, buffer.subarray(start, end)));
  const address = await echo.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ port: address.port });
  process.on('disconnect', () => void echo.close().then(() => process.exit(0)));
}

interface Result {
  readonly mode: Mode;
  readonly sequential: number;
  readonly inFlight256: number;
  /** (max − min) / median of the rounds, sequential and 256 in flight. */
  readonly spread: { readonly sequential: number; readonly inFlight256: number };
}

/** One mode under test: an echo process, and a client link to it in this process. */
interface Subject {
  readonly mode: Mode;
  /** Calls/s over `durationMs` with `inFlight` calls outstanding, after a warm-up of a quarter of that. */
  readonly run: (inFlight: number, durationMs: number) => Promise<number>;
  readonly stop: () => Promise<void>;
}

async function start(mode: Mode): Promise<Subject> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--echo', mode], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const kill = () => {
    child.disconnect();
    child.kill();
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`echo process exited with ${code}`)));
    });
    const client = manager('client', mode, new Map([['echo', { host: '127.0.0.1', port }]]));
    await client.listen({ host: '127.0.0.1', port: 0 });
    let waiting: (() => void)[] = [];
    client.onMessage(() => waiting.shift()?.());
    const call = () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        client.send('echo', PAYLOAD);
      });
    await client.connect('echo');
    const run = async (inFlight: number, durationMs: number): Promise<number> => {
      const warm = performance.now();
      while (performance.now() - warm < durationMs / 4) await Promise.all(Array.from({ length: inFlight }, call));
      let done = 0;
      const begin = performance.now();
      while (performance.now() - begin < durationMs) {
        await Promise.all(Array.from({ length: inFlight }, call));
        done += inFlight;
      }
      return done / ((performance.now() - begin) / 1000);
    };
    const stop = async () => {
      waiting = [];
      await client.close();
      kill();
    };
    return { mode, run, stop };
  } catch (error) {
    kill();
    throw error;
  }
}

const spreadOf = (values: readonly number[]) => (Math.max(...values) - Math.min(...values)) / median(values);

/**
 * Measures every mode; returns the figures. Every mode gets its own echo process and link, set up
 * before any timing; then `rounds` rounds run interleaved across the modes (plain, authenticated,
 * encrypted, plain, ...), so background load and CPU drift fall on all of them alike, and the
 * median round of each mode is reported.
 */
export async function transportSection(quick = false): Promise<Result[]> {
  const durationMs = quick ? 500 : 2_000;
  const rounds = quick ? 1 : 3;
  const subjects: Subject[] = [];
  try {
    for (const mode of MODES) subjects.push(await start(mode));
    const samples = new Map<Mode, { sequential: number[]; inFlight256: number[] }>(MODES.map((m) => [m, { sequential: [], inFlight256: [] }]));
    for (let round = 0; round < rounds; round += 1) {
      for (const subject of subjects) {
        const figures = samples.get(subject.mode)!;
        figures.sequential.push(await subject.run(1, durationMs));
        figures.inFlight256.push(await subject.run(256, durationMs));
      }
    }
    return MODES.map((mode) => {
      const { sequential, inFlight256 } = samples.get(mode)!;
      return {
        mode,
        sequential: median(sequential),
        inFlight256: median(inFlight256),
        spread: { sequential: spreadOf(sequential), inFlight256: spreadOf(inFlight256) },
      };
    });
  } finally {
    for (const subject of subjects) await subject.stop();
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  console.log('cohort link benchmark: request/response of 100 bytes over one link, two processes on loopback (calls/s)');
  console.log(quick ? 'quick: one round of 0.5 s per figure\n' : 'median of 3 rounds of 2 s per figure, modes interleaved; ± is the spread of the rounds\n');
  const results = await transportSection(quick);
  const plain = results.find((r) => r.mode === 'plain')!;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const pct = (x: number) => (quick ? '' : ` ±${Math.round(x * 100)}%`);
  const rows = results.map((r) => [
    r.mode,
    fmt(r.sequential) + pct(r.spread.sequential),
    fmt(r.inFlight256) + pct(r.spread.inFlight256),
    `${(r.sequential / plain.sequential).toFixed(2)}×`,
    `${(r.inFlight256 / plain.inFlight256).toFixed(2)}×`,
  ]);
  const headers = ['link', 'sequential', '256 in flight', 'seq ÷ plain', '256 ÷ plain'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(headers));
  for (const r of rows) console.log(line(r));
}

const echoAt = process.argv.indexOf('--echo');
if (echoAt >= 0) await echoMain(process.argv[echoAt + 1] as Mode);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
