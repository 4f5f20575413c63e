/**
 * Outstanding probes and ping-req relays of one node, keyed by sequence number.
 *
 * A probe of a target has two deadlines: `probeTimeoutMs` (no direct ack yet: go indirect) and
 * `probeIntervalMs` (no ack at all: the probe failed). An ack with the probe's `seq` counts only
 * from the target itself or from a member asked to probe indirectly; anything else is ignored, so
 * a stray or forged ack from a third party cannot keep a dead member alive. A relay remembers, for
 * a `ping-req` this node serves, whom to answer and with which `seq`; it expires after one period.
 * At most one probe per target is outstanding. Every timer belongs to the owner's `TimerSet`.
 */
import type { Timer, TimerSet } from '../../core/clock.js';
import type { NodeId } from '../../core/ids.js';

/** One outstanding probe. */
export interface Probe {
  readonly seq: number;
  readonly target: NodeId;
  /** The members asked to probe indirectly; their acks with `seq` count. */
  readonly via: Set<NodeId>;
}

/** A `ping-req` being served: answer `requester` with `seq` when `target` acks. */
export interface Relay {
  readonly requester: NodeId;
  readonly seq: number;
  readonly target: NodeId;
}

interface Timed<T> {
  readonly value: T;
  readonly timers: Timer[];
}

/** The probes and relays a node has under way. */
export class Probes {
  readonly #timers: TimerSet;
  readonly #timeoutMs: number;
  readonly #periodMs: number;
  readonly #probes = new Map<number, Timed<Probe>>();
  readonly #byTarget = new Map<NodeId, Probe>();
  readonly #relays = new Map<number, Timed<Relay>>();
  #seq = 0;

  constructor(timers: TimerSet, options: { probeTimeoutMs: number; probeIntervalMs: number }) {
    this.#timers = timers;
    this.#timeoutMs = options.probeTimeoutMs;
    this.#periodMs = options.probeIntervalMs;
  }

  /** Whether a probe of `target` is under way. */
  probing(target: NodeId): boolean {
    return this.#byTarget.has(target);
  }

  /**
   * Registers a probe of `target`: `indirect(probe)` runs after `probeTimeoutMs` and
   * `failed(probe)` after `probeIntervalMs`, unless an ack settles it first.
   */
  start(target: NodeId, indirect: (probe: Probe) => void, failed: (probe: Probe) => void): Probe {
    const probe: Probe = { seq: this.#nextSeq(), target, via: new Set() };
    const timers = [
      this.#timers.setTimeout(() => indirect(probe), this.#timeoutMs),
      this.#timers.setTimeout(() => {
        this.#finish(probe.seq);
        failed(probe);
      }, this.#periodMs),
    ];
    this.#probes.set(probe.seq, { value: probe, timers });
    this.#byTarget.set(target, probe);
    return probe;
  }

  /** Settles the probe `seq` if `from` may answer it; returns it, or `undefined`. */
  acked(seq: number, from: NodeId): Probe | undefined {
    const probe = this.#probes.get(seq)?.value;
    if (probe === undefined || (from !== probe.target && !probe.via.has(from))) return undefined;
    this.#finish(seq);
    return probe;
  }

  /** Registers a relay for a `ping-req`; returns the `seq` to ping its target with. */
  relay(requester: NodeId, seq: number, target: NodeId): number {
    const own = this.#nextSeq();
    const timer = this.#timers.setTimeout(() => this.#relays.delete(own), this.#periodMs);
    this.#relays.set(own, { value: { requester, seq, target }, timers: [timer] });
    return own;
  }

  /** Settles the relay `seq` if `from` is its target; returns it, or `undefined`. */
  relayAcked(seq: number, from: NodeId): Relay | undefined {
    const entry = this.#relays.get(seq);
    if (entry === undefined || entry.value.target !== from) return undefined;
    this.#relays.delete(seq);
    for (const t of entry.timers) t.cancel();
    return entry.value;
  }

  /** Forgets every probe and relay and cancels their timers. */
  clear(): void {
    for (const e of [...this.#probes.values(), ...this.#relays.values()]) for (const t of e.timers) t.cancel();
    this.#probes.clear();
    this.#byTarget.clear();
    this.#relays.clear();
  }

  #finish(seq: number): void {
    const entry = this.#probes.get(seq);
    if (entry === undefined) return;
    for (const t of entry.timers) t.cancel();
    this.#probes.delete(seq);
    if (this.#byTarget.get(entry.value.target) === entry.value) this.#byTarget.delete(entry.value.target);
  }

  #nextSeq(): number {
    this.#seq = this.#seq >= Number.MAX_SAFE_INTEGER ? 1 : this.#seq + 1;
    return this.#seq;
  }
}
