/**
 * The IPC protocol between the cluster harness (`cluster.ts`, in the test process) and each child
 * node (`node-main.ts`): the child's configuration, the messages both ways, the events a child
 * records, and the extension point through which later issues add commands.
 *
 * Everything here is plain data (it crosses `process.send`, i.e. JSON), except the types of the
 * extension context, which only the child uses.
 *
 * Times are epoch milliseconds with sub-millisecond precision (`performance.timeOrigin +
 * performance.now()`), so the parent can compare a time recorded in one process with one recorded
 * in another (both are anchored to the same wall clock when each process started).
 */
import type { Node, NodeOptions } from '../../src/node.js';
import type { FaultInjector } from '../../src/transport/faulty.js';
import type { ByteCounter } from './byte-counter.js';

/** The environment variable that carries a child's {@link ChildConfig} as JSON. */
export const CHILD_CONFIG_ENV = 'COHORT_HARNESS_NODE';

/** A cross-process timestamp: epoch milliseconds, sub-millisecond precision. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The `Node.start` options a child accepts: those that are plain data. The harness adds `host`
 * (from {@link ChildConfig.host}), the transport (TCP bound to that host, wrapped by a
 * `FaultInjector` and a byte counter) and a logger that forwards to the parent.
 */
export type ChildNodeOptions = Pick<
  NodeOptions,
  | 'name'
  | 'port'
  | 'advertiseHost'
  | 'seeds'
  | 'discovery'
  | 'secret'
  | 'encryption'
  | 'insecure'
  | 'meta'
  | 'membership'
  | 'maxFrameBytes'
  | 'maxQueueBytes'
  | 'handshakeTimeoutMs'
  | 'connectTimeoutMs'
  | 'discoveryIntervalMs'
  | 'callTimeoutMs'
  | 'shutdownTimeoutMs'
> & { codec?: 'msgpack' | 'json' };

/** Log levels a child forwards, lowest first; `none` forwards nothing. */
export type ForwardLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

/** What a child is told to be. */
export interface ChildConfig {
  /** The loopback address the node listens on and dials from, e.g. `127.0.0.12`. */
  readonly host: string;
  readonly options: ChildNodeOptions;
  /** Log entries at or above this level are forwarded as `log` events. @default 'info' */
  readonly logLevel?: ForwardLevel;
  /**
   * Record a `custom` event named `stream` for every stream the node's transport opens or closes:
   * `{ dir: 'in' | 'out', remote: 'host:port', what: 'open' | 'close' | 'connect-failed' }`.
   * @default false
   */
  readonly traceStreams?: boolean;
  /** Extension modules (absolute paths or file URLs) whose commands the child serves. */
  readonly modules?: readonly string[];
}

/** A membership event as a child saw it. */
export type MembershipRecord =
  | { readonly type: 'nodeUp' | 'suspect' | 'alive'; readonly node: string; readonly at: number }
  | { readonly type: 'nodeDown'; readonly node: string; readonly reason: 'left' | 'failed'; readonly at: number };

/** A log entry the child's node wrote (at or above the configured level). */
export interface LogRecord {
  readonly type: 'log';
  readonly level: Exclude<ForwardLevel, 'none'>;
  readonly message: string;
  readonly fields: Record<string, unknown>;
  readonly at: number;
}

/** An event an extension emitted with `ctx.emit(name, data)`. */
export interface CustomRecord {
  readonly type: 'custom';
  readonly name: string;
  readonly data: unknown;
  readonly at: number;
}

/** Anything a child records and the parent keeps, in order of arrival. */
export type HarnessEvent = MembershipRecord | LogRecord | CustomRecord;

/** What the child's `info` command and its `ready` message say about it. */
export interface ChildInfo {
  readonly id: string;
  readonly incarnation: number;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
}

/** Bytes the child's sockets carried, summed over every link it ever had (open and closed). */
export interface ByteTotals {
  /** Bytes read from sockets. */
  readonly in: number;
  /** Bytes written to sockets. */
  readonly out: number;
  /** How many streams were counted. */
  readonly streams: number;
}

/** Parent → child. */
export interface CommandMessage {
  readonly type: 'command';
  readonly seq: number;
  readonly name: string;
  readonly args: readonly unknown[];
}

/** Child → parent. */
export type ChildMessage =
  | ({ readonly type: 'ready' } & ChildInfo)
  | { readonly type: 'fatal'; readonly error: string }
  | { readonly type: 'event'; readonly event: HarnessEvent }
  | { readonly type: 'reply'; readonly seq: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly seq: number; readonly ok: false; readonly error: string; readonly code?: string };

/** What an extension's command handlers get: the child's node and its seams. */
export interface ChildContext {
  readonly node: Node;
  readonly faults: FaultInjector;
  readonly bytes: ByteCounter;
  readonly config: ChildConfig;
  /** Records a custom event in the parent's event log of this node. */
  emit(name: string, data?: unknown): void;
}

/**
 * A command the child serves: gets the context and the arguments the parent passed (plain data);
 * its result (plain data, or a promise of it) is the reply. A throw is an error reply.
 */
export type CommandHandler = (ctx: ChildContext, ...args: any[]) => unknown;

/**
 * An extension module: a file listed in {@link ChildConfig.modules} that exports `commands` (and
 * optionally `setup`, run once after the node started). Later issues add behaviours, services or
 * probes this way without touching the harness, e.g.
 *
 * @example
 * // test/harness/extensions/echo.ts
 * export const commands = { echo: (_ctx: ChildContext, x: unknown) => x };
 * // in a test
 * await TestCluster.start(3, { modules: [new URL('./extensions/echo.ts', import.meta.url).href] });
 * await cluster.node(0).command('echo', 42); // 42
 */
export interface HarnessExtension {
  readonly commands?: Readonly<Record<string, CommandHandler>>;
  readonly setup?: (ctx: ChildContext) => void | Promise<void>;
}
