/**
 * `random`: every candidate equally likely, drawn from `context.random`.
 *
 * Guarantees: with a uniform source each of n candidates is chosen with probability 1/n,
 * independently of earlier picks; a source that strays outside `[0, 1)` (or returns NaN) is
 * clamped, so an index is always in range. Stateless. Does not: look at load or weights.
 */
import type { Candidate, SelectionAlgorithm, SelectionContext } from './types.js';

/**
 * A uniform index in `[0, n)` from one draw of `random`; out-of-range draws are clamped.
 * Shared by the algorithms that draw candidates (`power-of-two`, `hash-ring` without a key).
 *
 * @example
 * randomIndex(Math.random, 3); // 0, 1 or 2
 */
export function randomIndex(random: () => number, n: number): number {
  const index = Math.floor(random() * n);
  // `index >= 0` is false for NaN too.
  return index >= 0 ? (index < n ? index : n - 1) : 0;
}

/**
 * Makes a `random` algorithm: a uniformly random candidate per call.
 *
 * @example
 * const algorithm = randomAlgorithm();
 * algorithm.select(candidates, { random: Math.random, localNode }); // any candidate, uniformly
 */
export function randomAlgorithm(): SelectionAlgorithm {
  return {
    name: 'random',
    select(candidates: readonly Candidate[], context: SelectionContext): Candidate | undefined {
      if (candidates.length === 0) return undefined;
      return candidates[randomIndex(context.random, candidates.length)];
    },
  };
}
