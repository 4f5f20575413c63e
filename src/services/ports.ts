/**
 * The two small interfaces the cluster-wide services (global registry, groups) are built on, so
 * that they can run over a real node or over a fake network in tests.
 *
 * - `ClusterPort`: send a message of a type to a node, handle a type, know the peers that are up,
 *   and hear when a peer comes up (or its link is re-established) and when it goes down.
 * - `ProcessPort`: what the services need of the local process runtime: whether a local process is
 *   alive, when one exits, and ending one with a reason.
 * - `channel`: a service's own message type on a `ClusterPort`, with sends that log a failure
 *   rather than throw (the snapshot on the next `up` heals what was lost).
 */
import type { Clock } from '../core/clock.js';
import type { Unsubscribe } from '../core/events.js';
import type { NodeId, Pid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { RefusalListener } from '../transport/link-manager.js';
import type { Exit, ExitReason } from '../process/types.js';

/** A change of a peer as the services see it. */
export type PeerEvent =
  /**
   * The peer is up and linked: it joined, restarted, or its link was re-established after a
   * break. Services send it a snapshot of what this node owns and ask for its own (snapshots are
   * idempotent).
   */
  | { readonly type: 'up'; readonly node: NodeId }
  /** Membership declared the peer down (failed or left): drop everything it owned. */
  | { readonly type: 'down'; readonly node: NodeId }
  /**
   * The link to the peer broke while membership may still have it up: what was in flight to it
   * may be lost, and nothing will answer over that link (requests waiting on it fail now).
   */
  | { readonly type: 'lost'; readonly node: NodeId };

export interface ClusterPort {
  /** This node's id. */
  readonly id: NodeId;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Sends a message of `type` to a node. Messages from one node to another with the same `lane`
   * arrive in order, large or small, or not at all (a lost link loses what was in flight; an `up`
   * event follows when it comes back). Without a lane a small message may overtake a large one.
   * `listener` hears of a message that waited for the link and was refused when it came up (too
   * large for the other node).
   * @throws CohortError `NOCONNECTION` and other send failures; services catch and log them.
   */
  send(to: NodeId, type: string, body: unknown, lane?: number, listener?: RefusalListener): void;
  /** Registers the handler of a message type; `from` is the authenticated sender. */
  handle(type: string, fn: (from: NodeId, body: unknown) => void): Unsubscribe;
  /** The peers that are up now (this node excluded). */
  peers(): NodeId[];
  /** Subscribes to peer changes. */
  onPeer(fn: (event: PeerEvent) => void): Unsubscribe;
}

export interface ProcessPort {
  /** Whether a pid names a live process of this node. */
  isAlive(pid: Pid): boolean;
  /** Subscribes to the exits of this node's processes. */
  onExit(fn: (pid: Pid, exit: Exit) => void): Unsubscribe;
  /** Ends a local process at once with `reason` (its `terminate` does not run). */
  exit(pid: Pid, reason: ExitReason, message: string): void;
}

/** A service's message type on the cluster: see {@link channel}. */
export interface Channel<M extends { readonly type: string }> {
  /** Sends to one node; a failure is logged, not thrown. */
  send(to: NodeId, message: M): void;
  /** Sends to every peer that is up now. */
  broadcast(message: M): void;
}

/** The lane of each channel's message type; lanes only order a sender's own messages, so numbering them per process is enough. */
const channelLanes = new Map<string, number>();

/**
 * Sends of message type `type` over `port`, all on one lane: they arrive in the order sent, a
 * large snapshot included. A failed send is logged as a warning on `log` (naming `what`, e.g.
 * `registry`) and otherwise dropped: the services repair lost messages with the snapshots they
 * exchange when a peer comes up again.
 */
export function channel<M extends { readonly type: string }>(port: ClusterPort, type: string, log: Logger, what: string): Channel<M> {
  let lane = channelLanes.get(type);
  if (lane === undefined) channelLanes.set(type, (lane = -1 - channelLanes.size));
  const send = (to: NodeId, message: M): void => {
    try {
      port.send(to, type, message, lane);
    } catch (error) {
      log.warn(`could not send a ${what} message`, { to, type: message.type, error: String(error) });
    }
  };
  return {
    send,
    broadcast: (message) => {
      for (const peer of port.peers()) if (peer !== port.id) send(peer, message);
    },
  };
}
