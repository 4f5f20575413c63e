/**
 * The messages of the remote layer, carried as the body of cluster envelopes of type `proc`.
 *
 * On the wire a message is a tuple whose first element is its kind (a small integer): tuples cost
 * far less to encode and decode than objects, and every call pays for them twice. A pid the
 * message is addressed to always lives on the receiving node, so only its incarnation and id
 * travel. `encode` builds the tuple; `readMessage` checks a received one and returns it as an
 * object: a malformed message is reported and dropped, never thrown at the handler that received
 * it, and a pid that claims to live on a node other than its sender is refused.
 */
import type { WireError } from '../core/errors.js';
import { isPid, type NodeId, type Pid } from '../core/ids.js';
import { EXIT_REASONS, type ExitReason } from '../process/types.js';

/** The cluster message type of the remote layer. */
export const PROC = 'proc';

/** A request that expects an answer: `i` is the caller's request id. */
export type Request =
  /** Call `to`; `ms` is the time the caller still waits; `f` is the calling process, if any. */
  | { readonly t: 'call'; readonly i: number; readonly to: Pid; readonly m: unknown; readonly ms: number; readonly f?: Pid | undefined }
  /** Spawn registered behavior `b` with args `a`; `n` a name (global when `g`), `l` a pid to link. */
  | {
      readonly t: 'spawn';
      readonly i: number;
      readonly b: string;
      readonly a: unknown;
      readonly ms: number;
      readonly n?: string | undefined;
      readonly g?: boolean | undefined;
      readonly l?: Pid | undefined;
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
  /**
   * Monitor `to` under the sender's `ref`; `l` is the lane its down goes back on (the watching
   * process's id), so the down arrives after what `to` sent that process before it ended.
   */
  | { readonly t: 'mon'; readonly ref: string; readonly to: Pid; readonly l?: number | undefined }
  | { readonly t: 'demon'; readonly ref: string }
  /** The process watched by monitor `ref` ended. */
  | { readonly t: 'down'; readonly ref: string; readonly r: ExitReason; readonly msg?: string | undefined }
  /** Sender's process `from` links to, unlinks from, or sends the exit signal of its end to `to`. */
  | { readonly t: 'link' | 'unlink'; readonly from: Pid; readonly to: Pid }
  | { readonly t: 'exit'; readonly from: Pid; readonly to: Pid; readonly r: ExitReason; readonly msg?: string | undefined };

export type RemoteMessage = Request | Answer | Notice;

const KINDS = ['call', 'spawn', 'stop', 'ok', 'err', 'spawned', 'cast', 'info', 'mon', 'demon', 'down', 'link', 'unlink', 'exit'] as const;
type Kind = (typeof KINDS)[number];
const KIND: Readonly<Record<Kind, number>> = Object.freeze(Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<Kind, number>);

/** Where a request's id sits in its wire tuple. */
export const REQUEST_ID_AT = 1;

/** The wire tuple of a message (trailing optional fields are left off). */
export function encode(m: RemoteMessage): unknown[] {
  switch (m.t) {
    case 'call':
      return encodeCall(m.i, m.to, m.ms, m.m, m.f);
    case 'spawn':
      return trim([KIND.spawn, m.i, m.b, m.a, m.ms, m.n, m.g, m.l]);
    case 'stop':
      return [KIND.stop, m.i, m.to.id, m.to.incarnation, m.r, m.ms];
    case 'ok':
      return encodeOk(m.i, m.v);
    case 'err':
      return [KIND.err, m.i, m.e];
    case 'spawned':
      return [KIND.spawned, m.i, m.p];
    case 'cast':
    case 'info':
      return [KIND[m.t], m.to.id, m.to.incarnation, m.m];
    case 'mon':
      return trim([KIND.mon, m.ref, m.to.id, m.to.incarnation, m.l]);
    case 'demon':
      return [KIND.demon, m.ref];
    case 'down':
      return trim([KIND.down, m.ref, m.r, m.msg]);
    case 'link':
    case 'unlink':
      return [KIND[m.t], m.from, m.to.id, m.to.incarnation];
    case 'exit':
      return trim([KIND.exit, m.from, m.to.id, m.to.incarnation, m.r, m.msg]);
  }
}

/** The tuple of a call (the message sent most), built without a request object first. */
export function encodeCall(id: number, to: Pid, ms: number, message: unknown, from: Pid | undefined): unknown[] {
  return from === undefined ? [KIND.call, id, to.id, to.incarnation, ms, message] : [KIND.call, id, to.id, to.incarnation, ms, message, from];
}

/** The tuple of a successful answer. */
export function encodeOk(id: number, value: unknown): unknown[] {
  return [KIND.ok, id, value];
}

/** Whether `body` is a well-formed `ok` tuple `[kind, id, value]` (the message received most), read without a message object. */
export function isOk(body: unknown): body is readonly [kind: number, id: number, value: unknown] {
  return Array.isArray(body) && body[0] === KIND.ok && Number.isSafeInteger(body[1]);
}

const REASONS: ReadonlySet<string> = new Set(EXIT_REASONS);

/**
 * Checks a message received from `sender` (this node is `self`); returns it, or a sentence saying
 * what was wrong.
 */
export function readMessage(body: unknown, sender: NodeId, self: NodeId): RemoteMessage | string {
  if (!Array.isArray(body) || body.length === 0) return 'not a message tuple';
  const w = body as unknown[];
  const kind = KINDS[w[0] as number];
  const id = Number.isSafeInteger(w[1]);
  switch (kind) {
    case 'call': {
      const to = localPid(self, w[2], w[3]);
      if (!id || to === undefined || !positive(w[4]) || (w[6] !== undefined && !theirs(w[6], sender))) return 'a malformed call';
      return { t: kind, i: w[1] as number, to, ms: w[4] as number, m: w[5], f: w[6] as Pid | undefined };
    }
    case 'spawn':
      if (!id || typeof w[2] !== 'string' || !positive(w[4])) return 'a malformed spawn';
      if (!optional(w[5], 'string') || !optional(w[6], 'boolean') || (w[7] !== undefined && !theirs(w[7], sender))) return 'a malformed spawn';
      return { t: kind, i: w[1] as number, b: w[2], a: w[3], ms: w[4] as number, n: w[5] as string | undefined, g: w[6] as boolean | undefined, l: w[7] as Pid | undefined };
    case 'stop': {
      const to = localPid(self, w[2], w[3]);
      if (!id || to === undefined || !REASONS.has(w[4] as string) || !positive(w[5])) return 'a malformed stop';
      return { t: kind, i: w[1] as number, to, r: w[4] as ExitReason, ms: w[5] as number };
    }
    case 'ok':
      return id ? { t: kind, i: w[1] as number, v: w[2] } : 'a malformed reply';
    case 'err':
      return id && typeof w[2] === 'object' && w[2] !== null ? { t: kind, i: w[1] as number, e: w[2] as WireError } : 'a malformed error reply';
    case 'spawned':
      return id && theirs(w[2], sender) ? { t: kind, i: w[1] as number, p: w[2] } : 'a malformed spawn reply';
    case 'cast':
    case 'info': {
      const to = localPid(self, w[1], w[2]);
      return to === undefined ? `a malformed ${kind}` : { t: kind, to, m: w[3] };
    }
    case 'mon': {
      const to = localPid(self, w[2], w[3]);
      return typeof w[1] === 'string' && to !== undefined && (w[4] === undefined || index(w[4])) ? { t: kind, ref: w[1], to, l: w[4] } : 'a malformed monitor';
    }
    case 'demon':
      return typeof w[1] === 'string' ? { t: kind, ref: w[1] } : 'a malformed demonitor';
    case 'down':
      return typeof w[1] === 'string' && REASONS.has(w[2] as string) && optional(w[3], 'string')
        ? { t: kind, ref: w[1], r: w[2] as ExitReason, msg: w[3] as string | undefined }
        : 'a malformed down';
    case 'link':
    case 'unlink': {
      const to = localPid(self, w[2], w[3]);
      return theirs(w[1], sender) && to !== undefined ? { t: kind, from: w[1], to } : `a malformed ${kind}`;
    }
    case 'exit': {
      const to = localPid(self, w[2], w[3]);
      return theirs(w[1], sender) && to !== undefined && REASONS.has(w[4] as string) && optional(w[5], 'string')
        ? { t: kind, from: w[1], to, r: w[4] as ExitReason, msg: w[5] as string | undefined }
        : 'a malformed exit';
    }
    default:
      return `an unknown kind ${JSON.stringify(String(w[0])).slice(0, 40)}`;
  }
}

/** Whether `v` is a pid of the node that sent it. */
function theirs(v: unknown, sender: NodeId): v is Pid {
  return isPid(v) && v.node === sender;
}

/** A pid of this node from its id and incarnation, if they are well-formed. */
function localPid(self: NodeId, id: unknown, incarnation: unknown): Pid | undefined {
  if (!index(id) || !Number.isSafeInteger(incarnation)) return undefined;
  return { node: self, incarnation: incarnation as number, id };
}

/** Whether `v` is a non-negative safe integer: a process id, or a lane. */
function index(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Drops trailing `undefined`s, so optional fields cost nothing when absent. */
function trim(tuple: unknown[]): unknown[] {
  let end = tuple.length;
  while (end > 0 && tuple[end - 1] === undefined) end--;
  return end === tuple.length ? tuple : tuple.slice(0, end);
}

function positive(v: unknown): boolean {
  return typeof v === 'number' && v > 0 && Number.isFinite(v);
}

function optional(v: unknown, type: 'string' | 'boolean'): boolean {
  return v === undefined || typeof v === type;
}
