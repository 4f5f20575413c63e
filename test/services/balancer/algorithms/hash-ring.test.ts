import { afterEach, describe, expect, it, vi } from 'vitest';
import { hashRingAlgorithm } from '../../../../src/services/balancer/algorithms/hash-ring.js';
import type { Candidate, SelectionContext } from '../../../../src/services/balancer/algorithms/types.js';
import { HashRing } from '../../../../src/services/ring/hash-ring.js';
import { mulberry32 } from '../../../helpers/prng.js';

const KEYS = Array.from({ length: 2_000 }, (_, i) => `session:${i}`);
const NODES = Array.from({ length: 6 }, (_, i) => `svc${i}@10.0.0.${i + 1}:4369`);

/** Fresh candidates for these nodes, with varied load (which hash-ring must ignore). */
function list(nodes: readonly string[], random: () => number = mulberry32(1)): Candidate[] {
  return nodes.map((node) => ({ node, weight: 1, inFlight: Math.floor(random() * 10), meta: {} }));
}

function context(key: string | undefined, random: () => number = () => 0.5): SelectionContext {
  return { key, random, localNode: NODES[0]! };
}

function ownersOf(algorithm: ReturnType<typeof hashRingAlgorithm>, nodes: readonly string[]): string[] {
  return KEYS.map((key) => algorithm.select(list(nodes), context(key))!.node);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('hash-ring algorithm', () => {
  it('hash-ring — a key goes to its owner on a ring of the candidates (128 points each)', () => {
    const ring = new HashRing(NODES, { vnodes: 128 });
    expect(ownersOf(hashRingAlgorithm(), NODES)).toEqual(KEYS.map((key) => ring.owner(key)));
  });

  it('hash-ring — the same key always gets the same provider, on any instance, whatever the load', () => {
    const one = hashRingAlgorithm();
    const two = hashRingAlgorithm();
    const random = mulberry32(8);
    for (const key of KEYS.slice(0, 200)) {
      const chosen = one.select(list(NODES, random), context(key))!.node;
      for (let again = 0; again < 3; again++) expect(one.select(list(NODES, random), context(key))!.node).toBe(chosen);
      expect(two.select(list(NODES, random), context(key))!.node).toBe(chosen);
    }
  });

  it('hash-ring — the order of the candidate list does not matter', () => {
    const algorithm = hashRingAlgorithm();
    const expected = ownersOf(algorithm, NODES);
    expect(ownersOf(algorithm, [...NODES].reverse())).toEqual(expected);
    expect(ownersOf(hashRingAlgorithm(), [NODES[3]!, NODES[0]!, NODES[5]!, NODES[1]!, NODES[4]!, NODES[2]!])).toEqual(expected);
  });

  it('hash-ring — returns the candidate object it was given, even after a reorder', () => {
    const algorithm = hashRingAlgorithm();
    for (const nodes of [NODES, [...NODES].reverse()]) {
      const candidates = list(nodes);
      const chosen = algorithm.select(candidates, context('user:42'))!;
      expect(candidates).toContain(chosen);
      expect(chosen.node).toBe(new HashRing(NODES).owner('user:42'));
    }
  });

  it('hash-ring — a provider that drops out moves only its own keys', () => {
    const algorithm = hashRingAlgorithm();
    const before = ownersOf(algorithm, NODES);
    const gone = NODES[2]!;
    const after = ownersOf(algorithm, NODES.filter((n) => n !== gone));
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === gone) expect(after[i]).not.toBe(gone);
      else expect(after[i]).toBe(before[i]);
    }
    expect(ownersOf(algorithm, NODES)).toEqual(before);
  });

  it('hash-ring — the ring is rebuilt only when the candidate set changes', () => {
    const setNodes = vi.spyOn(HashRing.prototype, 'setNodes');
    const algorithm = hashRingAlgorithm();
    for (let i = 0; i < 50; i++) algorithm.select(list(NODES), context(`k${i}`));
    expect(setNodes).toHaveBeenCalledTimes(1);
    // A reorder re-indexes the list but leaves the ring as it is.
    algorithm.select(list([...NODES].reverse()), context('k'));
    expect(setNodes).toHaveBeenCalledTimes(2);
    expect(setNodes.mock.results[1]!.value).toBe(false);
    algorithm.select(list(NODES.slice(1)), context('k'));
    expect(setNodes.mock.results[2]!.value).toBe(true);
  });

  it('hash-ring — without a key the pick is random: one draw, all candidates reached', () => {
    const algorithm = hashRingAlgorithm();
    const source = mulberry32(6);
    let draws = 0;
    const random = () => {
      draws++;
      return source();
    };
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) seen.add(algorithm.select(list(NODES), context(undefined, random))!.node);
    expect(draws).toBe(600);
    expect(seen).toEqual(new Set(NODES));
  });

  it('hash-ring — with a key it uses no randomness; no candidates, no choice', () => {
    const algorithm = hashRingAlgorithm();
    const random = vi.fn(() => 0.5);
    algorithm.select(list(NODES), context('user:1', random));
    expect(random).not.toHaveBeenCalled();
    expect(algorithm.select([], context('user:1'))).toBeUndefined();
    expect(algorithm.select([], context(undefined))).toBeUndefined();
  });

  it('hash-ring — a single candidate gets every key', () => {
    const algorithm = hashRingAlgorithm();
    const only = list([NODES[4]!]);
    for (const key of KEYS.slice(0, 50)) expect(algorithm.select(only, context(key))).toBe(only[0]);
  });
});
