/**
 * `SimNetwork`: N `Membership` instances connected in memory through their IO, all on one
 * `ManualClock`, with seeded randomness, so cluster scenarios run in manual time and repeat exactly.
 *
 * Every message is JSON-encoded and decoded on the way (no shared objects between nodes) and
 * delivered after 1-4 ms of latency. Faults:
 * - `lossRate`: each message is dropped with this probability;
 * - `partition(a, b)` / `heal()`: messages between the two sets are dropped (at send and delivery);
 * - `drop(fn)`: a custom predicate that drops matching messages (undo with the returned function);
 * - `crash(id)`: the node stops sending and receiving for good (a killed process);
 * - `freeze(id)` / `thaw(id)`: a stopped process (SIGSTOP): its timers do not run and messages to
 *   it wait in its socket buffer; on thaw it reads the buffered messages, then runs the late timers.
 *
 * Counters: `sent` counts messages each node sent, by type, for the scale test; `largest` keeps the
 * most piggybacked records and the most encoded bytes seen in any message, by type.
 */
import { ManualClock, type Clock, type Timer } from '../../../../src/core/clock.js';
import { Membership } from '../../../../src/cluster/membership/swim.js';
import type { MembershipEvent } from '../../../../src/cluster/membership/member-list.js';
import type { MembershipMessage } from '../../../../src/cluster/membership/messages.js';
import type { MembershipOptions } from '../../../../src/cluster/membership/options.js';
import type { NodeId } from '../../../../src/core/ids.js';
import { mulberry32 } from '../../../helpers/prng.js';

/** An event as a simulated node saw it, stamped with the manual time. */
export type SeenEvent = MembershipEvent & { readonly at: number };

/** One simulated node. */
export interface SimNode {
  readonly id: NodeId;
  readonly m: Membership;
  readonly events: SeenEvent[];
  crashed: boolean;
  frozen: boolean;
  readonly inbox: { from: NodeId; message: unknown }[];
  readonly deferred: DeferredTimer[];
}

interface DeferredTimer {
  readonly fn: () => void;
  cancelled: boolean;
}

type Tunables = Omit<MembershipOptions, 'id' | 'io' | 'clock' | 'random'>;

/** Node ids `n0@10.0.0.1:4000`, `n1@10.0.0.1:4001`, ... */
export const simId = (i: number): NodeId => `n${i}@10.0.0.1:${4000 + i}`;

export class SimNetwork {
  readonly clock = new ManualClock();
  readonly nodes = new Map<NodeId, SimNode>();
  /** Messages sent per node, by type. */
  readonly sent = new Map<NodeId, Map<string, number>>();
  /** The largest message of each type seen so far: piggybacked records (or sync members) and JSON bytes. */
  readonly largest = new Map<string, { records: number; bytes: number }>();
  lossRate = 0;
  readonly #random: () => number;
  readonly #seed: number;
  readonly #defaults: Tunables;
  #partition: [Set<NodeId>, Set<NodeId>] | undefined;
  readonly #drops = new Set<(from: NodeId, to: NodeId, message: MembershipMessage) => boolean>();
  #created = 0;

  constructor(options: { seed?: number; defaults?: Tunables } = {}) {
    this.#seed = options.seed ?? 1;
    this.#random = mulberry32(this.#seed);
    this.#defaults = options.defaults ?? {};
  }

  /** Creates (or re-creates, for a restart) the node `id`. It is not started. */
  add(id: NodeId, options: Tunables & { incarnation?: number } = {}): SimNode {
    const events: SeenEvent[] = [];
    const node = { id, events, crashed: false, frozen: false, inbox: [], deferred: [] } as unknown as SimNode;
    const m = new Membership({
      incarnation: 1,
      ...this.#defaults,
      ...options,
      id,
      io: { send: (to, message) => this.#send(id, to, message) },
      clock: new NodeClock(this.clock, node),
      random: mulberry32(this.#seed * 7919 + ++this.#created),
    });
    (node as { m: Membership }).m = m;
    for (const type of ['nodeUp', 'nodeDown', 'suspect', 'alive', 'metaChanged', 'invalidMessage'] as const) {
      m.on(type, (e) => events.push({ ...e, at: this.clock.now() }));
    }
    this.nodes.set(id, node);
    return node;
  }

  /** Creates `n` nodes `simId(0..n-1)`. */
  addMany(n: number, options: Tunables = {}): SimNode[] {
    return Array.from({ length: n }, (_, i) => this.add(simId(i), options));
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no simulated node ${id}`);
    return n;
  }

  /** The nodes that neither crashed nor stopped. */
  live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => !n.crashed && n.m.state === 'running');
  }

  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    this.#partition = [new Set(a), new Set(b)];
  }

  heal(): void {
    this.#partition = undefined;
  }

  /** Drops messages matching `fn` until the returned function is called. */
  drop(fn: (from: NodeId, to: NodeId, message: MembershipMessage) => boolean): () => void {
    this.#drops.add(fn);
    return () => this.#drops.delete(fn);
  }

  crash(id: NodeId): void {
    const n = this.node(id);
    n.crashed = true;
    n.m.stop(); // a dead process does nothing; stop() sends nothing and frees its timers
  }

  freeze(id: NodeId): void {
    this.node(id).frozen = true;
  }

  thaw(id: NodeId): void {
    const n = this.node(id);
    n.frozen = false;
    for (const { from, message } of n.inbox.splice(0)) if (!n.crashed) n.m.handle(from, message);
    for (const t of n.deferred.splice(0)) if (!t.cancelled) t.fn();
  }

  /** Advances manual time by `ms`. */
  async run(ms: number): Promise<void> {
    await this.clock.advance(ms);
  }

  /**
   * Advances time in `stepMs` steps until `done()` holds; returns the manual time it took.
   * Throws when it does not hold within `maxMs`.
   */
  async runUntil(done: () => boolean, maxMs: number, stepMs = 50): Promise<number> {
    const start = this.clock.now();
    while (!done()) {
      if (this.clock.now() - start >= maxMs) throw new Error(`runUntil: condition not met within ${maxMs} ms of manual time`);
      await this.clock.advance(stepMs);
    }
    return this.clock.now() - start;
  }

  /** Whether every live node in `ids` sees exactly `ids` up, all alive, each at its own incarnation. */
  converged(ids: readonly NodeId[]): boolean {
    const nodes = ids.map((id) => this.node(id));
    const want = new Map(nodes.map((n) => [n.id, n.m.incarnation]));
    return nodes.every((n) => {
      let up = 0;
      for (const member of n.m.members()) {
        if (member.status === 'alive' || member.status === 'suspect') {
          if (member.status !== 'alive' || want.get(member.id) !== member.incarnation) return false;
          up++;
        }
      }
      return up === ids.length;
    });
  }

  /** The events of `type` that node `at` saw about `about`. */
  eventsOf(at: NodeId, type: MembershipEvent['type'], about?: NodeId): SeenEvent[] {
    return this.node(at).events.filter((e) => e.type === type && (about === undefined || ('node' in e && e.node === about)));
  }

  /** Total messages sent by `id` (all types, or those of `types`). */
  sentBy(id: NodeId, types?: readonly string[]): number {
    let total = 0;
    for (const [type, count] of this.sent.get(id) ?? []) if (types === undefined || types.includes(type)) total += count;
    return total;
  }

  #blocked(from: NodeId, to: NodeId): boolean {
    const p = this.#partition;
    return p !== undefined && ((p[0].has(from) && p[1].has(to)) || (p[1].has(from) && p[0].has(to)));
  }

  #send(from: NodeId, to: NodeId, message: MembershipMessage): void {
    const sender = this.nodes.get(from);
    if (sender === undefined || sender.crashed) return;
    let counts = this.sent.get(from);
    if (counts === undefined) this.sent.set(from, (counts = new Map()));
    counts.set(message.type, (counts.get(message.type) ?? 0) + 1);
    const json = JSON.stringify(message);
    const records = message.type === 'sync' ? message.members.length : message.gossip.length;
    const seen = this.largest.get(message.type) ?? { records: 0, bytes: 0 };
    this.largest.set(message.type, { records: Math.max(seen.records, records), bytes: Math.max(seen.bytes, json.length) });
    if (this.#blocked(from, to)) return;
    if (this.lossRate > 0 && this.#random() < this.lossRate) return;
    for (const fn of this.#drops) if (fn(from, to, message)) return;
    const payload: unknown = JSON.parse(json);
    const latency = 1 + Math.floor(this.#random() * 4);
    this.clock.setTimeout(() => this.#deliver(from, to, payload), latency);
  }

  #deliver(from: NodeId, to: NodeId, message: unknown): void {
    const target = this.nodes.get(to);
    if (target === undefined || target.crashed || this.#blocked(from, to)) return;
    if (target.frozen) target.inbox.push({ from, message });
    else target.m.handle(from, message);
  }
}

/** A node's view of the shared clock: while the node is frozen its timers wait for the thaw. */
class NodeClock implements Clock {
  readonly #base: ManualClock;
  readonly #node: SimNode;

  constructor(base: ManualClock, node: SimNode) {
    this.#base = base;
    this.#node = node;
  }

  now(): number {
    return this.#base.now();
  }

  wallTime(): number {
    return this.#base.wallTime();
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const deferred: DeferredTimer = { fn, cancelled: false };
    const inner = this.#base.setTimeout(() => {
      if (this.#node.frozen) this.#node.deferred.push(deferred);
      else fn();
    }, ms);
    return {
      cancel: () => {
        deferred.cancelled = true;
        inner.cancel();
      },
    };
  }

  /** Membership uses no intervals; ticks that fall due while frozen are skipped, not deferred. */
  setInterval(fn: () => void, ms: number): Timer {
    const inner = this.#base.setInterval(() => {
      if (!this.#node.frozen) fn();
    }, ms);
    return inner;
  }
}
