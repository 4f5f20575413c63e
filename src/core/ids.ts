/**
 * Identifiers: node ids and process ids.
 *
 * A node id is `name@host:port`: the name a user gives, and the address peers reach the node at.
 * Hosts are DNS names, IPv4 addresses, or IPv6 addresses in brackets (`app@[::1]:4369`). Parsing is
 * strict and every refusal says which part is wrong and what was expected.
 *
 * A pid names one process of one run of one node: the node id, the node's incarnation (new at every
 * start) and a number unique within that run. A pid of an earlier run of the same node id never
 * matches a process of a later run. Pids are plain frozen data so they cross the wire unchanged.
 */
import { isIP } from 'node:net';
import { CohortError } from './errors.js';

/** A node id, `name@host:port`. */
export type NodeId = string;

/** The parts of a node id. */
export interface NodeAddress {
  readonly name: string;
  /** Host without brackets: `127.0.0.1`, `::1`, `app.example.com`. */
  readonly host: string;
  readonly port: number;
}

/** A process id. Compare with {@link samePid}, print with {@link formatPid}. */
export interface Pid {
  readonly node: NodeId;
  readonly incarnation: number;
  readonly id: number;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LABEL_RE = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** Checks a node name: 1–64 of letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export function validateNodeName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new CohortError(
      'INVALID_NODE_ID',
      `invalid node name ${JSON.stringify(name)}: expected 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or digit`,
      { details: { name } },
    );
  }
  return name;
}

/** Checks a host: an IPv4 or IPv6 address (no brackets) or a DNS name. Returns it unchanged. */
export function validateHost(host: unknown): string {
  if (typeof host === 'string' && host.length > 0) {
    if (isIP(host) !== 0) return host;
    if (host.length <= 253 && host.split('.').every((label) => LABEL_RE.test(label)) && !/^[0-9.]+$/.test(host)) {
      return host;
    }
  }
  throw new CohortError(
    'INVALID_NODE_ID',
    `invalid host ${JSON.stringify(host)}: expected an IPv4 address, an IPv6 address, or a DNS name`,
    { details: { host } },
  );
}

/** Checks a port: an integer in 1..65535 (or 0..65535 with `allowZero`). */
export function validatePort(port: unknown, allowZero = false): number {
  const min = allowZero ? 0 : 1;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw new CohortError(
      'INVALID_NODE_ID',
      `invalid port ${typeof port === 'number' ? port : JSON.stringify(port)}: expected an integer from ${min} to 65535`,
      { details: { port } },
    );
  }
  return port;
}

/**
 * Parses `name@host:port`.
 *
 * @throws CohortError `INVALID_NODE_ID` saying which part is wrong.
 * @example parseNodeId('app1@[::1]:4369') // { name: 'app1', host: '::1', port: 4369 }
 */
export function parseNodeId(id: unknown): NodeAddress {
  if (typeof id !== 'string') {
    throw new CohortError('INVALID_NODE_ID', `a node id must be a string like 'app1@127.0.0.1:4369', got ${typeof id}`);
  }
  const at = id.indexOf('@');
  if (at < 0) {
    throw new CohortError(
      'INVALID_NODE_ID',
      `invalid node id ${JSON.stringify(id)}: missing '@' between the name and the host; expected name@host:port`,
      { details: { id } },
    );
  }
  const name = validateNodeName(id.slice(0, at));
  const rest = id.slice(at + 1);
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') {
      throw new CohortError(
        'INVALID_NODE_ID',
        `invalid node id ${JSON.stringify(id)}: an IPv6 host must be written in brackets followed by a port, as in app@[::1]:4369`,
        { details: { id } },
      );
    }
    host = rest.slice(1, close);
    if (isIP(host) !== 6) {
      throw new CohortError('INVALID_NODE_ID', `invalid node id ${JSON.stringify(id)}: ${JSON.stringify(host)} in brackets is not an IPv6 address`, {
        details: { id },
      });
    }
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) {
      throw new CohortError('INVALID_NODE_ID', `invalid node id ${JSON.stringify(id)}: missing ':port' after the host`, {
        details: { id },
      });
    }
    host = rest.slice(0, colon);
    if (host.includes(':')) {
      throw new CohortError(
        'INVALID_NODE_ID',
        `invalid node id ${JSON.stringify(id)}: an IPv6 host must be written in brackets, as in app@[::1]:4369`,
        { details: { id } },
      );
    }
    validateHost(host);
    portText = rest.slice(colon + 1);
  }
  // Digits only, no sign, no leading zero: one port has one spelling, so one node has one id.
  if (!/^[1-9][0-9]{0,4}$/.test(portText)) {
    throw new CohortError(
      'INVALID_NODE_ID',
      `invalid node id ${JSON.stringify(id)}: port ${JSON.stringify(portText)} is not a port number; expected an integer from 1 to 65535 without leading zeros`,
      { details: { id } },
    );
  }
  const port = validatePort(Number(portText));
  return Object.freeze({ name, host, port });
}

/** Formats a node id, bracketing IPv6 hosts. */
export function formatNodeId(address: { name: string; host: string; port: number }): NodeId {
  validateNodeName(address.name);
  validateHost(address.host);
  validatePort(address.port);
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `${address.name}@${host}:${address.port}`;
}

/** Whether a string is a well-formed node id. */
export function isNodeId(value: unknown): value is NodeId {
  try {
    parseNodeId(value);
    return true;
  } catch {
    return false;
  }
}

/** Makes a pid. */
export function makePid(node: NodeId, incarnation: number, id: number): Pid {
  return Object.freeze({ node, incarnation, id });
}

/** Whether a value has the shape of a pid (it may still name no live process). */
export function isPid(value: unknown): value is Pid {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof Pid, unknown>>;
  return (
    typeof v.node === 'string' &&
    typeof v.incarnation === 'number' &&
    Number.isSafeInteger(v.incarnation) &&
    v.incarnation >= 0 &&
    typeof v.id === 'number' &&
    Number.isSafeInteger(v.id) &&
    v.id >= 0
  );
}

/** Whether two pids name the same process. */
export function samePid(a: Pid, b: Pid): boolean {
  return a.id === b.id && a.incarnation === b.incarnation && a.node === b.node;
}

/** A map key for a pid. */
export function pidKey(pid: Pid): string {
  return `${pid.node}#${pid.incarnation.toString(36)}.${pid.id}`;
}

/** Prints a pid as `<node#incarnation.id>`, e.g. `<app1@127.0.0.1:4369#lq2x1c.7>`. */
export function formatPid(pid: Pid): string {
  return `<${pidKey(pid)}>`;
}

/**
 * Parses the output of {@link formatPid}.
 *
 * @throws CohortError `INVALID_PID`.
 */
export function parsePid(text: unknown): Pid {
  const fail = (why: string) =>
    new CohortError('INVALID_PID', `invalid pid ${JSON.stringify(text)}: ${why}; expected <name@host:port#incarnation.id>`);
  if (typeof text !== 'string' || !text.startsWith('<') || !text.endsWith('>')) throw fail('not in angle brackets');
  const body = text.slice(1, -1);
  const hash = body.lastIndexOf('#');
  if (hash < 0) throw fail("missing '#'");
  const node = body.slice(0, hash);
  try {
    parseNodeId(node);
  } catch (cause) {
    throw new CohortError('INVALID_PID', `invalid pid ${JSON.stringify(text)}: bad node id`, { cause });
  }
  const m = /^([0-9a-z]{1,11})\.([0-9]{1,16})$/.exec(body.slice(hash + 1));
  if (m === null) throw fail('bad incarnation or id');
  const incarnation = parseInt(m[1]!, 36);
  const id = Number(m[2]);
  if (!Number.isSafeInteger(incarnation) || !Number.isSafeInteger(id)) throw fail('number out of range');
  return makePid(node, incarnation, id);
}

/**
 * Where a node's request ids (remote requests, rpc calls) start: at random below 2^31, so that an
 * answer meant for an earlier run of the same node id (restarted, same name, host and port) is
 * most unlikely to match a request of this run, and ids stay 32-bit on the wire for two billion
 * requests.
 */
export function firstRequestId(): number {
  return Math.floor(Math.random() * 0x8000_0000);
}
