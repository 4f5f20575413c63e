/**
 * The provider table: which node provides which service, with its weight, meta and methods.
 *
 * Every node holds the whole table; each node is the only writer of its own slice (what it
 * exposes) and replicates it by messages (see `messages.ts`). The table itself is pure state:
 * each change returns the events it caused, so the service decides what to announce.
 *
 * Guarantees: `providers(service)` is a sorted (by node id), frozen array that stays the same
 * object until that service's providers change, so a balancer reading it on every call pays
 * nothing for it. Applying the same entry twice is a no-op (no event).
 */
import type { NodeId } from '../../core/ids.js';
import type { ProviderEntry } from './messages.js';
import type { ProviderEvent, ProviderInfo } from './types.js';

const NONE: readonly ProviderInfo[] = Object.freeze([]);

export class ProviderTable {
  /** service → node → provider. */
  readonly #byService = new Map<string, Map<NodeId, ProviderInfo>>();
  /** service → its providers sorted by node id, rebuilt lazily after a change. */
  readonly #sorted = new Map<string, readonly ProviderInfo[]>();

  /** The providers of `service`, sorted by node id. */
  providers(service: string): readonly ProviderInfo[] {
    let sorted = this.#sorted.get(service);
    if (sorted === undefined) {
      const nodes = this.#byService.get(service);
      if (nodes === undefined) return NONE;
      sorted = Object.freeze([...nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)));
      this.#sorted.set(service, sorted);
    }
    return sorted;
  }

  /** The provider of `service` on `node`, if any. */
  get(service: string, node: NodeId): ProviderInfo | undefined {
    return this.#byService.get(service)?.get(node);
  }

  /** Every service with at least one provider, sorted. */
  services(): string[] {
    return [...this.#byService.keys()].sort();
  }

  /** What `node` provides. */
  slice(node: NodeId): ProviderInfo[] {
    const out: ProviderInfo[] = [];
    for (const nodes of this.#byService.values()) {
      const p = nodes.get(node);
      if (p !== undefined) out.push(p);
    }
    return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  }

  /** Sets what `node` provides for one service. */
  set(node: NodeId, entry: ProviderEntry): ProviderEvent[] {
    const provider: ProviderInfo = Object.freeze({
      node,
      service: entry.service,
      weight: entry.weight,
      meta: Object.freeze({ ...entry.meta }),
      methods: Object.freeze([...entry.methods]),
    });
    let nodes = this.#byService.get(entry.service);
    if (nodes === undefined) this.#byService.set(entry.service, (nodes = new Map()));
    const before = nodes.get(node);
    if (before !== undefined && same(before, provider)) return [];
    nodes.set(node, provider);
    this.#sorted.delete(entry.service);
    return [{ type: before === undefined ? 'added' : 'updated', provider }];
  }

  /** Removes `node` as a provider of `service`. */
  remove(node: NodeId, service: string): ProviderEvent[] {
    const nodes = this.#byService.get(service);
    const before = nodes?.get(node);
    if (nodes === undefined || before === undefined) return [];
    nodes.delete(node);
    if (nodes.size === 0) this.#byService.delete(service);
    this.#sorted.delete(service);
    return [{ type: 'removed', provider: before }];
  }

  /** Replaces everything `node` provides with `entries` (a snapshot). */
  replace(node: NodeId, entries: readonly ProviderEntry[]): ProviderEvent[] {
    const keep = new Set(entries.map((e) => e.service));
    const events: ProviderEvent[] = [];
    for (const p of this.slice(node)) if (!keep.has(p.service)) events.push(...this.remove(node, p.service));
    for (const entry of entries) events.push(...this.set(node, entry));
    return events;
  }

  /** Forgets everything `node` provides (it went down). */
  drop(node: NodeId): ProviderEvent[] {
    return this.replace(node, []);
  }
}

function same(a: ProviderInfo, b: ProviderInfo): boolean {
  if (a.weight !== b.weight || a.methods.length !== b.methods.length) return false;
  for (let i = 0; i < a.methods.length; i++) if (a.methods[i] !== b.methods[i]) return false;
  const ak = Object.keys(a.meta);
  const bk = Object.keys(b.meta);
  return ak.length === bk.length && ak.every((k) => a.meta[k] === b.meta[k]);
}
