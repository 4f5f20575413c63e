/**
 * The registry's messages between nodes, and their validation.
 *
 * All travel as cluster message type {@link REGISTRY_MESSAGE} (`'registry'`); the body is a
 * discriminated union on `type`. A node sends `add`, `remove` and `snapshot` only about the names
 * its own processes hold; `unregister` is a request to the owner of a name from another node.
 * Bodies from peers are untrusted: {@link parseRegistryMessage} checks every field and returns
 * fresh data (no extra keys survive) or a string saying what was wrong; it never throws.
 */
import { isPid, makePid, type Pid } from '../../core/ids.js';
import { isName, parseEntry, type Entry } from './entry.js';

/** The cluster message type of every registry message. */
export const REGISTRY_MESSAGE = 'registry';

/** The most entries one snapshot may carry. */
export const MAX_SNAPSHOT_ENTRIES = 1_000_000;

/** The owner registered a name. */
export interface AddMessage {
  readonly type: 'add';
  readonly entry: Entry;
}

/** The owner dropped a name (unregistered, the process exited, or it lost a conflict). */
export interface RemoveMessage {
  readonly type: 'remove';
  readonly name: string;
  readonly pid: Pid;
}

/**
 * Every name the sender owns, replacing what the receiver holds for the sender. With `reply`, the
 * receiver answers with its own snapshot (a registry that starts after its peers are up asks so).
 */
export interface SnapshotMessage {
  readonly type: 'snapshot';
  readonly entries: readonly Entry[];
  readonly reply: boolean;
}

/** A request to the owner: drop `name` if `pid` still holds it. */
export interface UnregisterMessage {
  readonly type: 'unregister';
  readonly name: string;
  readonly pid: Pid;
}

/** Any registry message body. */
export type RegistryMessage = AddMessage | RemoveMessage | SnapshotMessage | UnregisterMessage;

/** Reads a registry message from untrusted data, or says what was wrong with it. */
export function parseRegistryMessage(body: unknown): RegistryMessage | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'a registry message must be an object';
  const b = body as Record<string, unknown>;
  switch (b.type) {
    case 'add': {
      const entry = parseEntry(b.entry);
      return typeof entry === 'string' ? `add: ${entry}` : { type: 'add', entry };
    }
    case 'remove':
    case 'unregister': {
      if (!isName(b.name)) return `${b.type}: the name must be a non-empty string`;
      if (!isPid(b.pid)) return `${b.type}: no valid pid`;
      return { type: b.type, name: b.name, pid: makePid(b.pid.node, b.pid.incarnation, b.pid.id) };
    }
    case 'snapshot': {
      if (!Array.isArray(b.entries)) return 'snapshot: entries must be an array';
      if (b.entries.length > MAX_SNAPSHOT_ENTRIES) return `snapshot: more than ${MAX_SNAPSHOT_ENTRIES} entries`;
      const entries: Entry[] = [];
      for (const raw of b.entries as unknown[]) {
        const entry = parseEntry(raw);
        if (typeof entry === 'string') return `snapshot: ${entry}`;
        entries.push(entry);
      }
      return { type: 'snapshot', entries, reply: b.reply === true };
    }
    default:
      return `unknown registry message type ${JSON.stringify(typeof b.type === 'string' ? b.type.slice(0, 40) : b.type)}`;
  }
}
