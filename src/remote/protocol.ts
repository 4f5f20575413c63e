/**
 * The messages of the remote layer, carried as the body of cluster envelopes of type `proc`.
 *
 * Keys are short because every call pays for them. Every message from a peer is checked with
 * `readMessage` before use: a malformed one is reported and dropped, never thrown at the handler
 * that received it, and a pid that claims to live on a node other than its sender is refused.
 */
import type { WireError } from '../core/errors.js';
import { isPid, type NodeId, type Pid } from '../core/ids.js';
import { EXIT_REASONS, type ExitReason } from '../process/types.js';

/** The cluster message type of the remote layer. */
export const PROC = 'proc';

/** A request that expects an answer: `i` is the caller's request id. */
export type Request =
  /** Call `to`; `ms` is the time the caller still waits; `f` is the calling process, if any. */
  | { readonly t: 'call'; readonly i: number; readonly to: Pid; readonly m: unknown; readonly ms: number; readonly f?: Pid }
  /** Spawn registered behavior `b` with args `a`; `n` a name (global when `g`), `l` a pid to link. */
  | {
      readonly t: 'spawn';
      readonly i: number;
      readonly b: string;
      readonly a: unknown;
      readonly ms: number;
      readonly n?: string;
      readonly g?: boolean;
      readonly l?: Pid;
    }
  /** Stop `to` with reason `r`, killing it after `ms`. */
  | { readonly t: 'stop'; readonly i: number; readonly to: Pid; readonly r: ExitReason; readonly ms: number };

/** The answer to a request. */
export type Answer =
  | { readonly t: 'ok'; readonly i: number; readonly v: unknown }
  | { readonly t: 'err'; readonly i: number; readonly e: WireError }
  /** A spawn succeeded; the caller stops `p` again if it has given up. */
  | { readonly t: 'spawned'; readonly i: number; readonly p: Pid };

/** A message that expects no answer. */
export type Notice =
  | { readonly t: 'cast' | 'info'; readonly to: Pid; readonly m: unknown }
  /** Monitor `to` under the sender's `ref`. */
  | { readonly t: 'mon'; readonly ref: string; readonly to: Pid }
  | { readonly t: 'demon'; readonly ref: string }
  /** The process watched by monitor `ref` ended. */
  | { readonly t: 'down'; readonly ref: string; readonly r: ExitReason; readonly msg?: string }
  /** Sender's process `from` links to, unlinks from, or sends the exit signal of its end to `to`. */
  | { readonly t: 'link' | 'unlink'; readonly from: Pid; readonly to: Pid }
  | { readonly t: 'exit'; readonly from: Pid; readonly to: Pid; readonly r: ExitReason; readonly msg?: string };

export type RemoteMessage = Request | Answer | Notice;

const REASONS: ReadonlySet<string> = new Set(EXIT_REASONS);

/**
 * Checks a message received from `sender` (this node is `self`); returns it, or a sentence saying
 * what was wrong.
 */
export function readMessage(body: unknown, sender: NodeId, self: NodeId): RemoteMessage | string {
  if (typeof body !== 'object' || body === null) return 'not an object';
  const m = body as Record<string, unknown>;
  const local = (key: string): boolean => isPid(m[key]) && (m[key] as Pid).node === self;
  const theirs = (key: string): boolean => isPid(m[key]) && (m[key] as Pid).node === sender;
  const id = Number.isSafeInteger(m.i);
  switch (m.t) {
    case 'call':
      if (!id || !local('to') || !positive(m.ms) || (m.f !== undefined && !theirs('f'))) return 'a malformed call';
      return m as RemoteMessage;
    case 'spawn':
      if (!id || typeof m.b !== 'string' || !positive(m.ms)) return 'a malformed spawn';
      if ((m.n !== undefined && typeof m.n !== 'string') || (m.g !== undefined && typeof m.g !== 'boolean') || (m.l !== undefined && !theirs('l'))) {
        return 'a malformed spawn';
      }
      return m as RemoteMessage;
    case 'stop':
      if (!id || !local('to') || !REASONS.has(m.r as string) || !positive(m.ms)) return 'a malformed stop';
      return m as RemoteMessage;
    case 'ok':
      return id ? (m as RemoteMessage) : 'a malformed reply';
    case 'err':
      return id && typeof m.e === 'object' && m.e !== null ? (m as RemoteMessage) : 'a malformed error reply';
    case 'spawned':
      return id && theirs('p') ? (m as RemoteMessage) : 'a malformed spawn reply';
    case 'cast':
    case 'info':
      return local('to') ? (m as RemoteMessage) : `a malformed ${m.t}`;
    case 'mon':
      return typeof m.ref === 'string' && local('to') ? (m as RemoteMessage) : 'a malformed monitor';
    case 'demon':
      return typeof m.ref === 'string' ? (m as RemoteMessage) : 'a malformed demonitor';
    case 'down':
      return typeof m.ref === 'string' && REASONS.has(m.r as string) && optionalString(m.msg) ? (m as RemoteMessage) : 'a malformed down';
    case 'link':
    case 'unlink':
      return theirs('from') && local('to') ? (m as RemoteMessage) : `a malformed ${m.t}`;
    case 'exit':
      return theirs('from') && local('to') && REASONS.has(m.r as string) && optionalString(m.msg) ? (m as RemoteMessage) : 'a malformed exit';
    default:
      return `an unknown kind ${JSON.stringify(String(m.t)).slice(0, 40)}`;
  }
}

function positive(v: unknown): boolean {
  return typeof v === 'number' && v > 0 && Number.isFinite(v);
}

function optionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}
