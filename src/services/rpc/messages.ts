/**
 * The wire forms of the services layer, and their checks on untrusted input.
 *
 * Two cluster message types:
 * - `services`: the provider table (what each node exposes). A node sends only its own entries:
 *   `expose` and `unexpose` as they happen, and a `snapshot` of all of them when a peer comes up
 *   (with `reply` asking the peer for its own). Snapshots replace the sender's slice, so they are
 *   idempotent and repair anything lost.
 * - `rpc`: calls and their answers, as short tuples: `[0, id, service, method, args, ms]` (call;
 *   `ms` is the time the caller still waits), `[1, service, method, args]` (cast), `[2, id,
 *   value]` (reply), `[3, id, error]` (failure, a wire error).
 *
 * Every reader returns the message or a string saying what was wrong; nothing here throws on
 * input.
 */
import type { WireError } from '../../core/errors.js';
import type { ProviderInfo } from './types.js';

/** The cluster message type of provider-table messages. */
export const SERVICES_MESSAGE = 'services';
/** The cluster message type of calls and answers. */
export const RPC_MESSAGE = 'rpc';

/** The longest service or method name (in UTF-16 code units). */
export const MAX_NAME_LENGTH = 255;
/** The most methods a service may have. */
export const MAX_METHODS = 1_000;
/** The most meta entries of a provider, and the longest meta key and value. */
export const MAX_META_ENTRIES = 64;
export const MAX_META_VALUE_LENGTH = 1_024;
/** The most services one snapshot may carry. */
export const MAX_SNAPSHOT_SERVICES = 10_000;

/** One exposed service as it travels: the provider without its node (the sender is the node). */
export interface ProviderEntry {
  readonly service: string;
  readonly weight: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly methods: readonly string[];
}

export type ServicesMessage =
  | ({ readonly type: 'expose' } & ProviderEntry)
  | { readonly type: 'unexpose'; readonly service: string }
  | { readonly type: 'snapshot'; readonly services: readonly ProviderEntry[]; readonly reply: boolean };

/** A provider's entry, for the wire. */
export function entryOf(p: ProviderInfo): ProviderEntry {
  return { service: p.service, weight: p.weight, meta: p.meta, methods: p.methods };
}

/** Whether a value is an acceptable service or method name. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}

/** Reads a provider-table message from untrusted data, or says what was wrong with it. */
export function parseServicesMessage(body: unknown): ServicesMessage | string {
  if (!isRecord(body)) return 'a services message must be an object';
  switch (body.type) {
    case 'expose': {
      const entry = parseEntry(body);
      return typeof entry === 'string' ? `expose: ${entry}` : { type: 'expose', ...entry };
    }
    case 'unexpose':
      return isName(body.service) ? { type: 'unexpose', service: body.service } : 'unexpose: a service name must be a string of 1-255 characters';
    case 'snapshot': {
      if (!Array.isArray(body.services)) return 'snapshot: services must be an array';
      if (body.services.length > MAX_SNAPSHOT_SERVICES) return `snapshot: more than ${MAX_SNAPSHOT_SERVICES} services`;
      const services: ProviderEntry[] = [];
      for (const raw of body.services as unknown[]) {
        const entry = parseEntry(raw);
        if (typeof entry === 'string') return `snapshot: ${entry}`;
        services.push(entry);
      }
      return { type: 'snapshot', services, reply: body.reply === true };
    }
    default:
      return `unknown services message type ${JSON.stringify(typeof body.type === 'string' ? body.type.slice(0, 40) : typeof body.type)}`;
  }
}

function parseEntry(value: unknown): ProviderEntry | string {
  if (!isRecord(value)) return 'a provider entry must be an object';
  if (!isName(value.service)) return `a service name must be a string of 1-${MAX_NAME_LENGTH} characters`;
  if (!isWeight(value.weight)) return `the weight of ${value.service} must be a finite number >= 0`;
  const meta = parseMeta(value.meta);
  if (typeof meta === 'string') return `the meta of ${value.service}: ${meta}`;
  if (!Array.isArray(value.methods) || value.methods.length > MAX_METHODS || !value.methods.every(isName)) {
    return `the methods of ${value.service} must be an array of at most ${MAX_METHODS} names`;
  }
  return { service: value.service, weight: value.weight, meta, methods: [...(value.methods as string[])] };
}

/** Whether a value is an acceptable weight. */
export function isWeight(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Reads provider meta (string keys and values, bounded), or says what was wrong. */
export function parseMeta(value: unknown): Readonly<Record<string, string>> | string {
  if (value === undefined) return {};
  if (!isRecord(value)) return 'meta must be an object of strings';
  const entries = Object.entries(value);
  if (entries.length > MAX_META_ENTRIES) return `more than ${MAX_META_ENTRIES} meta entries`;
  const meta: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of entries) {
    if (k.length > MAX_NAME_LENGTH || typeof v !== 'string' || v.length > MAX_META_VALUE_LENGTH) {
      return `meta entries must be strings (keys up to ${MAX_NAME_LENGTH}, values up to ${MAX_META_VALUE_LENGTH} characters)`;
    }
    meta[k] = v;
  }
  return Object.freeze({ ...meta });
}

// -------------------------------------------------------------------------------------------------
// calls

export type RpcMessage =
  | { readonly t: 'call'; readonly id: number; readonly service: string; readonly method: string; readonly args: readonly unknown[]; readonly ms: number }
  | { readonly t: 'cast'; readonly service: string; readonly method: string; readonly args: readonly unknown[] }
  | { readonly t: 'ok'; readonly id: number; readonly value: unknown }
  | { readonly t: 'err'; readonly id: number; readonly error: WireError };

const CALL = 0;
const CAST = 1;
const OK = 2;
const ERR = 3;

/** The tuple form of an rpc message. */
export function encodeRpc(m: RpcMessage): unknown[] {
  switch (m.t) {
    case 'call':
      return [CALL, m.id, m.service, m.method, m.args, m.ms];
    case 'cast':
      return [CAST, m.service, m.method, m.args];
    case 'ok':
      return [OK, m.id, m.value];
    case 'err':
      return [ERR, m.id, m.error];
  }
}

/** Reads an rpc message from untrusted data, or says what was wrong with it. */
export function readRpc(body: unknown): RpcMessage | string {
  if (!Array.isArray(body) || body.length === 0) return 'an rpc message must be a non-empty array';
  const w = body as unknown[];
  switch (w[0]) {
    case CALL:
      if (!Number.isSafeInteger(w[1]) || !isName(w[2]) || !isName(w[3]) || !Array.isArray(w[4])) return 'a malformed call';
      if (typeof w[5] !== 'number' || !(w[5] > 0)) return 'a call without a positive time limit';
      return { t: 'call', id: w[1] as number, service: w[2], method: w[3], args: w[4] as unknown[], ms: w[5] };
    case CAST:
      if (!isName(w[1]) || !isName(w[2]) || !Array.isArray(w[3])) return 'a malformed cast';
      return { t: 'cast', service: w[1], method: w[2], args: w[3] as unknown[] };
    case OK:
      return Number.isSafeInteger(w[1]) ? { t: 'ok', id: w[1] as number, value: w[2] } : 'a malformed reply';
    case ERR:
      return Number.isSafeInteger(w[1]) && isRecord(w[2]) ? { t: 'err', id: w[1] as number, error: w[2] as unknown as WireError } : 'a malformed error reply';
    default:
      return `an unknown rpc message kind ${JSON.stringify(String(w[0])).slice(0, 40)}`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
