/**
 * One cohort node in a child process, driven by the cluster harness (`cluster.ts`) over IPC.
 *
 * Started as `node --import tsx test/harness/node-main.ts` with a {@link ChildConfig} as JSON in
 * the `COHORT_HARNESS_NODE` environment variable (or as the first argument). It:
 * - starts `Node.start({ ...options, host, transport })` where the transport is TCP bound to
 *   `host` (so peers see this node's own loopback address), counted by a {@link ByteCounter} and
 *   wrapped by a `FaultInjector` (so the parent can block, delay or cut traffic per peer host);
 * - sends `{ type: 'ready', id, ... }` once listening, or `{ type: 'fatal' }` and exits 1;
 * - forwards `nodeUp`, `nodeDown` (with reason), `suspect` and `alive`, and log entries at or above
 *   `logLevel`, each stamped with a cross-process time;
 * - serves commands: `ping`, `info`, `members`, `block(host, dir)`, `delay(host, ms)`, `cut(host)`,
 *   `heal(host?)`, `rules`, `bytes`, `stop` (graceful `node.stop()`, then exit 0), plus the
 *   commands of the extension modules listed in `modules` (see {@link HarnessExtension}).
 *
 * It exits when the parent goes away (IPC disconnect), so a crashed test run leaves no node behind.
 */
import type { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { isCohortError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { Node } from '../../src/node.js';
import { FaultInjector, type FaultDirection } from '../../src/transport/faulty.js';
import type { StreamTransport } from '../../src/transport/stream-transport.js';
import { tcpTransport } from '../../src/transport/tcp.js';
import { ByteCounter } from './byte-counter.js';
import {
  CHILD_CONFIG_ENV,
  now,
  type ChildConfig,
  type ChildContext,
  type ChildInfo,
  type ChildMessage,
  type CommandHandler,
  type CommandMessage,
  type ForwardLevel,
  type HarnessEvent,
  type HarnessExtension,
} from './protocol.js';

const LEVELS: readonly ForwardLevel[] = ['debug', 'info', 'warn', 'error', 'none'];

function send(message: ChildMessage, then?: () => void): void {
  if (!process.connected) {
    then?.();
    return;
  }
  try {
    process.send!(message, undefined, {}, () => then?.());
  } catch {
    then?.();
  }
}

function record(event: HarnessEvent): void {
  send({ type: 'event', event });
}

/** Makes log fields plain data (errors become { name, message, code }). */
function plain(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  try {
    return JSON.parse(
      JSON.stringify(fields, (_k, v: unknown) =>
        typeof v === 'bigint' ? `${v}n` : v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v,
      ),
    ) as Record<string, unknown>;
  } catch {
    return { unserializable: true };
  }
}

function forwardingLogger(level: ForwardLevel): Logger {
  const min = LEVELS.indexOf(level);
  const at = (lvl: Exclude<ForwardLevel, 'none'>) =>
    LEVELS.indexOf(lvl) < min ? () => {} : (message: string, fields?: Record<string, unknown>) => record({ type: 'log', level: lvl, message, fields: plain(fields), at: now() });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function readConfig(): ChildConfig {
  const raw = process.env[CHILD_CONFIG_ENV] ?? process.argv[2];
  if (raw === undefined) throw new Error(`node-main: no config; set ${CHILD_CONFIG_ENV} to a JSON ChildConfig`);
  const config = JSON.parse(raw) as ChildConfig;
  if (typeof config.host !== 'string' || typeof config.options !== 'object') throw new Error('node-main: the config needs host and options');
  return config;
}

const DIRECTIONS: readonly FaultDirection[] = ['in', 'out', 'both'];

/** The commands every child serves. */
const builtins: Record<string, CommandHandler> = {
  ping: () => 'pong',
  info: (ctx): ChildInfo => info(ctx.node, ctx.config.host),
  members: (ctx) => ctx.node.members(),
  block: (ctx, host: string, direction: FaultDirection = 'both') => {
    if (!DIRECTIONS.includes(direction)) throw new Error(`block: direction must be in, out or both, got ${String(direction)}`);
    ctx.faults.block(host, direction);
  },
  delay: (ctx, host: string, ms: number) => ctx.faults.delay(host, ms),
  cut: (ctx, host: string) => ctx.faults.cut(host),
  heal: (ctx, host?: string | null) => ctx.faults.heal(host ?? undefined),
  rules: (ctx) => ctx.faults.rules(),
  bytes: (ctx) => ctx.bytes.totals(),
};

function info(node: Node, host: string): ChildInfo {
  return { id: node.id, incarnation: node.incarnation, pid: process.pid, host, port: Number(node.id.slice(node.id.lastIndexOf(':') + 1)) };
}

/** Reports every stream `inner` opens and closes (for diagnosing link churn). */
function tracing(inner: StreamTransport, emit: (data: unknown) => void): StreamTransport {
  const watch = (stream: Duplex, dir: 'in' | 'out', remote: string): Duplex => {
    emit({ dir, remote, what: 'open' });
    stream.once('close', () => emit({ dir, remote, what: 'close' }));
    return stream;
  };
  return {
    name: inner.name,
    listen: (address, onStream) => inner.listen(address, (stream, remote) => onStream(watch(stream, 'in', `${remote.host}:${remote.port}`), remote)),
    connect: async (address, timeoutMs) => {
      try {
        return watch(await inner.connect(address, timeoutMs), 'out', `${address.host}:${address.port}`);
      } catch (error) {
        emit({ dir: 'out', remote: `${address.host}:${address.port}`, what: 'connect-failed', error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
    },
  };
}

async function loadExtensions(modules: readonly string[]): Promise<HarnessExtension[]> {
  const out: HarnessExtension[] = [];
  for (const m of modules) {
    const url = m.startsWith('file:') ? m : pathToFileURL(m).href;
    const mod = (await import(url)) as HarnessExtension & { default?: HarnessExtension };
    out.push(mod.commands !== undefined || mod.setup !== undefined ? mod : (mod.default ?? {}));
  }
  return out;
}

async function main(): Promise<void> {
  // The parent is gone (test run over or crashed): nothing to serve any more.
  process.on('disconnect', () => process.exit(0));
  let config: ChildConfig;
  let node: Node;
  const faults = new FaultInjector();
  const bytes = new ByteCounter();
  let extensions: HarnessExtension[];
  try {
    config = readConfig();
    const traced = (t: StreamTransport) => (config.traceStreams === true ? tracing(t, (data) => record({ type: 'custom', name: 'stream', data, at: now() })) : t);
    extensions = await loadExtensions(config.modules ?? []);
    node = await Node.start({
      ...config.options,
      host: config.host,
      transport: faults.wrap(traced(bytes.wrap(tcpTransport({ localAddress: config.host })))),
      logger: forwardingLogger(config.logLevel ?? 'info'),
    });
  } catch (error) {
    send({ type: 'fatal', error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) }, () => process.exit(1));
    return;
  }
  const stamp = () => now();
  node.on('nodeUp', (e) => record({ type: 'nodeUp', node: e.node, at: stamp() }));
  node.on('nodeDown', (e) => record({ type: 'nodeDown', node: e.node, reason: e.reason, at: stamp() }));
  node.on('suspect', (e) => record({ type: 'suspect', node: e.node, at: stamp() }));
  node.on('alive', (e) => record({ type: 'alive', node: e.node, at: stamp() }));

  const ctx: ChildContext = { node, faults, bytes, config, emit: (name, data) => record({ type: 'custom', name, data: data ?? null, at: now() }) };
  const handlers = new Map<string, CommandHandler>(Object.entries(builtins));
  for (const ext of extensions) {
    for (const [name, fn] of Object.entries(ext.commands ?? {})) {
      if (handlers.has(name) || name === 'stop') throw new Error(`node-main: command '${name}' is defined twice`);
      handlers.set(name, fn);
    }
  }
  for (const ext of extensions) await ext.setup?.(ctx);

  let stopping = false;
  process.on('message', (raw: unknown) => {
    const m = raw as CommandMessage;
    if (m?.type !== 'command') return;
    if (m.name === 'stop') {
      if (stopping) return;
      stopping = true;
      node.stop().then(
        () => send({ type: 'reply', seq: m.seq, ok: true, value: null }, () => process.exit(0)),
        (error: unknown) => send({ type: 'reply', seq: m.seq, ok: false, error: String(error) }, () => process.exit(1)),
      );
      return;
    }
    const handler = handlers.get(m.name);
    void (async () => {
      try {
        if (handler === undefined) throw new Error(`unknown command '${m.name}'; known: ${[...handlers.keys(), 'stop'].join(', ')}`);
        const value = await handler(ctx, ...m.args);
        send({ type: 'reply', seq: m.seq, ok: true, value: value ?? null });
      } catch (error) {
        const code = isCohortError(error) ? error.code : undefined;
        send({ type: 'reply', seq: m.seq, ok: false, error: error instanceof Error ? error.message : String(error), ...(code === undefined ? {} : { code }) });
      }
    })();
  });
  send({ type: 'ready', ...info(node, config.host) });
}

await main();
