/**
 * The options of {@link Membership}: the seams it talks through (IO, clock, random, logger), the
 * local member's identity, and the protocol's tuning knobs with their defaults.
 *
 * Defaults follow SWIM and memberlist's LAN profile, scaled to Node.js: a 500 ms protocol period,
 * a 200 ms direct-probe timeout, 3 indirect probes, a 3 s suspicion timeout scaled by log10 of
 * the cluster size, a 400 ms suspicion after a lost connection, 8 piggybacked updates per
 * message, retransmit multiplier 4 and a full-state sync every 30 s. Every option is checked once,
 * up front; a bad one is an `INVALID_OPTION` error naming it and saying what was expected.
 */
import { hasMethods } from '../../core/checks.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { CohortError, describe } from '../../core/errors.js';
import { isNodeId, type NodeId } from '../../core/ids.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { checkMeta, type MemberMeta } from './member.js';
import { MAX_GOSSIP_PER_MESSAGE, type MembershipMessage } from './messages.js';

/** How membership reaches other members. The node wires it to real connections. */
export interface MembershipIO {
  /** Send a membership message to a member (best effort; may be lost). Must not throw. */
  send(to: NodeId, message: MembershipMessage): void;
}

/** Options of {@link Membership}. */
export interface MembershipOptions {
  /** The local member's node id. Required. */
  id: NodeId;
  /** Where messages go. Required. */
  io: MembershipIO;
  /** The source of time for every timer. @default systemClock */
  clock?: Clock;
  /** Uniform numbers in `[0, 1)`: shuffles, jitter, random peers. Inject a seeded one in tests. @default Math.random */
  random?: () => number;
  /** Where warnings (malformed messages) and debug lines go. @default silentLogger */
  logger?: Logger;
  /** The local member's meta: at most 32 string values and 1 KiB. @default {} */
  meta?: Record<string, string>;
  /**
   * The local member's starting incarnation, a safe integer >= 0. A new run of a node must start
   * higher than the last one did, so that its `alive` overrides the old run's `dead` or `left`;
   * the wall clock gives that (and a run that starts lower still catches up: it refutes any
   * record about itself that is newer than its own).
   * @default Math.floor(clock.wallTime())
   */
  incarnation?: number;
  /** The protocol period: one member is probed per period. Jittered by `jitter`. @default 500 */
  probeIntervalMs?: number;
  /** How long to wait for a direct ack before asking others to probe; < `probeIntervalMs`. @default 200 */
  probeTimeoutMs?: number;
  /** How many members are asked to probe indirectly (`ping-req`) after a direct miss (k). @default 3 */
  indirectProbes?: number;
  /**
   * How long a member stays `suspect` before it is declared `dead`, in a cluster of up to 10;
   * multiplied by log10(cluster size) beyond that (memberlist's scaling), because gossip needs
   * O(log n) periods to carry the suspicion to the member and its refutation back.
   * @default 3000
   */
  suspicionTimeoutMs?: number;
  /**
   * The suspicion timeout used instead when the member failed a probe shortly after
   * `connectionLost(id)` said its connection closed; <= `suspicionTimeoutMs`.
   * @default 400
   */
  connectionLostSuspicionMs?: number;
  /** Each update is piggybacked `retransmitMult * ceil(log10(n + 1))` times. @default 4 */
  retransmitMult?: number;
  /** The most updates piggybacked on one ping, ack or ping-req (1..64). @default 8 */
  maxPiggyback?: number;
  /** The most updates waiting in the gossip queue; the most-sent are dropped first. @default 1024 */
  gossipQueueLimit?: number;
  /** The period of full-state sync with one random member (partition healing). Jittered. @default 30000 */
  pushPullIntervalMs?: number;
  /**
   * The period at which one random `dead` (failed, not left) member is sent a full-state sync, so
   * that both sides of a healed partition find each other without waiting for push-pull. Sends to
   * a node that is really gone fail at once. Jittered. @default 5000
   */
  reconnectIntervalMs?: number;
  /** How many members a leaving member tells directly. @default 8 */
  leaveFanout?: number;
  /** Periodic timers vary uniformly by ± this fraction of their period (0..0.5). @default 0.1 */
  jitter?: number;
  /** How long a `dead` or `left` member is remembered before it is forgotten. @default 3_600_000 */
  deadRetentionMs?: number;
}

/** Defaults of {@link MembershipOptions}. `incarnation` defaults to the clock's wall time. */
export const MEMBERSHIP_DEFAULTS = Object.freeze({
  clock: systemClock,
  random: Math.random,
  logger: silentLogger,
  meta: Object.freeze({}) as MemberMeta,
  probeIntervalMs: 500,
  probeTimeoutMs: 200,
  indirectProbes: 3,
  suspicionTimeoutMs: 3_000,
  connectionLostSuspicionMs: 400,
  retransmitMult: 4,
  maxPiggyback: 8,
  gossipQueueLimit: 1_024,
  pushPullIntervalMs: 30_000,
  reconnectIntervalMs: 5_000,
  leaveFanout: 8,
  jitter: 0.1,
  deadRetentionMs: 3_600_000,
});

/** Options after defaults and validation. */
export interface ResolvedMembershipOptions extends Readonly<Required<Omit<MembershipOptions, 'meta'>>> {
  readonly meta: MemberMeta;
}

const KEYS: readonly (keyof MembershipOptions)[] = Object.freeze([
  'id', 'io', 'clock', 'random', 'logger', 'meta', 'incarnation', 'probeIntervalMs', 'probeTimeoutMs',
  'indirectProbes', 'suspicionTimeoutMs', 'connectionLostSuspicionMs', 'retransmitMult', 'maxPiggyback',
  'gossipQueueLimit', 'pushPullIntervalMs', 'reconnectIntervalMs', 'leaveFanout', 'jitter', 'deadRetentionMs',
]);

function invalid(name: string, value: unknown, expected: string): CohortError {
  return new CohortError('INVALID_OPTION', `invalid membership option '${name}' ${describe(value)}: expected ${expected}`, {
    details: { option: name },
  });
}

/**
 * Applies defaults and checks every option.
 *
 * @throws CohortError `INVALID_OPTION` naming the first bad (or unknown) option.
 */
export function resolveMembershipOptions(options: MembershipOptions): ResolvedMembershipOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CohortError('INVALID_OPTION', `membership options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key as keyof MembershipOptions)) {
      throw new CohortError('INVALID_OPTION', `unknown membership option '${key}'; known options: ${KEYS.join(', ')}`, {
        details: { option: key },
      });
    }
  }
  const d = MEMBERSHIP_DEFAULTS;
  const o = options;
  if (!isNodeId(o.id)) throw invalid('id', o.id, 'a node id name@host:port');
  if (!hasMethods(o.io, ['send'])) throw invalid('io', o.io, 'an object with a send(to, message) method');
  const clock = o.clock ?? d.clock;
  if (!hasMethods(clock, ['now', 'wallTime', 'setTimeout', 'setInterval'])) throw invalid('clock', clock, 'a Clock');
  const random = o.random ?? d.random;
  if (typeof random !== 'function') throw invalid('random', random, 'a function returning numbers in [0, 1)');
  const logger = o.logger ?? d.logger;
  if (!hasMethods(logger, ['debug', 'info', 'warn', 'error'])) throw invalid('logger', logger, 'a Logger');
  const meta = checkMeta(o.meta ?? d.meta, 'INVALID_OPTION', "membership option 'meta'");
  const incarnation = o.incarnation ?? Math.max(0, Math.floor(clock.wallTime()));
  if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0 || incarnation >= Number.MAX_SAFE_INTEGER) {
    throw invalid('incarnation', incarnation, 'a safe integer >= 0');
  }

  const ms = (name: keyof typeof d & keyof MembershipOptions, min: number, what: string): number => {
    const v = o[name] ?? d[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw invalid(name, v, what);
    return v;
  };
  const int = (name: keyof typeof d & keyof MembershipOptions, min: number, max: number): number => {
    const v = o[name] ?? d[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(name, v, `an integer from ${min} to ${max}`);
    return v;
  };
  const probeIntervalMs = ms('probeIntervalMs', 1, 'a finite number of milliseconds >= 1');
  const probeTimeoutMs = ms('probeTimeoutMs', 1, 'a finite number of milliseconds >= 1');
  if (probeTimeoutMs >= probeIntervalMs) {
    throw invalid('probeTimeoutMs', probeTimeoutMs, `less than probeIntervalMs (${probeIntervalMs}), leaving time for indirect probes`);
  }
  const indirectProbes = int('indirectProbes', 0, 16);
  const suspicionTimeoutMs = ms('suspicionTimeoutMs', 1, 'a finite number of milliseconds >= 1');
  const connectionLostSuspicionMs = ms('connectionLostSuspicionMs', 0, 'a finite number of milliseconds >= 0');
  if (connectionLostSuspicionMs > suspicionTimeoutMs) {
    throw invalid('connectionLostSuspicionMs', connectionLostSuspicionMs, `at most suspicionTimeoutMs (${suspicionTimeoutMs})`);
  }
  const retransmitMult = int('retransmitMult', 1, 64);
  const maxPiggyback = int('maxPiggyback', 1, MAX_GOSSIP_PER_MESSAGE);
  const gossipQueueLimit = int('gossipQueueLimit', maxPiggyback, 1_000_000);
  const pushPullIntervalMs = ms('pushPullIntervalMs', 1, 'a finite number of milliseconds >= 1');
  const reconnectIntervalMs = ms('reconnectIntervalMs', 1, 'a finite number of milliseconds >= 1');
  const leaveFanout = int('leaveFanout', 1, 1_000_000);
  const jitter = o.jitter ?? d.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 0.5)) throw invalid('jitter', jitter, 'a fraction from 0 to 0.5');
  const deadRetentionMs = ms('deadRetentionMs', 0, 'a finite number of milliseconds >= 0');

  return Object.freeze({
    id: o.id, io: o.io, clock, random, logger, meta, incarnation, probeIntervalMs, probeTimeoutMs, indirectProbes,
    suspicionTimeoutMs, connectionLostSuspicionMs, retransmitMult, maxPiggyback, gossipQueueLimit,
    pushPullIntervalMs, reconnectIntervalMs, leaveFanout, jitter, deadRetentionMs,
  });
}
