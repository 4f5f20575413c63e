/**
 * The cluster: links to other nodes, SWIM membership over them, and discovery of seeds.
 *
 * Every message between nodes is a versioned envelope `{ v, type, body }` encoded with the node's
 * codec; `type` names the subsystem that handles it (`swim` for membership, others registered by
 * upper layers with `handle`). The cluster guarantees:
 * - Membership traffic rides the same authenticated links as everything else; a closed link is a
 *   hint to membership (`connectionLost`), which probes at once, so a killed process is declared
 *   down in about a second, a frozen one after the suspicion timeout.
 * - Seeds and discovered addresses are dialled and must pass the handshake before they count; the
 *   ones that do not answer are retried with exponential backoff and jitter until this node has
 *   joined, then at a slow pace (to heal partitions and follow discovery changes).
 * - A member that is down (failed or left) has its link closed; messages to it fail at once.
 * - `leave()` tells several members directly, so the cluster sees it gone at once.
 *
 * An undecodable payload from a peer closes its link (`PROTOCOL_ERROR`); a well-formed message of
 * an unknown type or version is logged and dropped. The node keeps serving everyone else.
 */
import { Backoff } from '../core/backoff.js';
import { TimerSet, type Clock } from '../core/clock.js';
import { CohortError, isCohortError } from '../core/errors.js';
import { Emitter, type Events, type Unsubscribe } from '../core/events.js';
import { parseNodeId, type NodeId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { rangeDecoder, type Codec } from '../codec/codec.js';
import { envelope, envelopeType, type WireEnvelope } from '../codec/envelope.js';
import type { SecretKeys } from '../transport/handshake.js';
import { LinkManager, type RefusalListener } from '../transport/link-manager.js';
import type { StreamTransport } from '../transport/stream-transport.js';
import type { Discovery, PeerAddress } from './discovery/index.js';
import { Membership, isUp, type Member, type MembershipOptions } from './membership/index.js';

/** Membership timings a node may tune (see `MembershipOptions`). */
export type MembershipTimings = Pick<
  MembershipOptions,
  | 'probeIntervalMs'
  | 'probeTimeoutMs'
  | 'indirectProbes'
  | 'suspicionTimeoutMs'
  | 'connectionLostSuspicionMs'
  | 'pushPullIntervalMs'
  | 'reconnectIntervalMs'
  | 'retransmitMult'
  | 'maxPiggyback'
>;

export interface ClusterOptions {
  /** The node's name, the part before `@`. */
  readonly name: string;
  /** The address to listen on. */
  readonly host: string;
  readonly port: number;
  /** The host other nodes reach this one at (the id's host). */
  readonly advertiseHost: string;
  /** Changes at every start: the link layer tells a restarted peer from its old run by it. */
  readonly instance: string;
  /** The membership incarnation this run starts at (above any earlier run's). */
  readonly incarnation: number;
  readonly meta: Record<string, string>;
  readonly streams: StreamTransport;
  readonly keys: SecretKeys | undefined;
  readonly encrypt: boolean;
  readonly codec: Codec;
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly discovery: readonly Discovery[];
  /** How often discovery is asked again once joined. */
  readonly discoveryIntervalMs: number;
  readonly membership: MembershipTimings;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
}

/** What the cluster reports. */
export interface ClusterEvents {
  nodeUp: { readonly node: NodeId; readonly meta: Readonly<Record<string, string>> };
  nodeDown: { readonly node: NodeId; readonly reason: 'left' | 'failed' };
  suspect: { readonly node: NodeId };
  alive: { readonly node: NodeId };
  metaChanged: { readonly node: NodeId; readonly meta: Readonly<Record<string, string>> };
  /**
   * A link to a node came up or went down (membership decides whether the node is down).
   * `refused`: messages queued before the link was up that it would not take (over the node's
   * frame limit), lost; `unsent`: messages still queued when it went down, lost.
   */
  linkUp: { readonly node: NodeId; readonly instance: string; readonly refused: number };
  linkDown: { readonly node: NodeId; readonly unsent: number };
}

/** A handler of one message type: `from` is the authenticated sender. */
export type MessageHandler = (from: NodeId, body: unknown) => void;

const SWIM = 'swim';

export class Cluster {
  readonly id: NodeId;
  readonly #o: ClusterOptions;
  readonly #links: LinkManager;
  readonly #membership: Membership;
  readonly #handlers = new Map<string, MessageHandler>();
  readonly #emitter: Emitter<ClusterEvents>;
  readonly events: Events<ClusterEvents>;
  readonly #timers: TimerSet;
  readonly #discoveryBackoff: Backoff;
  #discovering = false;
  /** The node each dialled `host:port` turned out to be, so a joined seed is not dialled again. */
  readonly #identified = new Map<string, NodeId>();
  #stopped = false;
  #joined = false;
  readonly #decodeRange: (buffer: Buffer, start: number, end: number) => unknown;

  private constructor(o: ClusterOptions, links: LinkManager, id: NodeId) {
    this.#o = o;
    this.#links = links;
    this.id = id;
    this.#timers = new TimerSet(o.clock);
    this.#decodeRange = rangeDecoder(o.codec);
    this.#emitter = new Emitter<ClusterEvents>((error, type) => o.logger.warn('cluster event listener threw', { type, error: String(error) }));
    this.events = this.#emitter;
    this.#discoveryBackoff = new Backoff({ baseMs: 200, maxMs: Math.max(200, o.discoveryIntervalMs), jitter: 'full', random: o.random });
    this.#membership = new Membership({
      ...o.membership,
      id,
      io: {
        send: (to, message) => {
          // A sync to a dead member is membership's own rate-limited probe of whether a partition
          // has healed: it dials even while the link's redial backoff would hold it back.
          if (message.type === 'sync' && this.#membership.member(to)?.status === 'dead') this.#links.resetBackoff(to);
          this.#sendQuietly(to, SWIM, message);
        },
      },
      clock: o.clock,
      random: o.random,
      logger: o.logger,
      meta: o.meta,
      incarnation: o.incarnation,
    });
    this.#handlers.set(SWIM, (from, body) => this.#membership.handle(from, body));
    this.#wire();
  }

  /**
   * Listens, starts membership and begins discovery. Resolves once listening (joining continues
   * in the background; watch `nodeUp`).
   *
   * @throws CohortError `INVALID_OPTION` when the address cannot be bound.
   */
  static async start(o: ClusterOptions): Promise<Cluster> {
    const links = new LinkManager({
      localId: '',
      instance: o.instance,
      streams: o.streams,
      keys: o.keys,
      encrypt: o.encrypt,
      maxFrameBytes: o.maxFrameBytes,
      maxQueueBytes: o.maxQueueBytes,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      connectTimeoutMs: o.connectTimeoutMs,
      logger: o.logger,
      clock: o.clock,
      random: o.random,
      addressOf: (peer) => addressOf(peer),
      acceptPeer: (peer) => (addressOf(peer) === undefined ? 'its id is not a node id (name@host:port)' : undefined),
    });
    const bound = await links.listen({ host: o.host, port: o.port }, (b) => nodeIdOf(o.name, o.advertiseHost, b.port));
    const cluster = new Cluster(o, links, nodeIdOf(o.name, o.advertiseHost, bound.port));
    cluster.#membership.start();
    cluster.#discover();
    return cluster;
  }

  /** Every member, this node first. */
  members(): Member[] {
    return this.#membership.members();
  }

  /** One member, if known. */
  member(node: NodeId): Member | undefined {
    return this.#membership.member(node);
  }

  /** Whether `node` is a member that is up (alive or suspect). */
  isUp(node: NodeId): boolean {
    return isUp(this.#membership.member(node));
  }

  /** The link statistics to a node, if linked. */
  linkBytes(node: NodeId): { readonly out: number; readonly in: number } | undefined {
    return this.#links.linkTo(node)?.bytes;
  }

  /** Registers the handler of a message type (one per type). */
  handle(type: string, fn: MessageHandler): Unsubscribe {
    if (this.#handlers.has(type)) throw new CohortError('INVALID_ARGUMENT', `a handler for message type '${type}' is already registered`);
    this.#handlers.set(type, fn);
    return () => {
      if (this.#handlers.get(type) === fn) this.#handlers.delete(type);
    };
  }

  /**
   * Sends a message to a node, dialling it if needed. Messages to one node with the same `lane`
   * keep their order even when some are large; a large message may be overtaken by smaller ones
   * on other lanes (or none), so it never holds up membership or unrelated calls. A message that
   * waits for a link and is refused when it comes up (too large for the other node) is counted in
   * `linkUp`, and `listener` is told why.
   *
   * @throws CohortError `NOCONNECTION` (down, unknown or unreachable), `QUEUE_FULL`,
   *   `FRAME_TOO_LARGE`, `ENCODE_FAILED`.
   */
  send(to: NodeId, type: string, body: unknown, lane?: number, listener?: RefusalListener): void {
    if (this.#stopped) throw new CohortError('NODE_STOPPED', `node ${this.id} is stopped`);
    if (to === this.id) throw new CohortError('INVALID_ARGUMENT', 'a node does not send cluster messages to itself');
    const member = this.#membership.member(to);
    if (member !== undefined && (member.status === 'dead' || member.status === 'left')) {
      throw new CohortError('NOCONNECTION', `node ${to} is ${member.status === 'left' ? 'gone (it left)' : 'down'}`, { details: { node: to } });
    }
    this.#links.send(to, this.#o.codec.encode(envelope(type, body)), lane, listener);
  }

  /** Updates this node's meta; it travels with membership. */
  updateMeta(meta: Record<string, string>): void {
    this.#membership.updateMeta(meta);
  }

  /**
   * Leaves the cluster: tells several members directly, waits briefly for those messages to go
   * out, then closes every link.
   */
  async stop(flushMs = 500): Promise<void> {
    if (this.#stopped) return;
    this.#membership.leave();
    // Give the leave messages a moment to reach the wire (bounded: at most flushMs of real time).
    // (Messages waiting for a link being dialled count too: a leave must reach those members.)
    const linked = this.#links.connected().length > 0 || this.#links.busy();
    for (let waited = 0; linked && waited < flushMs; waited += 5) {
      const busy = this.#links.busy();
      // One more turn after the queues empty, so the sockets take what the links wrote.
      await new Promise((r) => setTimeout(r, busy ? 5 : 1));
      if (!busy) break;
    }
    this.#stopped = true;
    this.#membership.stop();
    this.#timers.clear();
    await this.#links.close();
    this.#emitter.clear();
  }

  #wire(): void {
    const m = this.#membership;
    m.on('nodeUp', (e) => {
      // The node answers again (e.g. a partition healed): dial it now, not after a backoff grown
      // while it was unreachable, nor behind a dial that started inside the partition.
      this.#links.redial(e.node);
      this.#emitter.emit('nodeUp', { node: e.node, meta: e.meta });
    });
    m.on('suspect', (e) => this.#emitter.emit('suspect', { node: e.node }));
    m.on('alive', (e) => this.#emitter.emit('alive', { node: e.node }));
    m.on('metaChanged', (e) => this.#emitter.emit('metaChanged', { node: e.node, meta: e.meta }));
    m.on('nodeDown', (e) => {
      this.#links.disconnect(e.node);
      this.#emitter.emit('nodeDown', { node: e.node, reason: e.reason });
      if (this.#upCount() === 0) this.#joined = false;
    });
    m.on('nodeUp', () => {
      if (!this.#joined) {
        this.#joined = true;
        this.#discoveryBackoff.reset();
      }
    });
    this.#links.onMessage((peer, buffer, start, end) => this.#receive(peer, buffer, start, end));
    this.#links.events.on('up', ({ peer, instance, refused }) => this.#emitter.emit('linkUp', { node: peer, instance, refused }));
    this.#links.events.on('down', ({ peer, unsent }) => {
      this.#emitter.emit('linkDown', { node: peer, unsent });
      if (!this.#stopped) this.#membership.connectionLost(peer);
    });
  }

  #receive(from: NodeId, buffer: Buffer, start: number, end: number): void {
    let type: string;
    let body: unknown;
    try {
      const value = this.#decodeRange(buffer, start, end);
      type = envelopeType(value);
      body = (value as WireEnvelope)[2];
    } catch (error) {
      const e = isCohortError(error) ? error : new CohortError('DECODE_FAILED', 'undecodable message', { cause: error });
      this.#o.logger.warn('dropped a message that could not be read', { from, code: e.code, error: e.message });
      if (e.code === 'DECODE_FAILED') {
        this.#links.disconnect(from, new CohortError('PROTOCOL_ERROR', `node ${from} sent a message that could not be decoded`, { cause: e }));
      }
      return;
    }
    const handler = this.#handlers.get(type);
    if (handler === undefined) {
      this.#o.logger.debug('dropped a message of an unknown type', { from, type });
      return;
    }
    try {
      handler(from, body);
    } catch (error) {
      this.#o.logger.warn('a message handler threw', { from, type, error: error instanceof Error ? error.message : String(error) });
    }
  }

  #sendQuietly(to: NodeId, type: string, body: unknown): void {
    try {
      this.#links.send(to, this.#o.codec.encode(envelope(type, body)));
    } catch (error) {
      this.#o.logger.debug('a membership message was not sent', { to, error: error instanceof Error ? error.message : String(error) });
    }
  }

  #upCount(): number {
    return this.#membership.members().filter((m) => m.id !== this.id && isUp(m)).length;
  }

  /** One round of discovery, then the next one scheduled: fast with backoff until joined, slow after. */
  #discover(): void {
    if (this.#stopped || this.#discovering) return;
    if (this.#o.discovery.length === 0) return;
    this.#discovering = true;
    void this.#discoverOnce().finally(() => {
      this.#discovering = false;
      if (this.#stopped) return;
      const delay = this.#joined ? jittered(this.#o.discoveryIntervalMs, this.#o.random) : this.#discoveryBackoff.next();
      this.#timers.setTimeout(() => this.#discover(), delay);
    });
  }

  async #discoverOnce(): Promise<void> {
    const found: PeerAddress[] = [];
    for (const d of this.#o.discovery) {
      try {
        found.push(...(await d.resolve()));
      } catch (error) {
        this.#o.logger.warn('discovery failed', { discovery: d.name, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const self = parseNodeId(this.id);
    const dials = found
      .filter((a) => !(a.port === self.port && (a.host === self.host || a.host === this.#o.host)))
      .map(async (address) => {
        const key = `${address.host}:${address.port}`;
        const known = address.name === undefined ? this.#identified.get(key) : nodeIdOf(address.name, address.host, address.port);
        if (known !== undefined && this.isUp(known)) return;
        try {
          const peer = known !== undefined ? (await this.#links.connect(known), known) : await this.#links.dialAddress(address);
          this.#identified.set(key, peer);
          if (!this.isUp(peer)) this.#membership.join([peer]);
        } catch (error) {
          this.#o.logger.debug('a discovered address did not answer', {
            address: `${address.host}:${address.port}`,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      });
    await Promise.all(dials);
  }
}

function nodeIdOf(name: string, host: string, port: number): NodeId {
  return `${name}@${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function addressOf(peer: string): { host: string; port: number } | undefined {
  try {
    const { host, port } = parseNodeId(peer);
    return { host, port };
  } catch {
    return undefined;
  }
}

function jittered(ms: number, random: () => number): number {
  return ms * (0.9 + 0.2 * random());
}
