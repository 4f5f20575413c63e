/**
 * The `Discovery` seam: how a node learns addresses of other nodes to dial.
 *
 * A discovery backend answers one question, "whom could I dial?", with a list of
 * {@link PeerAddress}es. It also holds the parsing of the address forms users write
 * (`name@host:port`, `host:port`, `[v6]:port`) and `dedupe`, shared by every backend.
 *
 * Guarantees. Every address a backend in this folder returns has a valid host (IPv4, IPv6
 * without brackets, or a DNS name) and a port in 1..65535, and a node name when one was given;
 * the lists hold no two entries for the same host and port. Addresses are frozen plain data.
 *
 * Deliberately not done. An address is only a *candidate*: nothing here connects to it, and
 * nothing here makes it a member. The node dials each candidate and counts it only after the
 * handshake (and, with a secret, authentication) succeeds; a candidate that turns out to be
 * this node, a stale entry or a stranger is dropped there, not here. Backends do not retry, cache
 * or back off: `resolve` either answers or rejects, and the caller retries with backoff.
 */
import { isIP } from 'node:net';
import { CohortError, describe, isCohortError } from '../../core/errors.js';
import { parseNodeId, validateHost, validateNodeName, validatePort } from '../../core/ids.js';

/**
 * A candidate peer address. `name` is known for node ids (seeds like `'app2@10.0.0.2:4369'`),
 * unknown for plain `host:port`.
 */
export interface PeerAddress {
  /** IPv4 address, IPv6 address without brackets, or DNS name. */
  readonly host: string;
  /** TCP port, 1..65535. */
  readonly port: number;
  /** The node name, when the source knew it. */
  readonly name?: string;
}

/** A source of candidate peer addresses. Implement it to plug in any registry. */
export interface Discovery {
  /** What this backend is, for logs: `'static'`, `'dns'`, `'file'` or a custom name. */
  readonly name: string;
  /**
   * Current candidates. May reject (with a `CohortError`); the caller retries with backoff and
   * keeps the candidates it had. An aborted `signal` rejects with `ABORTED`.
   */
  resolve(signal?: AbortSignal): Promise<PeerAddress[]>;
  /**
   * Optional push: call `onChange` when candidates may have changed (for example when a file was
   * rewritten); the caller then calls `resolve`. Returns a function that stops watching.
   */
  watch?(onChange: () => void): () => void;
}

/** The address forms {@link parsePeerAddress} accepts, for error messages. */
export const PEER_ADDRESS_FORMS = "'name@host:port', 'host:port' or '[ipv6]:port'";

/**
 * Parses a peer address: `name@host:port` (a node id, parsed by `parseNodeId`), `host:port`, or
 * `[v6]:port`. An IPv6 host must be in brackets; the port is 1..65535 without sign or leading zeros.
 *
 * @throws CohortError `INVALID_OPTION` when `text` is not a string; `INVALID_NODE_ID` when it is
 *   not one of the accepted forms, saying which part is wrong and what was expected.
 * @example
 * parsePeerAddress('app2@10.0.0.2:4369') // { name: 'app2', host: '10.0.0.2', port: 4369 }
 * parsePeerAddress('db.internal:4369')   // { host: 'db.internal', port: 4369 }
 * parsePeerAddress('[::1]:4369')         // { host: '::1', port: 4369 }
 */
export function parsePeerAddress(text: unknown): PeerAddress {
  if (typeof text !== 'string') {
    throw new CohortError('INVALID_OPTION', `a peer address must be a string, one of ${PEER_ADDRESS_FORMS}; got ${describe(text)}`, {
      details: { address: describe(text) },
    });
  }
  if (text.includes('@')) {
    const { name, host, port } = parseNodeId(text);
    return Object.freeze({ host, port, name });
  }
  const fail = (why: string): CohortError =>
    new CohortError('INVALID_NODE_ID', `invalid peer address ${JSON.stringify(text)}: ${why}; expected ${PEER_ADDRESS_FORMS}`, {
      details: { address: text },
    });
  if (text.includes('://')) throw fail('a URL is not a peer address; drop the scheme');
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') throw fail("an IPv6 host in brackets must be followed by ':port'");
    host = text.slice(1, close);
    if (isIP(host) !== 6) throw fail(`${JSON.stringify(host)} in brackets is not an IPv6 address`);
    portText = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw fail("missing ':port' after the host");
    host = text.slice(0, colon);
    if (host.includes(':')) throw fail('an IPv6 host must be written in brackets, as in [::1]:4369');
    try {
      validateHost(host);
    } catch (cause) {
      throw new CohortError('INVALID_NODE_ID', fail(reason(cause)).message, { cause, details: { address: text } });
    }
    portText = text.slice(colon + 1);
  }
  // Digits only, no sign, no leading zero: one address has one spelling.
  if (!/^[1-9][0-9]{0,4}$/.test(portText) || Number(portText) > 65535) {
    throw fail(`port ${JSON.stringify(portText)} is not an integer from 1 to 65535 without leading zeros`);
  }
  return Object.freeze({ host, port: Number(portText) });
}

/**
 * Accepts a peer address given as a string (see {@link parsePeerAddress}) or as an object
 * `{ host, port, name? }`, checks it and returns a frozen copy (without `name` when none).
 *
 * @throws CohortError `INVALID_OPTION` for a value of another shape; `INVALID_NODE_ID` for a bad
 *   host (an IPv6 host goes without brackets here), port or name.
 * @example
 * toPeerAddress({ host: '::1', port: 4369 }) // { host: '::1', port: 4369 }
 * toPeerAddress('app2@10.0.0.2:4369')        // { name: 'app2', host: '10.0.0.2', port: 4369 }
 */
export function toPeerAddress(value: unknown): PeerAddress {
  if (typeof value === 'string') return parsePeerAddress(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CohortError(
      'INVALID_OPTION',
      `a peer address must be a string (${PEER_ADDRESS_FORMS}) or an object { host, port, name? }; got ${describe(value)}`,
      { details: { address: describe(value) } },
    );
  }
  const v = value as Partial<Record<keyof PeerAddress, unknown>>;
  try {
    const host = validateHost(v.host);
    const port = validatePort(v.port);
    if (v.name === undefined) return Object.freeze({ host, port });
    return Object.freeze({ host, port, name: validateNodeName(v.name) });
  } catch (cause) {
    throw new CohortError(
      'INVALID_NODE_ID',
      `invalid peer address { host: ${describe(v.host)}, port: ${describe(v.port)}${v.name === undefined ? '' : `, name: ${describe(v.name)}`} }: ${reason(cause)}`,
      { cause },
    );
  }
}

/**
 * Formats an address the way {@link parsePeerAddress} reads it: `name@host:port` when the name is
 * known, else `host:port`; IPv6 hosts in brackets.
 *
 * @example formatPeerAddress({ host: '::1', port: 4369 }) // '[::1]:4369'
 */
export function formatPeerAddress(address: PeerAddress): string {
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `${address.name === undefined ? '' : `${address.name}@`}${host}:${address.port}`;
}

/**
 * Removes addresses that repeat an earlier one's host and port, keeping first-seen order.
 *
 * Hosts compare case-insensitively, and IPv6 hosts by value (`::1` equals `0:0:0:0:0:0:0:1`).
 * When the first entry has no name and a later duplicate has one, the kept entry takes that name
 * (in the first entry's place); when both have different names the first wins (one address
 * serves one node; the handshake will tell which). Does not resolve names: `localhost:1` and
 * `127.0.0.1:1` both stay.
 *
 * @example
 * dedupe([parsePeerAddress('10.0.0.1:1'), parsePeerAddress('a@10.0.0.1:1')])
 * // [{ host: '10.0.0.1', port: 1, name: 'a' }]
 */
export function dedupe(addresses: readonly PeerAddress[]): PeerAddress[] {
  const byKey = new Map<string, number>();
  const out: PeerAddress[] = [];
  for (const address of addresses) {
    const key = `${canonicalHost(address.host)}|${address.port}`;
    const at = byKey.get(key);
    if (at === undefined) {
      byKey.set(key, out.length);
      out.push(address);
    } else if (out[at]!.name === undefined && address.name !== undefined) {
      out[at] = Object.freeze({ host: out[at]!.host, port: out[at]!.port, name: address.name });
    }
  }
  return out;
}

/** Whether a value looks like a {@link Discovery}: a non-empty string `name` and a `resolve` function. */
export function isDiscovery(value: unknown): value is Discovery {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Partial<Record<keyof Discovery, unknown>>;
  return (
    typeof v.name === 'string' &&
    v.name.length > 0 &&
    typeof v.resolve === 'function' &&
    (v.watch === undefined || typeof v.watch === 'function')
  );
}

// ---- shared by the backends of this folder (not re-exported by index.ts) ----

/** One entry a backend skipped, as reported to its logger. */
export interface SkippedEntry {
  /** Where it was: a 1-based line number or a 0-based array index, as the backend says. */
  readonly at: number;
  readonly entry: unknown;
  readonly error: CohortError;
}

/**
 * Turns each entry into a {@link PeerAddress}, skipping bad ones (each passed to `onSkip`), then
 * dedupes. `positions[i]`, when given, is what `at` reports for entry `i`.
 */
export function collectPeerAddresses(
  entries: readonly unknown[],
  onSkip: (skipped: SkippedEntry) => void,
  positions?: readonly number[],
): PeerAddress[] {
  const found: PeerAddress[] = [];
  entries.forEach((entry, i) => {
    try {
      found.push(toPeerAddress(entry));
    } catch (error) {
      const coded = isCohortError(error) ? error : new CohortError('INVALID_OPTION', reason(error), { cause: error });
      onSkip({ at: positions?.[i] ?? i, entry, error: coded });
    }
  });
  return dedupe(found);
}

/** The error a backend rejects with when its caller aborted. */
export function abortedError(signal: AbortSignal, what: string): CohortError {
  return new CohortError('ABORTED', `${what} was aborted by its caller`, { cause: signal.reason });
}

/** Throws `ABORTED` when `signal` is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw abortedError(signal, what);
}

/**
 * Settles with `work`, or rejects with `ABORTED` as soon as `signal` aborts (`work` is then left
 * to finish on its own; its outcome is ignored).
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      work.catch(() => {});
      reject(abortedError(signal, what));
      return;
    }
    const onAbort = (): void => reject(abortedError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Refuses keys an options object should not have (usually typos), naming the accepted ones. */
export function checkKeys(options: object, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(options).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new CohortError(
      'INVALID_OPTION',
      `${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; expected only ${allowed.map((k) => `'${k}'`).join(', ')}`,
      { details: { unknown } },
    );
  }
}

/** The message of any thrown value. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : describe(error);
}

/** A host as compared by {@link dedupe}: lower case, IPv6 in its canonical text form. */
function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  if (isIP(lower) !== 6) return lower;
  try {
    return new URL(`http://[${lower}]/`).hostname;
  } catch {
    return lower; // zone ids (fe80::1%eth0) are not URL hosts; compare them as written
  }
}
