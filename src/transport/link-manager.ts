/**
 * The link manager: at most one link per peer, opened on demand, authenticated by the handshake.
 *
 * Guarantees:
 * - One link per peer. When both sides dial at once, the link dialled by the peer with the lower
 *   id is kept, and the choice is made during the handshake, the same way on both sides, so the
 *   other attempt is refused with `DUPLICATE_LINK` before it ever carries a message and no `down`
 *   is reported for it. A peer that restarted (new instance) replaces its old link at once.
 * - When the preferred link comes up after the other one already carried messages (both sides
 *   dialled, one of them by address), the other is retired rather than dropped: messages either
 *   side wrote on it still arrive, before any that came over the new link. That holds too when the
 *   other link finishes its handshake here only after the preferred one is up: while a handshake
 *   in the other direction is under way with the peer, what arrives on the link is held back, and
 *   delivered once that handshake has failed or its link has delivered its last message.
 * - `send` to a peer without a link dials it and queues the message (bounded by `maxQueueBytes`);
 *   the queue is flushed in order when the link comes up, and dropped (counted in the `down`
 *   event) when dialling fails.
 * - A link that closes while another to the same peer is being set up is reported down only if
 *   that one fails too.
 * - Handshake failures on accepted streams (wrong secret, replay, bad frames, another version)
 *   are logged and reported as `refused`; the listener keeps serving.
 *
 * - Dialling a peer that just failed to answer is held back by exponential backoff with jitter
 *   (per peer, reset by a successful link): within the backoff a send or connect fails at once
 *   with `NOCONNECTION` instead of dialling again.
 *
 * Not here: whom to keep linked to (membership decides), what messages mean.
 */
import type { Duplex } from 'node:stream';
import { Backoff } from '../core/backoff.js';
import { TimerSet, type Clock } from '../core/clock.js';
import { CohortError, isCohortError } from '../core/errors.js';
import { Emitter, type Events } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { loadWasmAead } from './crypto/wasm-aead.js';
import { FrameStream } from './frame-stream.js';
import { handshake, type SecretKeys } from './handshake.js';
import { Link, type LinkClose, type Queued } from './link.js';

import type { StreamAddress, StreamListener, StreamTransport } from './stream-transport.js';

/**
 * Takes one message from `peer`: the bytes of `buffer` from `start` to `end` (see the link's
 * `MessageSink`: read them before returning, or copy them).
 */
export type PeerMessageSink = (peer: string, buffer: Buffer, start: number, end: number) => void;

/** Refused handshakes from one host are logged as warnings at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export interface LinkManagerOptions {
  /** The local identity; may be left empty and set by `listen` once the port is known. */
  readonly localId: string;
  /** Changes at every start of the local node. */
  readonly instance: string;
  readonly streams: StreamTransport;
  readonly keys: SecretKeys | undefined;
  readonly encrypt: boolean;
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where to dial a peer known by id. */
  readonly addressOf: (peerId: string) => StreamAddress | undefined;
  /** Extra refusal rule for peer ids (e.g. a malformed id). */
  readonly acceptPeer?: (peerId: string) => string | undefined;
  /** Redial backoff after a failed dial. @default { baseMs: 100, maxMs: 5000, jitter: 'full' } */
  readonly redial?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
}

export interface LinkEvents {
  /**
   * A link to a peer is ready. `refused` counts the messages queued for it before it was up that
   * it would not take (larger than the peer's frame limit, which only the handshake tells): they
   * are lost, and logged.
   */
  up: { readonly peer: string; readonly instance: string; readonly outbound: boolean; readonly refused: number };
  /** The link to a peer is gone (and no other is being set up). */
  down: { readonly peer: string; readonly error: CohortError | undefined; readonly unsent: number };
  /** A stream failed its handshake. */
  refused: { readonly remote: string; readonly error: CohortError };
}

/**
 * Told when a message given to `send` before its link was up is refused when the link comes up
 * (larger than the peer's frame limit, which only the handshake tells), so that whoever waits for
 * an answer to it can fail at once instead of at a timeout.
 */
export interface RefusalListener {
  refused(error: CohortError): void;
}

/** A message waiting for its peer's link. */
interface Waiting extends Queued {
  readonly listener?: RefusalListener | undefined;
}

/** A handshake in progress with a peer. */
interface Handshaking {
  readonly outbound: boolean;
  /** The peer has answered (its identity is known and admitted): the handshake ends soon, either way. */
  answered?: boolean;
}

/** Messages held back on one link (see `#hold`): copies, in the order they arrived. */
interface Hold {
  readonly link: Link;
  readonly messages: Buffer[];
  bytes: number;
}

interface PeerState {
  link: Link | undefined;
  instance: string | undefined;
  /** Handshakes in progress. */
  readonly handshaking: Set<Handshaking>;
  /** What arrived on `link` while a link in the other direction may still carry older messages. */
  hold: Hold | undefined;
  /** Late links still draining; `hold` waits for them. */
  draining: number;
  /** Messages waiting for the link. */
  readonly pending: Waiting[];
  pendingBytes: number;
  dialing: Promise<void> | undefined;
  /** When the dial in progress started (clock time). */
  dialStartedAt: number;
  /** A `redial` waits for the dial in progress to grow stale, then checks again. */
  recheckDue: boolean;
  /** Redial backoff: no dial before `notBefore` (clock time). */
  readonly backoff: Backoff;
  notBefore: number;
}

/** A dial younger than this is waited for, and then replaced, when there is news that its peer is back (see `redial`). */
const STALE_DIAL_MS = 250;

export class LinkManager {
  readonly #o: LinkManagerOptions;
  readonly #peers = new Map<string, PeerState>();
  readonly #streams = new Set<FrameStream>();
  readonly #emitter: Emitter<LinkEvents>;
  readonly events: Events<LinkEvents>;
  readonly #refusalLogged = new Map<string, number>();
  #listener: StreamListener | undefined;
  #localId: string;
  #sink: PeerMessageSink = () => {};
  #closed = false;
  readonly #timers: TimerSet;

  constructor(options: LinkManagerOptions) {
    this.#o = options;
    this.#localId = options.localId;
    this.#timers = new TimerSet(options.clock);
    this.#emitter = new Emitter<LinkEvents>((error, type) => options.logger.warn('link listener threw', { type, error: String(error) }));
    this.events = this.#emitter;
    // Encrypted links seal small frames in WebAssembly once it has loaded (node:crypto until then).
    if (options.encrypt && options.keys !== undefined) {
      void loadWasmAead().then((wasm) => {
        if (wasm === undefined) options.logger.warn('the WebAssembly cipher (libsodium-wrappers) did not load: links encrypt every frame through node:crypto, which is slower for small frames');
      });
    }
  }

  /**
   * Where messages from every peer go (one sink, set by the owner before the first link comes
   * up). A sink that throws is logged; the link and the other messages are not affected.
   */
  onMessage(sink: PeerMessageSink): void {
    this.#sink = sink;
  }

  /** This side's identity. */
  get localId(): string {
    return this.#localId;
  }

  /**
   * Starts accepting links on `address`; resolves with the address bound. `identify`, if given,
   * names this side from the bound address (so an id can carry an ephemeral port) before any
   * stream is accepted.
   */
  async listen(address: StreamAddress, identify?: (bound: StreamAddress) => string): Promise<StreamAddress> {
    this.#listener = await this.#o.streams.listen(address, (stream, remote) => void this.#accept(stream, remote));
    if (identify !== undefined) this.#localId = identify(this.#listener.address);
    return this.#listener.address;
  }

  /** The peers with a ready link. */
  connected(): string[] {
    return [...this.#peers].filter(([, p]) => p.link !== undefined).map(([id]) => id);
  }

  /** Whether any message is still queued: on a link, or waiting for a link being dialled. */
  busy(): boolean {
    for (const state of this.#peers.values()) {
      if (state.pending.length > 0 || (state.link?.queuedBytes ?? 0) > 0) return true;
    }
    return false;
  }

  /** Whether a ready link to `peer` exists. */
  isConnected(peer: string): boolean {
    return this.#peers.get(peer)?.link !== undefined;
  }

  /** The ready link to a peer, for statistics. */
  linkTo(peer: string): Link | undefined {
    return this.#peers.get(peer)?.link;
  }

  /**
   * Sends a message, dialling the peer if there is no link yet. Messages sent with the same `lane`
   * keep their order even when some are large (see `Link`). A message that waits for the link and
   * is then refused by it is counted in `up`, and `listener` (if given) is told why.
   *
   * @throws CohortError `QUEUE_FULL`, `FRAME_TOO_LARGE`, `NOCONNECTION` (no address known, or closed).
   */
  send(peer: string, payload: Uint8Array, lane?: number, listener?: RefusalListener): void {
    if (this.#closed) throw new CohortError('NOCONNECTION', 'the transport is closed');
    const state = this.#state(peer);
    if (state.link !== undefined) {
      state.link.send(payload, lane);
      return;
    }
    if (payload.byteLength > this.#o.maxFrameBytes) {
      throw new CohortError('FRAME_TOO_LARGE', `a message of ${payload.byteLength} bytes exceeds maxFrameBytes (${this.#o.maxFrameBytes})`);
    }
    if (state.pendingBytes + payload.byteLength > this.#o.maxQueueBytes) {
      throw new CohortError('QUEUE_FULL', `the send queue to ${peer} is full while its link is being set up`, { details: { peer } });
    }
    state.pending.push(listener === undefined ? { payload, lane } : { payload, lane, listener });
    state.pendingBytes += payload.byteLength;
    void this.connect(peer).catch(() => {
      // Reported through the `down` event.
    });
  }

  /**
   * Dials a peer by id unless a link exists or is being set up. Resolves when a link is ready.
   *
   * @throws CohortError `NOCONNECTION` (unreachable, or no address), `AUTH_FAILED`, `UNSUPPORTED_VERSION`.
   */
  async connect(peer: string): Promise<void> {
    const state = this.#state(peer);
    if (state.link !== undefined) return;
    if (state.dialing !== undefined) return state.dialing;
    const now = this.#o.clock.now();
    if (now < state.notBefore) {
      const error = new CohortError('NOCONNECTION', `${peer} did not answer recently; the next dial is allowed in ${Math.ceil(state.notBefore - now)} ms`, {
        details: { peer, retryInMs: Math.ceil(state.notBefore - now) },
      });
      this.#dropPending(peer, state, error);
      throw error;
    }
    const address = this.#o.addressOf(peer);
    if (address === undefined) {
      const error = new CohortError('NOCONNECTION', `no address is known for ${peer}`, { details: { peer } });
      this.#dropPending(peer, state, error);
      throw error;
    }
    state.dialStartedAt = this.#o.clock.now();
    const dialing: Promise<void> = this.#dial(address, peer).then(
      () => {
        if (state.dialing === dialing) state.dialing = undefined;
      },
      (error: unknown) => {
        const e = asError(error);
        // A dial given up for a newer one (see redial) fails quietly; to whoever waits on it, it
        // succeeded if the newer one (or the peer's own dial) produced a link.
        if (state.dialing !== dialing) {
          if (state.link !== undefined) return;
          throw e;
        }
        state.dialing = undefined;
        // Refused as a duplicate: the peer's own link to us is (or will be) the one.
        if (e.code === 'DUPLICATE_LINK') return;
        state.notBefore = this.#o.clock.now() + state.backoff.next();
        if (state.link === undefined && state.handshaking.size === 0) this.#dropPending(peer, state, e);
        throw e;
      },
    );
    state.dialing = dialing;
    return dialing;
  }

  /**
   * Dials an address whose peer id is not known yet (a seed). Resolves with the peer's id.
   */
  async dialAddress(address: StreamAddress): Promise<string> {
    return this.#dial(address, undefined);
  }

  /**
   * Lifts the redial backoff of a peer: the next send or connect dials at once. For a deliberate,
   * rate-limited probe of a peer that did not answer (membership checking whether a partition has
   * healed).
   */
  resetBackoff(peer: string): void {
    const state = this.#peers.get(peer);
    if (state === undefined) return;
    state.backoff.reset();
    state.notBefore = 0;
  }

  /**
   * There is news that the peer is reachable again (membership heard from it): lifts the backoff
   * and, unless a link is ready, dials now. A dial in progress is given until it is
   * `STALE_DIAL_MS` old and then, if no link came of it, replaced: it may have started inside the
   * partition, or as the partition healed on one side only, and hang until its timeout (a SYN, or
   * a handshake, lost on the way). The handshake keeps one link if both get through.
   */
  redial(peer: string): void {
    const state = this.#peers.get(peer);
    if (state === undefined || this.#closed) return;
    this.resetBackoff(peer);
    if (state.link !== undefined) return;
    const age = this.#o.clock.now() - state.dialStartedAt;
    if (state.dialing !== undefined && age < STALE_DIAL_MS) {
      if (!state.recheckDue) {
        state.recheckDue = true;
        this.#timers.setTimeout(() => {
          state.recheckDue = false;
          this.redial(peer);
        }, STALE_DIAL_MS - age);
      }
      return;
    }
    state.dialing = undefined;
    void this.connect(peer).catch(() => {
      // Reported through the `down` event.
    });
  }

  /** Closes the link to a peer (if any) and drops its queue. */
  disconnect(peer: string, error?: CohortError): void {
    const state = this.#peers.get(peer);
    if (state === undefined) return;
    state.link?.close(error);
  }

  /** Stops listening and closes every link. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clear();
    await this.#listener?.close();
    for (const state of this.#peers.values()) state.link?.close();
    for (const frames of this.#streams) frames.destroy();
    this.#streams.clear();
  }

  #state(peer: string): PeerState {
    let state = this.#peers.get(peer);
    if (state === undefined) {
      const redial = this.#o.redial ?? { baseMs: 100, maxMs: 5_000 };
      state = {
        link: undefined,
        instance: undefined,
        handshaking: new Set(),
        hold: undefined,
        draining: 0,
        pending: [],
        pendingBytes: 0,
        dialing: undefined,
        dialStartedAt: 0,
        recheckDue: false,
        backoff: new Backoff({ ...redial, jitter: 'full', ...(this.#o.random === undefined ? {} : { random: this.#o.random }) }),
        notBefore: 0,
      };
      this.#peers.set(peer, state);
    }
    return state;
  }

  async #dial(address: StreamAddress, expected: string | undefined): Promise<string> {
    if (this.#closed) throw new CohortError('NOCONNECTION', 'the transport is closed');
    const marker: Handshaking = { outbound: true };
    let expectedState: PeerState | undefined;
    if (expected !== undefined) {
      expectedState = this.#state(expected);
      expectedState.handshaking.add(marker);
    }
    try {
      const stream = await this.#o.streams.connect(address, this.#o.connectTimeoutMs);
      return await this.#establish(stream, true, expected, marker);
    } finally {
      if (expected !== undefined && expectedState !== undefined) {
        expectedState.handshaking.delete(marker);
        this.#release(expected, expectedState);
      }
    }
  }

  async #accept(stream: Duplex, remote: StreamAddress): Promise<void> {
    if (this.#closed) {
      stream.destroy();
      return;
    }
    try {
      await this.#establish(stream, false, undefined, { outbound: false });
    } catch (error) {
      const e = asError(error);
      if (e.code !== 'DUPLICATE_LINK') {
        // One warning per remote host per interval: a hostile peer must not be able to flood the log.
        const now = this.#o.clock.now();
        const last = this.#refusalLogged.get(remote.host);
        const fields = { remote: `${remote.host}:${remote.port}`, code: e.code, error: e.message };
        if (last === undefined || now - last >= REFUSAL_LOG_INTERVAL_MS) {
          if (this.#refusalLogged.size >= 1024) this.#refusalLogged.clear();
          this.#refusalLogged.set(remote.host, now);
          this.#o.logger.warn('refused an incoming link', fields);
        } else {
          this.#o.logger.debug('refused an incoming link', fields);
        }
      }
      this.#emitter.emit('refused', { remote: `${remote.host}:${remote.port}`, error: e });
    }
  }

  async #establish(stream: Duplex, outbound: boolean, expected: string | undefined, marker: Handshaking): Promise<string> {
    const frames = new FrameStream(stream, this.#o.maxFrameBytes);
    this.#streams.add(frames);
    frames.onClose(() => this.#streams.delete(frames));
    let claimed: { readonly peer: string; readonly state: PeerState } | undefined;
    try {
      const result = await handshake(frames, {
        initiator: outbound,
        localId: this.#localId,
        instance: this.#o.instance,
        keys: this.#o.keys,
        encrypt: this.#o.encrypt,
        expectedPeer: expected,
        maxFrameBytes: this.#o.maxFrameBytes,
        timeoutMs: this.#o.handshakeTimeoutMs,
        clock: this.#o.clock,
        validatePeer: (id, instance) => {
          const refusal = this.#admit(id, instance, outbound, marker);
          if (refusal === undefined) {
            marker.answered = true;
            if (expected === undefined) {
              // Seed dials and inbound links learn the peer here: count this handshake as in progress.
              claimed = { peer: id, state: this.#state(id) };
              claimed.state.handshaking.add(marker);
            }
          }
          return refusal;
        },
      });
      if (this.#closed) {
        frames.destroy();
        throw new CohortError('NOCONNECTION', 'the transport closed during the handshake');
      }
      // This handshake is over: it must not count as "another link being set up" from here on.
      // (What it held back is released only once its link is installed, in `finally`.)
      claimed?.state.handshaking.delete(marker);
      this.#peers.get(result.peerId)?.handshaking.delete(marker);
      const link = new Link(result.peerId, outbound, frames, result.cipher, {
        maxMessageBytes: this.#o.maxFrameBytes,
        maxQueueBytes: this.#o.maxQueueBytes,
        peerMaxFrameBytes: result.peerMaxFrameBytes,
      });
      this.#install(result.peerId, result.peerInstance, link);
      return result.peerId;
    } finally {
      if (claimed !== undefined) {
        claimed.state.handshaking.delete(marker);
        this.#release(claimed.peer, claimed.state);
      }
    }
  }

  /** Decides, during the handshake, whether a link to `peer` in this direction may proceed. */
  #admit(peer: string, instance: string, outbound: boolean, marker: Handshaking): CohortError | undefined {
    if (peer === this.#localId) return new CohortError('AUTH_FAILED', `the peer claims this node's own id ${peer}`);
    const refusal = this.#o.acceptPeer?.(peer);
    if (refusal !== undefined) return new CohortError('AUTH_FAILED', `refused peer ${peer}: ${refusal}`, { details: { peer } });
    const state = this.#peers.get(peer);
    if (state === undefined) return undefined;
    if (state.link !== undefined && state.instance !== undefined && state.instance !== instance) return undefined; // a new run
    const preferredOutbound = this.#localId < peer; // the lower id keeps the link it dialled
    if (outbound === preferredOutbound) return undefined;
    const preferredBusy =
      (state.link !== undefined && state.link.outbound === preferredOutbound) ||
      [...state.handshaking].some((h) => h !== marker && h.outbound === preferredOutbound);
    if (!preferredBusy) return undefined;
    return new CohortError('DUPLICATE_LINK', `a link to ${peer} dialled by ${preferredOutbound ? 'this node' : 'the peer'} already exists or is being set up`, {
      details: { peer },
    });
  }

  #install(peer: string, instance: string, link: Link): void {
    const state = this.#state(peer);
    const old = state.link;
    const sameInstance = state.instance === instance;
    const preferredOutbound = this.#localId < peer;
    if (old !== undefined && !old.closed && sameInstance && old.outbound === preferredOutbound && link.outbound !== preferredOutbound) {
      this.#late(peer, link);
      return;
    }
    // The link held back (if any) is superseded: what it held goes first.
    this.#flush(peer, state);
    state.link = link;
    state.instance = instance;
    state.backoff.reset();
    state.notBefore = 0;
    link.onClose((close) => this.#closed_(peer, link, close));
    // A link in the other direction may still come up late and carry older messages.
    if (this.#otherAnswered(state, link.outbound)) this.#hold(state, link);
    // Superseded: what the old link had not written moves over, ahead of what waited for a link.
    // A restarted peer's old link is dead: close it. Otherwise (the preferred direction won after
    // the other link carried messages) the peer may still be writing on it: retire it, and hold
    // back the new link's messages until the old one has delivered the last of the peer's, so
    // none is lost and their order holds.
    let moved: Queued[] = [];
    let drained: Promise<void> = Promise.resolve();
    if (old !== undefined && !old.closed && sameInstance) {
      moved = old.retire();
      drained = this.#drain(peer, old);
    } else if (old !== undefined) {
      moved = old.takeQueued();
      old.close();
    }
    const pending: Waiting[] = [...moved, ...state.pending.splice(0)];
    state.pendingBytes = 0;
    let refused = 0;
    for (const { payload, lane, listener } of pending) {
      try {
        link.send(payload, lane);
      } catch (error) {
        refused++;
        const e = asError(error);
        this.#o.logger.warn('dropped a queued message', { peer, error: e.message });
        listener?.refused(e);
      }
    }
    this.#emitter.emit('up', { peer, instance, outbound: link.outbound, refused });
    // Last: frames that arrived with the end of the handshake are handled now, after `up` (and
    // after the link it replaces has delivered the peer's last messages).
    if (old === undefined || !sameInstance) this.#listen(peer, link);
    else void drained.then(() => this.#listen(peer, link));
  }

  /**
   * Starts delivering what arrives on `link` (frames that came early first), unless it has
   * closed; while the link is held back, what arrives is kept instead (see `#hold`).
   */
  #listen(peer: string, link: Link): void {
    if (link.closed) return;
    const state = this.#state(peer);
    link.onMessage((buffer, start, end) => {
      if (state.hold?.link === link) this.#keep(peer, state, state.hold, buffer, start, end);
      else this.#deliver(peer, buffer, start, end);
    });
  }

  #deliver(peer: string, buffer: Buffer, start: number, end: number): void {
    try {
      this.#sink(peer, buffer, start, end);
    } catch (error) {
      this.#o.logger.warn('the message sink threw', { peer, error: asError(error).message });
    }
  }

  /**
   * The other direction's handshake finished after the preferred link was up (both were admitted
   * before either side knew of the other dial, as when a seed is dialled by address). The
   * preferred link stays; the late one is retired at once, and what the peer wrote on it before it
   * switched is delivered before anything more from the preferred link: that is held back until
   * the late link closes. (The preferred link was already held back if this handshake had been
   * answered when it came up, so what the peer wrote on it after switching waits too.)
   */
  #late(peer: string, link: Link): void {
    this.#o.logger.debug('a link finished its handshake after the preferred one was up; retiring it', { peer, outbound: link.outbound });
    const state = this.#state(peer);
    if (state.hold === undefined && state.link !== undefined) this.#hold(state, state.link);
    link.retire();
    state.draining++;
    void this.#drain(peer, link).then(() => {
      state.draining--;
      this.#release(peer, state);
    });
    this.#listen(peer, link);
  }

  /**
   * Holds back what arrives on `link`: a handshake in the other direction has been answered, so
   * the peer may have written older messages on that link, which must be delivered first. Released
   * by `#release` when no such handshake is left and no late link is draining.
   */
  #hold(state: PeerState, link: Link): void {
    state.hold = { link, messages: [], bytes: 0 };
  }

  /** Keeps a message that arrived on the held-back link: a copy, since the range is the link's own frame. */
  #keep(peer: string, state: PeerState, hold: Hold, buffer: Buffer, start: number, end: number): void {
    hold.messages.push(Buffer.from(buffer.subarray(start, end)));
    hold.bytes += end - start;
    if (hold.bytes > this.#o.maxQueueBytes) {
      this.#o.logger.warn('held back more than maxQueueBytes while a late link delivered; delivering now, in arrival order', { peer, bytes: hold.bytes });
      this.#flush(peer, state);
    }
  }

  /** Delivers what was held back once nothing older can arrive any more. */
  #release(peer: string, state: PeerState): void {
    const hold = state.hold;
    if (hold === undefined || state.draining > 0 || this.#otherAnswered(state, hold.link.outbound)) return;
    this.#flush(peer, state);
  }

  /** Delivers what was held back, in order, and stops holding. */
  #flush(peer: string, state: PeerState): void {
    const hold = state.hold;
    state.hold = undefined;
    if (hold === undefined || this.#closed) return;
    for (const message of hold.messages) this.#deliver(peer, message, 0, message.length);
  }

  /** Whether a handshake in the direction opposite to `outbound` has been answered by the peer and is still under way. */
  #otherAnswered(state: PeerState, outbound: boolean): boolean {
    for (const h of state.handshaking) if (h.answered === true && h.outbound !== outbound) return true;
    return false;
  }

  /** Resolves once a retired link has closed; closes it if the peer's goodbye does not come in time. */
  #drain(peer: string, old: Link): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#timers.setTimeout(() => {
        this.#o.logger.info('a replaced link did not close in time; closing it', { peer });
        old.close();
      }, this.#o.handshakeTimeoutMs);
      old.onClose(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  #closed_(peer: string, link: Link, close: LinkClose): void {
    const state = this.#peers.get(peer);
    if (state === undefined || state.link !== link) return; // superseded: not a down
    // What it held back arrived before it closed.
    if (state.hold?.link === link) this.#flush(peer, state);
    state.link = undefined;
    // The peer retired this link for another it set up: what was not written here goes there.
    if (close.reason === 'bye' && state.handshaking.size > 0) {
      const moved = link.takeQueued();
      state.pending.unshift(...moved);
      for (const q of moved) state.pendingBytes += q.payload.byteLength;
    }
    if (close.error !== undefined && close.reason === 'error') {
      this.#o.logger.info('link closed with an error', { peer, code: close.error.code, error: close.error.message });
    }
    const report = () => this.#emitter.emit('down', { peer, error: close.error, unsent: close.unsent });
    if (state.handshaking.size === 0 || this.#closed) {
      report();
      return;
    }
    // Another link to this peer is being set up: report down only if it does not come up.
    const started = this.#o.clock.now();
    const check = () => {
      if (state.link !== undefined) return;
      if (state.handshaking.size === 0 || this.#o.clock.now() - started > this.#o.handshakeTimeoutMs * 2) report();
      else this.#timers.setTimeout(check, 20);
    };
    this.#timers.setTimeout(check, 20);
  }

  #dropPending(peer: string, state: PeerState, error: CohortError): void {
    const unsent = state.pending.length;
    state.pending.length = 0;
    state.pendingBytes = 0;
    if (unsent > 0) this.#emitter.emit('down', { peer, error, unsent });
  }
}

function asError(error: unknown): CohortError {
  return isCohortError(error) ? error : new CohortError('NOCONNECTION', 'the link failed', { cause: error });
}
