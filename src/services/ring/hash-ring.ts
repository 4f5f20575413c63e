/**
 * A consistent hash ring: which node owns a key, such that a change of nodes moves few keys.
 *
 * Every node puts `vnodes` points on the circle of 32-bit hashes: point `i` of node `n` sits at
 * `murmur3(`${n}#${i}`)` for `i` in `[0, vnodes)` (see `murmur3.ts` for the exact hash). The owner
 * of a key is the node of the first point at or after `murmur3(key)`, going round to the lowest
 * point past 2^32 − 1. When two points sit at the same hash, the one of the node whose id sorts
 * first (JavaScript string order, i.e. by UTF-16 code units, which for ASCII ids is byte order)
 * comes first and so owns the keys there. Anyone with the same node ids, `vnodes` and hash
 * computes the same owners.
 *
 * Guarantees: the owner depends only on the set of nodes, the key and `vnodes`, never on the order
 * nodes were added in. Adding a node only moves keys onto it; removing one only moves its own
 * keys, each to the node that owns the next point. With 128 points per node each node owns about
 * 1/N of the keys (within roughly ±30% at the default). Lookups are a binary search over a sorted
 * `Uint32Array` of points: O(log points), no allocation for ASCII keys.
 *
 * Does not: replicate (no "next k owners"), weigh nodes differently, know anything about
 * membership or balancers, or keep any state shared between rings.
 */
import { CohortError, describe } from '../../core/errors.js';
import { murmur3 } from './murmur3.js';

/** Options of {@link HashRing}. */
export interface HashRingOptions {
  /**
   * How many points each node puts on the ring; an integer in `[1, 4096]`. More points spread
   * keys more evenly at the cost of memory (8 bytes per point) and rebuild time.
   * @default 128
   */
  vnodes?: number;
}

/** The defaults of {@link HashRingOptions}. */
export const HASH_RING_DEFAULTS: Readonly<Required<HashRingOptions>> = Object.freeze({
  vnodes: 128,
});

const MAX_VNODES = 4096;

/**
 * A consistent hash ring of node ids.
 *
 * @throws CohortError `INVALID_OPTION` from the constructor for a bad `vnodes`;
 *   `INVALID_ARGUMENT` for a node id that is not a non-empty string.
 * @example
 * const ring = new HashRing(['a@10.0.0.1:4369', 'b@10.0.0.2:4369']);
 * ring.owner('user:42'); // 'a@10.0.0.1:4369' or 'b@10.0.0.2:4369', the same on every node
 * ring.add('c@10.0.0.3:4369'); // only keys that now belong to c move
 */
export class HashRing {
  readonly #vnodes: number;
  /** Every member, with the hashes of its points (unsorted, in point order). */
  readonly #members = new Map<string, Uint32Array>();
  /** The hashes of all points, ascending; ties ordered by node id. */
  #hashes: Uint32Array = new Uint32Array(0);
  /** The node of each point of {@link #hashes}, index for index. */
  #owners: string[] = [];

  constructor(nodes: Iterable<string> = [], options: HashRingOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new CohortError('INVALID_OPTION', `hash ring options must be an object, got ${describe(options)}`);
    }
    const vnodes = options.vnodes ?? HASH_RING_DEFAULTS.vnodes;
    if (typeof vnodes !== 'number' || !Number.isInteger(vnodes) || vnodes < 1 || vnodes > MAX_VNODES) {
      throw new CohortError(
        'INVALID_OPTION',
        `invalid hash ring option vnodes ${describe(vnodes)}: expected an integer from 1 to ${MAX_VNODES}`,
        { details: { option: 'vnodes', value: vnodes } },
      );
    }
    this.#vnodes = vnodes;
    for (const node of iterate(nodes)) this.#remember(node);
    this.#rebuild();
  }

  /** How many points each node has on the ring. */
  get vnodes(): number {
    return this.#vnodes;
  }

  /** How many nodes are on the ring. */
  get size(): number {
    return this.#members.size;
  }

  /** Whether a node is on the ring. */
  has(node: string): boolean {
    return this.#members.has(node);
  }

  /** The nodes on the ring, sorted. */
  nodes(): string[] {
    return [...this.#members.keys()].sort();
  }

  /**
   * Puts a node on the ring; returns whether it was new. Merges its points in: O(points).
   *
   * @throws CohortError `INVALID_ARGUMENT` when `node` is not a non-empty string.
   * @example
   * ring.add('c@10.0.0.3:4369'); // true
   * ring.add('c@10.0.0.3:4369'); // false, already there
   */
  add(node: string): boolean {
    checkNode(node);
    if (this.#members.has(node)) return false;
    const own = this.#remember(node);
    const sorted = Uint32Array.from(own).sort();
    const total = this.#hashes.length + sorted.length;
    const hashes = new Uint32Array(total);
    const owners = new Array<string>(total);
    let i = 0;
    let j = 0;
    for (let out = 0; out < total; out++) {
      const takeOld =
        j >= sorted.length ||
        (i < this.#hashes.length && (this.#hashes[i]! < sorted[j]! || (this.#hashes[i] === sorted[j] && this.#owners[i]! < node)));
      if (takeOld) {
        hashes[out] = this.#hashes[i]!;
        owners[out] = this.#owners[i]!;
        i++;
      } else {
        hashes[out] = sorted[j]!;
        owners[out] = node;
        j++;
      }
    }
    this.#hashes = hashes;
    this.#owners = owners;
    return true;
  }

  /**
   * Takes a node off the ring; returns whether it was there. O(points).
   *
   * @example
   * ring.remove('c@10.0.0.3:4369'); // its keys go to the nodes of the points after its own
   */
  remove(node: string): boolean {
    if (!this.#members.delete(node)) return false;
    const keep = this.#hashes.length - this.#vnodes;
    const hashes = new Uint32Array(keep);
    const owners = new Array<string>(keep);
    let out = 0;
    for (let i = 0; i < this.#hashes.length; i++) {
      if (this.#owners[i] === node) continue;
      hashes[out] = this.#hashes[i]!;
      owners[out] = this.#owners[i]!;
      out++;
    }
    this.#hashes = hashes;
    this.#owners = owners;
    return true;
  }

  /**
   * Makes the ring hold exactly these nodes; rebuilds only if the set differs from the current
   * one (order and duplicates do not matter). Returns whether anything changed.
   *
   * @throws CohortError `INVALID_ARGUMENT` when a node is not a non-empty string (the ring is
   *   then left as it was).
   * @example
   * ring.setNodes(aliveMembers); // cheap when membership did not change
   */
  setNodes(nodes: Iterable<string>): boolean {
    const next = new Set<string>();
    for (const node of iterate(nodes)) next.add(node);
    if (next.size === this.#members.size) {
      let same = true;
      for (const node of next) {
        if (!this.#members.has(node)) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
    for (const node of [...this.#members.keys()]) if (!next.has(node)) this.#members.delete(node);
    for (const node of next) this.#remember(node);
    this.#rebuild();
    return true;
  }

  /**
   * The node that owns a key, or `undefined` when the ring is empty. O(log points).
   *
   * @throws CohortError `INVALID_ARGUMENT` when `key` is not a string.
   * @example
   * const node = ring.owner('user:42');
   */
  owner(key: string): string | undefined {
    if (typeof key !== 'string') {
      throw new CohortError('INVALID_ARGUMENT', `hash ring: a key must be a string, got ${describe(key)}`);
    }
    const hashes = this.#hashes;
    if (hashes.length === 0) return undefined;
    const h = murmur3(key);
    // The first point with hash >= h (lower bound); past the last point, go round to the first.
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (hashes[mid]! < h) low = mid + 1;
      else high = mid;
    }
    return this.#owners[low === hashes.length ? 0 : low];
  }

  /** Adds a node to the member table with its point hashes (computed once per membership). */
  #remember(node: string): Uint32Array {
    const known = this.#members.get(node);
    if (known !== undefined) return known;
    const points = new Uint32Array(this.#vnodes);
    for (let i = 0; i < points.length; i++) points[i] = murmur3(`${node}#${i}`);
    this.#members.set(node, points);
    return points;
  }

  /**
   * Sorts every member's points from scratch. Each point is packed into one float64 as
   * `hash * nodeCount + rank of its node id`, which is exact (below 2^53) for up to 2^21 nodes, far
   * more than fit in memory at any useful `vnodes`; a numeric sort of the packed values then orders
   * by hash and, among equal hashes, by node id.
   */
  #rebuild(): void {
    const nodes = this.nodes();
    const count = nodes.length;
    const packed = new Float64Array(count * this.#vnodes);
    let out = 0;
    for (let rank = 0; rank < count; rank++) {
      for (const hash of this.#members.get(nodes[rank]!)!) packed[out++] = hash * count + rank;
    }
    packed.sort();
    const hashes = new Uint32Array(packed.length);
    const owners = new Array<string>(packed.length);
    for (let i = 0; i < packed.length; i++) {
      const value = packed[i]!;
      const rank = value % count;
      hashes[i] = (value - rank) / count;
      owners[i] = nodes[rank]!;
    }
    this.#hashes = hashes;
    this.#owners = owners;
  }
}

function checkNode(node: unknown): asserts node is string {
  if (typeof node !== 'string' || node.length === 0) {
    throw new CohortError('INVALID_ARGUMENT', `hash ring: a node must be a non-empty string, got ${describe(node)}`, {
      details: { node: typeof node === 'string' ? node : describe(node) },
    });
  }
}

/** The nodes of an iterable, each checked, collected first so that a bad one changes nothing. */
function iterate(nodes: Iterable<string>): string[] {
  if (nodes === null || typeof (nodes as Partial<Iterable<string>>)[Symbol.iterator] !== 'function') {
    throw new CohortError('INVALID_ARGUMENT', `hash ring: nodes must be an iterable of strings, got ${describe(nodes)}`);
  }
  const out = [...nodes];
  for (const node of out) checkNode(node);
  return out;
}
