/**
 * The seam between a balancer and the way it picks a provider: one small interface that every
 * selection algorithm, built-in or custom, implements.
 *
 * Contract: the balancer hands `select` the candidates it may use, already filtered (failed,
 * excluded and draining providers and open circuit breakers removed), sorted by node id and, in
 * normal use, non-empty. `select` returns one of those candidate objects, or `undefined` only when
 * it cannot choose (an empty list; `direct` with no local provider). It must not throw on a
 * well-formed list, must not keep the candidate objects beyond the call, and does no I/O.
 * Randomness comes from `context.random` only, so a seeded source makes a balancer reproducible.
 *
 * Does not: filter, retry, track in-flight calls or open breakers; that is the balancer's job.
 */
import type { NodeId } from '../../../core/ids.js';

/** A provider as a selection algorithm sees it. */
export interface Candidate {
  /** The node that provides the service. */
  readonly node: NodeId;
  /** Its weight for weighted algorithms; other algorithms ignore it. */
  readonly weight: number;
  /** Calls from this node to that provider that have not finished yet. */
  readonly inFlight: number;
  /** The provider's advertised metadata. */
  readonly meta: Readonly<Record<string, string>>;
}

/** What a selection may depend on besides the candidates. */
export interface SelectionContext {
  /** The call's affinity key (e.g. `'user:42'`), for key-based algorithms such as `hash-ring`. */
  readonly key?: string | undefined;
  /** Uniform numbers in `[0, 1)`; the only source of randomness an algorithm may use. */
  readonly random: () => number;
  /** The id of the node that is selecting. */
  readonly localNode: NodeId;
}

/** A way of picking one provider among candidates. */
export interface SelectionAlgorithm {
  /** A name for logs and errors, e.g. `'round-robin'`. */
  readonly name: string;
  /**
   * Picks one of `candidates` (returning that very object), or `undefined` when it cannot choose.
   * Called once per attempt of a call; may update the algorithm's own state.
   */
  select(candidates: readonly Candidate[], context: SelectionContext): Candidate | undefined;
}

/** Makes one algorithm instance per balancer (algorithms may keep state: round-robin position, weights, ring). */
export type AlgorithmFactory = () => SelectionAlgorithm;

/**
 * Whether `candidates` lists exactly the nodes of `order`, in that order: how a stateful algorithm
 * tells, in O(n) and without allocating, that the provider list is the one it last adapted to.
 */
export function sameNodes(order: readonly NodeId[], candidates: readonly Candidate[]): boolean {
  if (order.length !== candidates.length) return false;
  for (let i = 0; i < order.length; i++) if (order[i] !== candidates[i]!.node) return false;
  return true;
}
