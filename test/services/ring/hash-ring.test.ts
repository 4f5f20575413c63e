import { describe, expect, it } from 'vitest';
import { HASH_RING_DEFAULTS, HashRing } from '../../../src/services/ring/hash-ring.js';
import { murmur3 } from '../../../src/services/ring/murmur3.js';
import { thrown } from '../../helpers/errors.js';
import { mulberry32 } from '../../helpers/prng.js';

const K = 10_000;
const KEYS = Array.from({ length: K }, (_, i) => `user:${i}`);

function nodeId(i: number): string {
  return `worker${i}@10.0.${i >> 8}.${i & 255}:4369`;
}

function nodeIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => nodeId(i));
}

function owners(ring: HashRing): string[] {
  return KEYS.map((key) => ring.owner(key)!);
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The owner by the documented definition, computed the slow way: every point, sorted, scanned. */
function referenceOwner(nodes: readonly string[], vnodes: number, key: string): string | undefined {
  const points: { hash: number; node: string }[] = [];
  for (const node of nodes) for (let i = 0; i < vnodes; i++) points.push({ hash: murmur3(`${node}#${i}`), node });
  points.sort((a, b) => a.hash - b.hash || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const h = murmur3(key);
  return (points.find((p) => p.hash >= h) ?? points[0])?.node;
}

describe('HashRing', () => {
  it('HashRing — an empty ring owns nothing; a ring of one node owns everything', () => {
    const ring = new HashRing();
    expect(ring.size).toBe(0);
    expect(ring.owner('user:1')).toBeUndefined();
    ring.add('solo@127.0.0.1:1');
    expect(new Set(owners(ring))).toEqual(new Set(['solo@127.0.0.1:1']));
  });

  it('HashRing — owners follow the documented definition (first point at or after the hash, wrapping)', () => {
    const nodes = nodeIds(7);
    const ring = new HashRing(nodes, { vnodes: 16 });
    for (const key of KEYS.slice(0, 2_000)) expect(ring.owner(key)).toBe(referenceOwner(nodes, 16, key));
    // A key past the last point wraps to the lowest point.
    const hashes = nodes.flatMap((n) => Array.from({ length: 16 }, (_, i) => ({ h: murmur3(`${n}#${i}`), n })));
    const lowest = hashes.reduce((a, b) => (b.h < a.h ? b : a));
    const highest = hashes.reduce((a, b) => (b.h > a.h ? b : a));
    const wrapping = KEYS.find((key) => murmur3(key) > highest.h);
    expect(wrapping).toBeDefined();
    expect(ring.owner(wrapping!)).toBe(lowest.n);
  });

  it('HashRing — placements are pinned: the same nodes and keys give these owners everywhere', () => {
    const ring = new HashRing(['a@10.0.0.1:4369', 'b@10.0.0.2:4369', 'c@10.0.0.3:4369']);
    expect(['user:1', 'user:2', 'user:3', 'user:42', 'session:abc', ''].map((k) => ring.owner(k))).toEqual(PINNED);
  });

  it('HashRing — the owner depends on the set of nodes, not on the order they came in', () => {
    const random = mulberry32(3);
    const nodes = nodeIds(12);
    const expected = owners(new HashRing(nodes));
    const added = new HashRing();
    for (const node of shuffled(nodes, random)) added.add(node);
    expect(owners(added)).toEqual(expected);
    const set = new HashRing(['other@1.1.1.1:1']);
    set.setNodes(shuffled([...nodes, ...nodes.slice(0, 3)], random));
    expect(owners(set)).toEqual(expected);
    const shrunk = new HashRing([...nodes, ...nodeIds(20).slice(12)]);
    for (const node of shuffled(nodeIds(20).slice(12), random)) shrunk.remove(node);
    expect(owners(shrunk)).toEqual(expected);
  });

  it('HashRing — colliding points go to the lower node id, whichever was added first', () => {
    // murmur3('n16724#0') === murmur3('n100940#0') === 0xf7e364a4; 'n100940' < 'n16724'.
    expect(murmur3('n16724#0')).toBe(murmur3('n100940#0'));
    const one = new HashRing(['n16724', 'n100940'], { vnodes: 1 });
    const two = new HashRing(['n16724'], { vnodes: 1 });
    two.add('n100940');
    const three = new HashRing(['n100940'], { vnodes: 1 });
    three.add('n16724');
    for (const ring of [one, two, three]) {
      expect(new Set(KEYS.slice(0, 500).map((k) => ring.owner(k)))).toEqual(new Set(['n100940']));
    }
    two.remove('n100940');
    expect(new Set(KEYS.slice(0, 500).map((k) => two.owner(k)))).toEqual(new Set(['n16724']));
  });

  for (const n of [3, 5, 10, 20]) {
    it(`HashRing — adding a node to ${n} moves about K/(N+1) keys, all onto the new node`, () => {
      const ring = new HashRing(nodeIds(n));
      const before = owners(ring);
      const newcomer = nodeId(n);
      ring.add(newcomer);
      const after = owners(ring);
      let moved = 0;
      for (let i = 0; i < K; i++) {
        if (before[i] === after[i]) continue;
        moved++;
        expect(after[i]).toBe(newcomer);
      }
      expect(moved).toBeLessThanOrEqual((1.2 * K) / (n + 1));
      expect(moved).toBeGreaterThanOrEqual((0.5 * K) / (n + 1));
      expect(after.filter((o) => o === newcomer).length).toBe(moved);
    });

    it(`HashRing — removing one of ${n} nodes moves only that node's keys`, () => {
      const ring = new HashRing(nodeIds(n));
      const before = owners(ring);
      const leaver = nodeId(Math.floor(n / 2));
      expect(ring.remove(leaver)).toBe(true);
      const after = owners(ring);
      for (let i = 0; i < K; i++) {
        if (before[i] === leaver) expect(after[i]).not.toBe(leaver);
        else expect(after[i]).toBe(before[i]);
      }
    });

    it(`HashRing — ${n} nodes each own between 0.7 and 1.3 of an equal share`, () => {
      const counts = new Map<string, number>();
      for (const owner of owners(new HashRing(nodeIds(n)))) counts.set(owner, (counts.get(owner) ?? 0) + 1);
      expect(counts.size).toBe(n);
      for (const count of counts.values()) {
        expect(count / (K / n)).toBeGreaterThan(0.7);
        expect(count / (K / n)).toBeLessThan(1.3);
      }
    });
  }

  it('HashRing — add, remove, has, nodes and size describe the membership', () => {
    const ring = new HashRing(['b', 'a']);
    expect(ring.vnodes).toBe(HASH_RING_DEFAULTS.vnodes);
    expect(ring.nodes()).toEqual(['a', 'b']);
    expect(ring.add('c')).toBe(true);
    expect(ring.add('c')).toBe(false);
    expect(ring.has('c')).toBe(true);
    expect(ring.size).toBe(3);
    expect(ring.remove('a')).toBe(true);
    expect(ring.remove('a')).toBe(false);
    expect(ring.has('a')).toBe(false);
    expect(ring.nodes()).toEqual(['b', 'c']);
    expect(new Set(owners(ring))).toEqual(new Set(['b', 'c']));
    ring.remove('b');
    ring.remove('c');
    expect(ring.size).toBe(0);
    expect(ring.owner('x')).toBeUndefined();
  });

  it('HashRing — setNodes changes the ring only when the set differs', () => {
    const ring = new HashRing(['a', 'b', 'c']);
    const before = owners(ring);
    expect(ring.setNodes(['c', 'b', 'a', 'a'])).toBe(false);
    expect(owners(ring)).toEqual(before);
    expect(ring.setNodes(['a', 'b', 'd'])).toBe(true);
    expect(ring.nodes()).toEqual(['a', 'b', 'd']);
    expect(owners(ring)).toEqual(owners(new HashRing(['d', 'b', 'a'])));
    expect(ring.setNodes([])).toBe(true);
    expect(ring.owner('x')).toBeUndefined();
  });

  it('HashRing — fewer vnodes still give a consistent ring; every node has its points', () => {
    const nodes = nodeIds(4);
    const ring = new HashRing(nodes, { vnodes: 1 });
    expect(ring.vnodes).toBe(1);
    for (const key of KEYS.slice(0, 500)) expect(ring.owner(key)).toBe(referenceOwner(nodes, 1, key));
  });

  it('HashRing — refuses bad options, node ids and keys, and a bad node leaves the ring as it was', () => {
    for (const vnodes of [0, -1, 1.5, 4097, Number.NaN, '8']) {
      const error = thrown(() => new HashRing([], { vnodes: vnodes as number }));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain('expected an integer from 1 to 4096');
    }
    expect(thrown(() => new HashRing([], null as never)).code).toBe('INVALID_OPTION');
    for (const node of ['', 42, undefined]) {
      const error = thrown(() => new HashRing(['a', node as string]));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('a node must be a non-empty string');
    }
    expect(thrown(() => new HashRing(7 as unknown as string[])).message).toContain('nodes must be an iterable of strings');
    const ring = new HashRing(['a', 'b']);
    expect(thrown(() => ring.add('')).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => ring.setNodes(['c', 5 as unknown as string])).code).toBe('INVALID_ARGUMENT');
    expect(ring.nodes()).toEqual(['a', 'b']);
    const error = thrown(() => ring.owner(3 as unknown as string));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('a key must be a string, got 3');
  });
});

/**
 * Computed independently (Python over the C reference MurmurHash3_x86_32, 128 points per node,
 * bisect_left, wrapping) and equal to this implementation's; a change here breaks placement
 * compatibility between versions.
 */
const PINNED = ['b@10.0.0.2:4369', 'c@10.0.0.3:4369', 'a@10.0.0.1:4369', 'b@10.0.0.2:4369', 'a@10.0.0.1:4369', 'c@10.0.0.3:4369'];
