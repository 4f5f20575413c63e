/**
 * The gossip queue: membership updates waiting to ride piggyback on probe traffic.
 *
 * Each update is retransmitted a bounded number of times, `retransmitMult * ceil(log10(n + 1))`
 * for a cluster of `n` members (memberlist's "retransmit mult"): infection-style dissemination
 * reaches every member with high probability after O(log n) rounds, so a few times that many
 * sends suffice. `take` hands out the least-sent updates first and, among equally sent ones, the
 * newest first, at most `limit` per message. A newer update about a member replaces the queued
 * one (only the latest record about a member is worth sending). The queue holds at most
 * `capacity` updates; past that the most-sent (then oldest) are dropped first.
 *
 * What it does not do: decide what is news (the caller merges first and queues only changes), or
 * guarantee delivery (periodic full-state sync repairs what gossip missed).
 */
import type { NodeId } from '../../core/ids.js';
import type { Member } from './member.js';

interface Entry {
  readonly member: Member;
  /** Insertion order: higher is newer. */
  readonly seq: number;
  transmits: number;
}

/** How many times an update is sent in a cluster of `clusterSize` members. At least `mult`. */
export function retransmitLimit(mult: number, clusterSize: number): number {
  return mult * Math.max(1, Math.ceil(Math.log10(Math.max(1, clusterSize) + 1)));
}

/**
 * A bounded queue of member updates ordered by (fewest transmits, newest).
 *
 * @example
 * const q = new GossipQueue({ retransmitMult: 4, capacity: 1024 });
 * q.enqueue(record);
 * const piggyback = q.take(8, members.size); // up to 8 updates, least sent and newest first
 */
export class GossipQueue {
  readonly #mult: number;
  readonly #capacity: number;
  /** `#buckets[t]` holds the entries sent `t` times, ordered oldest to newest by `seq`. */
  #buckets: Entry[][] = [];
  readonly #byId = new Map<NodeId, Entry>();
  #seq = 0;

  constructor(options: { retransmitMult: number; capacity: number }) {
    this.#mult = options.retransmitMult;
    this.#capacity = options.capacity;
  }

  /** How many updates are queued. */
  get size(): number {
    return this.#byId.size;
  }

  /** Queues `member` to be sent, replacing any queued update about the same member. */
  enqueue(member: Member): void {
    const old = this.#byId.get(member.id);
    if (old !== undefined) this.#remove(old);
    const entry: Entry = { member, seq: this.#seq++, transmits: 0 };
    this.#byId.set(member.id, entry);
    this.#bucket(0).push(entry); // newest of its bucket: the end
    if (this.#byId.size > this.#capacity) this.#evict();
  }

  /** The queued update about `id`, if any (for tests and diagnostics). */
  peek(id: NodeId): { member: Member; transmits: number } | undefined {
    const e = this.#byId.get(id);
    return e === undefined ? undefined : { member: e.member, transmits: e.transmits };
  }

  /**
   * Takes up to `limit` updates for one message, least sent first and newest first among equals,
   * skipping the update about `exclude`. Counts one transmit for each; an update that reaches the
   * retransmit limit for `clusterSize` leaves the queue.
   */
  take(limit: number, clusterSize: number, exclude?: NodeId): Member[] {
    const out: Entry[] = [];
    for (let t = 0; t < this.#buckets.length && out.length < limit; t++) {
      const bucket = this.#buckets[t]!;
      for (let i = bucket.length - 1; i >= 0 && out.length < limit; i--) {
        const e = bucket[i]!;
        if (e.member.id !== exclude) out.push(e);
      }
    }
    const max = retransmitLimit(this.#mult, clusterSize);
    for (const e of out) {
      this.#remove(e);
      e.transmits++;
      if (e.transmits < max) {
        this.#byId.set(e.member.id, e);
        insertBySeq(this.#bucket(e.transmits), e);
      }
    }
    return out.map((e) => e.member);
  }

  /** Drops every queued update. */
  clear(): void {
    this.#buckets = [];
    this.#byId.clear();
  }

  #bucket(t: number): Entry[] {
    while (this.#buckets.length <= t) this.#buckets.push([]);
    return this.#buckets[t]!;
  }

  #remove(e: Entry): void {
    this.#byId.delete(e.member.id);
    const bucket = this.#buckets[e.transmits];
    if (bucket === undefined) return;
    const i = bucket.indexOf(e);
    if (i >= 0) bucket.splice(i, 1);
  }

  /** Drops the most-sent, then oldest, entries until the queue fits its capacity. */
  #evict(): void {
    for (let t = this.#buckets.length - 1; t >= 0 && this.#byId.size > this.#capacity; t--) {
      const bucket = this.#buckets[t]!;
      while (bucket.length > 0 && this.#byId.size > this.#capacity) {
        const e = bucket.shift()!;
        this.#byId.delete(e.member.id);
      }
    }
  }
}

/** Inserts `e` into `bucket`, which is sorted by ascending `seq`. */
function insertBySeq(bucket: Entry[], e: Entry): void {
  let lo = 0;
  let hi = bucket.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bucket[mid]!.seq < e.seq) lo = mid + 1;
    else hi = mid;
  }
  bucket.splice(lo, 0, e);
}
