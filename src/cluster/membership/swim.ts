/**
 * `Membership`: SWIM-style membership and failure detection as a pure state machine.
 *
 * It knows nothing of sockets, processes or nodes: messages go out through an injected
 * `MembershipIO`, come in through `handle(from, message)`, and every timer runs on an injected
 * `Clock` (owned by one `TimerSet`, so `stop()` leaves nothing behind). Randomness comes from an
 * injected `random`, so a seeded run is reproducible.
 *
 * The protocol (SWIM, with memberlist's and Lifeguard's refinements):
 * - Each period (`probeIntervalMs`, jittered) one member is probed, round-robin over a shuffled
 *   list. No ack within `probeTimeoutMs`: `indirectProbes` other members are asked to ping it.
 *   No ack at all by the end of the period: it is `suspect`; after the suspicion timeout
 *   (`suspicionTimeoutMs` × max(1, log10 n)) it is `dead`. Each node runs its own timer for the
 *   suspects it hears of; the first `dead` record wins everywhere.
 * - A member that hears it is suspect (or dead) refutes: it raises its incarnation above the claim
 *   and gossips `alive`. Lifeguard's "buddy system": every message to a member this node holds as
 *   suspect or dead carries that record first, so the member hears and refutes at the next contact.
 * - Updates ride piggyback on ping, ack and ping-req: at most `maxPiggyback` per message, each
 *   sent `retransmitMult × ceil(log10(n + 1))` times. Steady-state cost per node per period is
 *   one ping plus the acks it owes, whatever the cluster size.
 * - Join and every `pushPullIntervalMs` (jittered): a full-state `sync` with one member, which
 *   answers with its own. The periodic sync may pick a `dead` member, which is how partitions heal;
 *   so that they heal sooner, every `reconnectIntervalMs` one random `dead` member also gets one.
 *   A message from a member never heard of also triggers a sync with it (at most one per period):
 *   gossip's λ·log n retransmits miss a member now and then, and the stranger knows more.
 *   A `dead` claim that arrives by sync is taken as `suspect` (as memberlist does), and so is one
 *   by gossip about a member that has itself sent this node a message within two probe periods:
 *   the far side of a healed partition cannot kill members that are alive here; they get time to
 *   refute.
 * - `connectionLost(id)` probes at once and, if that probe fails directly and indirectly, uses
 *   the short `connectionLostSuspicionMs` for this suspicion: a crash is `dead` here in about
 *   900 ms with the defaults. See {@link Membership.connectionLost} for why that is safe.
 * - `leave()` raises the incarnation, marks itself `left`, and tells `leaveFanout` members at once.
 *
 * Guarantees: events fire once per change (see `member-list.ts`); messages other than `sync` carry
 * at most `maxPiggyback` records; a malformed message is dropped with a warning, never thrown.
 * Not done: Lifeguard's local health multiplier and suspicion confirmations, nacks, encryption
 * or authentication (the transport's job), and persistence.
 */
import { Backoff } from '../../core/backoff.js';
import { TimerSet } from '../../core/clock.js';
import { CohortError, describe } from '../../core/errors.js';
import { Emitter, type Events, type Listener, type Unsubscribe } from '../../core/events.js';
import { isNodeId, type NodeId } from '../../core/ids.js';
import { checkMeta, isUp, makeMember, sameMeta, withStatus, type Member } from './member.js';
import { GossipQueue } from './gossip-queue.js';
import { MemberList, transitionEvents, type MembershipEvents } from './member-list.js';
import { parseMessage, type AckMessage, type MembershipMessage, type PingMessage, type PingReqMessage, type SyncMessage } from './messages.js';
import { resolveMembershipOptions, type MembershipOptions, type ResolvedMembershipOptions } from './options.js';
import { ProbeOrder } from './probe-order.js';
import { Probes, type Probe } from './probes.js';
import { jittered, pickRandom } from './random.js';
import { Suspicions } from './suspicion.js';

/** The life of a {@link Membership}. */
export type MembershipState = 'idle' | 'running' | 'left' | 'stopped';

/**
 * SWIM membership of one node.
 *
 * @example
 * const m = new Membership({ id: 'a@10.0.0.1:4369', io: { send: (to, msg) => transport.send(to, msg) } });
 * m.on('nodeDown', (e) => console.log(e.node, e.reason));
 * m.join(['b@10.0.0.2:4369']);          // and route incoming messages: transport.onMessage(m.handle)
 * m.members();                          // [{ id, incarnation, status, meta }, ...], self first
 */
export class Membership implements Events<MembershipEvents> {
  readonly #o: ResolvedMembershipOptions;
  readonly #timers: TimerSet;
  readonly #events: Emitter<MembershipEvents>;
  readonly #list: MemberList;
  readonly #queue: GossipQueue;
  readonly #order: ProbeOrder;
  readonly #joinBackoff: Backoff;
  #state: MembershipState = 'idle';
  readonly #probes: Probes;
  readonly #suspicions: Suspicions;
  /** Members whose connection was reported lost, until when the hint holds. */
  readonly #hints = new Map<NodeId, number>();
  /** When each member last sent this node a message itself (first-hand evidence that it is up). */
  readonly #heard = new Map<NodeId, number>();
  #seeds: NodeId[] = [];
  #joined = true;
  #lastStrangerSync = -Infinity;

  /** @throws CohortError `INVALID_OPTION` naming the bad option. */
  constructor(options: MembershipOptions) {
    const o = (this.#o = resolveMembershipOptions(options));
    this.#timers = new TimerSet(o.clock);
    this.#events = new Emitter((error, type) => o.logger.error('membership event listener threw', { event: type, error }));
    this.#list = new MemberList(makeMember(o.id, o.incarnation, 'alive', o.meta));
    this.#queue = new GossipQueue({ retransmitMult: o.retransmitMult, capacity: o.gossipQueueLimit });
    this.#order = new ProbeOrder(o.random);
    this.#probes = new Probes(this.#timers, o);
    this.#suspicions = new Suspicions(o.clock, this.#timers, (id, incarnation) => this.#suspicionExpired(id, incarnation));
    const base = Math.min(2 * o.probeIntervalMs, o.pushPullIntervalMs);
    this.#joinBackoff = new Backoff({ baseMs: base, maxMs: o.pushPullIntervalMs, jitter: 'equal', random: o.random });
    this.handle = this.handle.bind(this);
  }

  /** The local member's id. */
  get id(): NodeId {
    return this.#o.id;
  }

  /** The local member's current incarnation. */
  get incarnation(): number {
    return this.#list.self.incarnation;
  }

  /** `idle` until started, `running`, `left` after `leave()`, `stopped` after `stop()`. */
  get state(): MembershipState {
    return this.#state;
  }

  /** Every member this node knows of, in any status, the local member first. Frozen records. */
  members(): Member[] {
    return [this.#list.self, ...this.#list.others()];
  }

  /** The record about `id`, or `undefined` when it is unknown. */
  member(id: NodeId): Member | undefined {
    return this.#list.get(id);
  }

  on<K extends keyof MembershipEvents & string>(type: K, fn: Listener<MembershipEvents[K]>): Unsubscribe {
    return this.#events.on(type, fn);
  }

  once<K extends keyof MembershipEvents & string>(type: K, fn: Listener<MembershipEvents[K]>): Unsubscribe {
    return this.#events.once(type, fn);
  }

  /** Starts probing and periodic sync. Idempotent; `join` calls it. @throws CohortError `NODE_STOPPED` after stop or leave. */
  start(): void {
    this.#assertUsable('start');
    if (this.#state === 'running') return;
    this.#state = 'running';
    this.#queue.enqueue(this.#list.self);
    this.#scheduleTick();
    this.#schedulePushPull();
    this.#scheduleReconnect();
  }

  /**
   * Joins the cluster through `seeds`: sends each a full-state `sync` and merges what they answer.
   * Until one answers, it retries with capped exponential backoff. Seeds equal to the local id are
   * skipped; with no other seed the node simply runs alone, ready to be joined.
   *
   * @throws CohortError `INVALID_ARGUMENT` when a seed is not a node id; `NODE_STOPPED` after stop or leave.
   * @example m.join(['seed@10.0.0.2:4369'])
   */
  join(seeds: readonly NodeId[]): void {
    this.#assertUsable('join');
    if (!Array.isArray(seeds) || !seeds.every((s) => isNodeId(s))) {
      throw new CohortError('INVALID_ARGUMENT', `join: seeds must be an array of node ids, got ${describe(seeds)}`);
    }
    this.start();
    this.#seeds = [...new Set(seeds)].filter((s) => s !== this.#o.id);
    if (this.#seeds.length === 0) return;
    this.#joined = false;
    this.#joinBackoff.reset();
    this.#sendJoin();
  }

  /**
   * Probes `id` now, outside the schedule (direct, then indirect, then suspect). Returns false when
   * `id` is not an up member or the node is not running; true when a probe is (already) under way.
   */
  probeNow(id: NodeId): boolean {
    if (this.#state !== 'running' || id === this.#o.id || !isUp(this.#list.get(id))) return false;
    if (!this.#probes.probing(id)) this.#probe(id);
    return true;
  }

  /**
   * Tells membership that the connection to `id` closed: probes it now, and if that probe fails
   * both directly and through `indirectProbes` others, suspects it with the short
   * `connectionLostSuspicionMs` instead of the full suspicion timeout.
   *
   * Why this is safe against false positives: the hint never suspects anyone by itself; it only
   * shortens a suspicion that the full SWIM evidence (direct and k indirect probes failing) has
   * already raised, and only for `2 × probeIntervalMs` after the report; an answered probe
   * cancels it (a message from the member does not: it may have been sent before the close). A
   * member that is alive and reachable by any helper acks and is never suspected. One that is
   * alive but cut off from all of them still hears the suspicion at the next contact (buddy
   * system) and refutes; if it was declared dead meanwhile it refutes with a higher incarnation
   * and is up again: a flap, never a lost member. Other nodes keep their own, full suspicion
   * timers; only this node's `dead` record, spread by gossip, shortens theirs.
   */
  connectionLost(id: NodeId): boolean {
    if (this.#state !== 'running' || id === this.#o.id || !isUp(this.#list.get(id))) return false;
    this.#hints.set(id, this.#o.clock.now() + 2 * this.#o.probeIntervalMs);
    return this.probeNow(id);
  }

  /**
   * Replaces the local member's meta: raises the incarnation and gossips the new record.
   *
   * @throws CohortError `INVALID_ARGUMENT` when `meta` is too big or not string values;
   *   `NODE_STOPPED` after stop or leave.
   */
  updateMeta(meta: Record<string, string>): void {
    this.#assertUsable('updateMeta');
    const checked = checkMeta(meta, 'INVALID_ARGUMENT', 'meta');
    const self = this.#list.self;
    if (sameMeta(self.meta, checked)) return;
    this.#setSelf(makeMember(self.id, self.incarnation + 1, 'alive', checked));
  }

  /**
   * Leaves the cluster: marks the local member `left` with a higher incarnation, tells up to
   * `leaveFanout` members at once (they mark it `left` without suspicion) and stops probing. It
   * keeps answering pings, with the `left` record piggybacked, until `stop()`. Idempotent.
   */
  leave(): void {
    if (this.#state === 'left' || this.#state === 'stopped') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'left';
    this.#clearWork();
    const self = this.#list.self;
    const left = makeMember(self.id, self.incarnation + 1, 'left', self.meta);
    this.#list.setSelf(left);
    this.#queue.enqueue(left);
    if (!wasRunning) return;
    for (const to of this.#pick(this.#upOthers(), this.#o.leaveFanout)) {
      this.#send(to, { type: 'gossip', gossip: this.#piggyback(to, left) });
    }
  }

  /** Stops everything: clears every timer and ignores messages from now on. Sends nothing. Idempotent. */
  stop(): void {
    this.#state = 'stopped';
    this.#clearWork();
    this.#queue.clear();
  }

  /**
   * Processes a message from `from`. Validates its shape first: a malformed message is dropped
   * with a logged warning and an `invalidMessage` event. Never throws.
   */
  handle(from: NodeId, message: unknown): void {
    if (this.#state === 'stopped' || this.#state === 'idle') return;
    if (!isNodeId(from) || from === this.#o.id) {
      this.#invalid(String(from), `sender ${describe(from)} is not another node's id`);
      return;
    }
    const parsed = parseMessage(message);
    if (!parsed.ok) {
      this.#invalid(from, parsed.reason);
      return;
    }
    const msg = parsed.message;
    this.#heard.set(from, this.#o.clock.now());
    if (msg.type === 'sync') {
      this.#onSync(from, msg);
      return;
    }
    for (const m of msg.gossip) this.#learn(m, from, false);
    if (this.#list.get(from) === undefined) this.#syncWithStranger(from);
    if (msg.type === 'ping') this.#onPing(from, msg);
    else if (msg.type === 'ack') this.#onAck(from, msg);
    else if (msg.type === 'ping-req') this.#onPingReq(from, msg);
  }

  // ---- incoming ----

  #onPing(from: NodeId, msg: PingMessage): void {
    if (msg.target !== this.#o.id) {
      this.#o.logger.debug('membership: ping meant for another member dropped', { from, target: msg.target });
      return;
    }
    this.#send(from, { type: 'ack', seq: msg.seq, gossip: this.#piggyback(from) });
  }

  #onAck(from: NodeId, msg: AckMessage): void {
    const probe = this.#probes.acked(msg.seq, from);
    if (probe !== undefined) this.#hints.delete(probe.target); // it answered: whatever closed, it is reachable
    const relay = this.#probes.relayAcked(msg.seq, from);
    if (relay !== undefined) this.#send(relay.requester, { type: 'ack', seq: relay.seq, gossip: this.#piggyback(relay.requester) });
  }

  #onPingReq(from: NodeId, msg: PingReqMessage): void {
    if (this.#state !== 'running') return;
    if (msg.target === this.#o.id) {
      this.#send(from, { type: 'ack', seq: msg.seq, gossip: this.#piggyback(from) });
      return;
    }
    const seq = this.#probes.relay(from, msg.seq, msg.target);
    this.#send(msg.target, { type: 'ping', seq, target: msg.target, gossip: this.#piggyback(msg.target) });
  }

  #onSync(from: NodeId, msg: SyncMessage): void {
    for (const m of msg.members) this.#learn(m, from, true);
    if (msg.reply) {
      this.#send(from, { type: 'sync', reply: false, members: this.members() });
    } else {
      this.#joined = true;
    }
  }

  /**
   * Merges one record heard from `from`. Claims about the local member are refuted; a `dead`
   * claim is softened to `suspect` when it came by sync, or when this node heard from that member
   * itself within the last two probe periods (the claim is older news, such as the far side of a
   * healed partition gossiping what it concluded while cut off: the member gets time to refute
   * instead of going down and up again here). Changes are queued for gossip, except third-party
   * members first heard of through a sync (the sender already spreads those).
   */
  #learn(incoming: Member, from: NodeId, viaSync: boolean): void {
    if (incoming.id === this.#o.id) {
      this.#aboutSelf(incoming);
      return;
    }
    const soften = incoming.status === 'dead' && (viaSync || this.#heardLately(incoming.id));
    const record = soften ? withStatus(incoming, 'suspect') : incoming;
    const change = this.#list.apply(record, this.#o.clock.now());
    if (change === undefined) return;
    if (!viaSync || change.previous !== undefined || record.id === from) this.#queue.enqueue(record);
    this.#changed(change.previous, record);
  }

  /** Whether `id` is up here (alive or suspect) and sent this node a message itself within the last two probe periods. */
  #heardLately(id: NodeId): boolean {
    if (!isUp(this.#list.get(id))) return false;
    return this.#o.clock.now() - (this.#heard.get(id) ?? -Infinity) <= 2 * this.#o.probeIntervalMs;
  }

  /** Refutes any record about the local member that is not older than its own, unless it left. */
  #aboutSelf(incoming: Member): void {
    if (this.#state !== 'running') return;
    const self = this.#list.self;
    if (incoming.incarnation < self.incarnation) {
      // An older claim that I am down means my refutation has not reached that member (it may
      // have been sent into a link that was closed): gossip it again.
      if (incoming.status !== 'alive') this.#queue.enqueue(self);
      return;
    }
    if (incoming.incarnation === self.incarnation && incoming.status === 'alive' && sameMeta(incoming.meta, self.meta)) return;
    this.#o.logger.debug('membership: refuting', { status: incoming.status, incarnation: incoming.incarnation });
    this.#setSelf(makeMember(self.id, Math.max(incoming.incarnation, self.incarnation) + 1, 'alive', self.meta));
  }

  // ---- probing ----

  #scheduleTick(): void {
    this.#timers.setTimeout(() => {
      if (this.#state !== 'running') return;
      const target = this.#order.next((id) => isUp(this.#list.get(id)) && !this.#probes.probing(id));
      if (target !== undefined) this.#probe(target);
      this.#scheduleTick();
    }, this.#jittered(this.#o.probeIntervalMs));
  }

  #probe(target: NodeId): void {
    const { seq } = this.#probes.start(target, (p) => this.#probeIndirectly(p), (p) => this.#probeFailed(p));
    this.#send(target, { type: 'ping', seq, target, gossip: this.#piggyback(target) });
  }

  #probeIndirectly(probe: Probe): void {
    const helpers = this.#upOthers().filter((id) => id !== probe.target && this.#list.get(id)?.status === 'alive');
    for (const helper of this.#pick(helpers, this.#o.indirectProbes)) {
      probe.via.add(helper);
      this.#send(helper, { type: 'ping-req', seq: probe.seq, target: probe.target, gossip: this.#piggyback(helper) });
    }
  }

  #probeFailed(probe: Probe): void {
    const member = this.#list.get(probe.target);
    if (member === undefined || !isUp(member)) return;
    const hinted = (this.#hints.get(member.id) ?? -Infinity) >= this.#o.clock.now();
    if (member.status === 'alive') {
      this.#mark(member, 'suspect', hinted);
    } else if (hinted) {
      this.#startSuspicion(member, true); // already suspect: shorten it
    }
  }

  // ---- suspicion ----

  /** Side effects of a changed record about another member, then its events. */
  #changed(previous: Member | undefined, current: Member, hinted = false): void {
    if (isUp(current)) this.#order.add(current.id);
    if (current.status === 'suspect') this.#startSuspicion(current, hinted);
    else this.#suspicions.cancel(current.id);
    if (!isUp(current)) {
      this.#hints.delete(current.id);
      this.#heard.delete(current.id);
    }
    for (const event of transitionEvents(previous, current)) this.#events.emit(event.type, event as never);
  }

  /** The suspicion timeout for the current cluster size: memberlist's log10 scaling. */
  suspicionTimeoutMs(): number {
    return this.#o.suspicionTimeoutMs * Math.max(1, Math.log10(Math.max(1, this.#list.upCount)));
  }

  #startSuspicion(member: Member, short: boolean): void {
    this.#suspicions.start(member.id, member.incarnation, short ? this.#o.connectionLostSuspicionMs : this.suspicionTimeoutMs());
  }

  #suspicionExpired(id: NodeId, incarnation: number): void {
    const member = this.#list.get(id);
    if (member?.status === 'suspect' && member.incarnation === incarnation) this.#mark(member, 'dead');
  }

  /** This node's own verdict about another member (suspect, dead): recorded, gossiped, announced. */
  #mark(member: Member, status: 'suspect' | 'dead', hinted = false): void {
    const next = withStatus(member, status);
    const change = this.#list.apply(next, this.#o.clock.now());
    if (change === undefined) return;
    this.#queue.enqueue(next);
    this.#changed(change.previous, next, hinted);
  }

  // ---- join and push-pull ----

  /**
   * A member this node has never heard of contacted it: the sender knows the cluster better, so
   * pull its state now rather than wait for gossip (whose retransmits may already be spent) or
   * the next push-pull. At most once per probe period, so a join storm stays bounded.
   */
  #syncWithStranger(from: NodeId): void {
    if (this.#state !== 'running') return;
    const now = this.#o.clock.now();
    if (now - this.#lastStrangerSync < this.#o.probeIntervalMs) return;
    this.#lastStrangerSync = now;
    this.#send(from, { type: 'sync', reply: true, members: this.members() });
  }

  #sendJoin(): void {
    for (const seed of this.#seeds) this.#send(seed, { type: 'sync', reply: true, members: this.members() });
    this.#timers.setTimeout(() => {
      if (this.#state === 'running' && !this.#joined) this.#sendJoin();
    }, this.#joinBackoff.next());
  }

  #schedulePushPull(): void {
    this.#timers.setTimeout(() => {
      if (this.#state !== 'running') return;
      this.#pushPull();
      this.#schedulePushPull();
    }, this.#jittered(this.#o.pushPullIntervalMs));
  }

  #scheduleReconnect(): void {
    this.#timers.setTimeout(() => {
      if (this.#state !== 'running') return;
      const dead: NodeId[] = [];
      for (const m of this.#list.others()) if (m.status === 'dead') dead.push(m.id);
      const [to] = this.#pick(dead, 1);
      if (to !== undefined) this.#send(to, { type: 'sync', reply: true, members: this.members() });
      this.#scheduleReconnect();
    }, this.#jittered(this.#o.reconnectIntervalMs));
  }

  /** Full-state sync with one random member that has not left (dead ones too: partitions heal that way). */
  #pushPull(): void {
    for (const id of this.#list.prune(this.#o.clock.now() - this.#o.deadRetentionMs)) this.#order.remove(id);
    const candidates: NodeId[] = [];
    for (const m of this.#list.others()) if (m.status !== 'left') candidates.push(m.id);
    const [to] = this.#pick(candidates.length > 0 ? candidates : this.#seeds, 1);
    if (to !== undefined) this.#send(to, { type: 'sync', reply: true, members: this.members() });
  }

  // ---- helpers ----

  /**
   * The records to piggyback on a message to `to`: `first` if given, then the record about `to`
   * when this node holds it as anything but alive (so it can refute), then the gossip queue.
   */
  #piggyback(to: NodeId, first?: Member): Member[] {
    const out: Member[] = first === undefined ? [] : [first];
    const about = this.#list.get(to);
    if (about !== undefined && about.status !== 'alive' && out.length < this.#o.maxPiggyback) out.push(about);
    const room = this.#o.maxPiggyback - out.length;
    if (room > 0) {
      const skip = out.length > 0 ? out[out.length - 1]!.id : undefined;
      for (const m of this.#queue.take(room, this.#list.upCount, skip)) if (!out.some((o) => o.id === m.id)) out.push(m);
    }
    return out;
  }

  #setSelf(record: Member): void {
    this.#list.setSelf(record);
    this.#queue.enqueue(record);
  }

  #upOthers(): NodeId[] {
    const ids: NodeId[] = [];
    for (const m of this.#list.others()) if (isUp(m)) ids.push(m.id);
    return ids;
  }

  #pick(from: readonly NodeId[], k: number): NodeId[] {
    return pickRandom(from, k, this.#o.random);
  }

  #jittered(ms: number): number {
    return jittered(ms, this.#o.jitter, this.#o.random);
  }

  #send(to: NodeId, message: MembershipMessage): void {
    try {
      this.#o.io.send(to, message);
    } catch (error) {
      this.#o.logger.warn('membership: io.send threw; message dropped', { to, type: message.type, error });
    }
  }

  #invalid(from: string, reason: string): void {
    this.#o.logger.warn('membership: malformed message dropped', { from, reason });
    this.#events.emit('invalidMessage', { type: 'invalidMessage', from, reason });
  }

  #assertUsable(what: string): void {
    if (this.#state === 'stopped' || this.#state === 'left') {
      throw new CohortError('NODE_STOPPED', `membership ${what}: this member has ${this.#state === 'left' ? 'left' : 'stopped'}`);
    }
  }

  #clearWork(): void {
    this.#timers.clear();
    this.#probes.clear();
    this.#suspicions.clear();
    this.#hints.clear();
    this.#heard.clear();
  }
}
