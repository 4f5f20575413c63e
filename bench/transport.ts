/**
 * Link benchmark: a bare request/response over one link between two processes on loopback, with
 * the link plain, authenticated with a secret, and authenticated and encrypted. Reports calls/s
 * sequentially and with 256 in flight, and the encrypted/plain ratio.
 *
 * The echo side runs in a child process (this file with `--echo <mode>`), so the two ends use
 * different cores as two nodes would. Run with `npx tsx bench/transport.ts [--quick]`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { secretKeys } from '../src/transport/handshake.js';
import { LinkManager } from '../src/transport/link-manager.js';
import { tcpTransport } from '../src/transport/tcp.js';

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
  echo.events.on('message', ({ peer, payload }) => echo.send(peer, payload));
  const address = await echo.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ port: address.port });
  process.on('disconnect', () => void echo.close().then(() => process.exit(0)));
}

interface Result {
  readonly mode: Mode;
  readonly sequential: number;
  readonly inFlight256: number;
}

async function measure(mode: Mode, durationMs: number): Promise<Result> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--echo', mode], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`echo process exited with ${code}`)));
    });
    const client = manager('client', mode, new Map([['echo', { host: '127.0.0.1', port }]]));
    await client.listen({ host: '127.0.0.1', port: 0 });
    let waiting: (() => void)[] = [];
    client.events.on('message', () => waiting.shift()?.());
    const call = () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        client.send('echo', PAYLOAD);
      });
    await client.connect('echo');
    const run = async (inFlight: number): Promise<number> => {
      const warm = performance.now();
      while (performance.now() - warm < durationMs / 4) await Promise.all(Array.from({ length: inFlight }, call));
      let done = 0;
      const start = performance.now();
      while (performance.now() - start < durationMs) {
        await Promise.all(Array.from({ length: inFlight }, call));
        done += inFlight;
      }
      return done / ((performance.now() - start) / 1000);
    };
    const sequential = await run(1);
    const inFlight256 = await run(256);
    waiting = [];
    await client.close();
    return { mode, sequential, inFlight256 };
  } finally {
    child.disconnect();
    child.kill();
  }
}

/** Measures every mode; returns the figures. */
export async function transportSection(quick = false): Promise<Result[]> {
  const results: Result[] = [];
  for (const mode of MODES) results.push(await measure(mode, quick ? 500 : 2_000));
  return results;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  console.log('cohort link benchmark: request/response of 100 bytes over one link, two processes on loopback (calls/s)\n');
  const results = await transportSection(quick);
  const plain = results.find((r) => r.mode === 'plain')!;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const rows = results.map((r) => [r.mode, fmt(r.sequential), fmt(r.inFlight256), `${(r.sequential / plain.sequential).toFixed(2)}×`, `${(r.inFlight256 / plain.inFlight256).toFixed(2)}×`]);
  const headers = ['link', 'sequential', '256 in flight', 'seq ÷ plain', '256 ÷ plain'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(headers));
  for (const r of rows) console.log(line(r));
}

const echoAt = process.argv.indexOf('--echo');
if (echoAt >= 0) await echoMain(process.argv[echoAt + 1] as Mode);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
