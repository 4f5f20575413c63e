/**
 * The member list one node holds, and the events its changes mean.
 *
 * `MemberList` keeps the local member's own record and the latest record about every other member
 * it has heard of, applies {@link merge} to incoming records, and counts the members that are up
 * (`alive` or `suspect`, the local member included) because that count scales retransmissions and
 * suspicion. It remembers when a member went down, so that `dead` and `left` records can be
 * forgotten after a retention time.
 *
 * {@link transitionEvents} turns one change of a record into the events users see. Each change
 * yields each event at most once, and only changes yield events: a record that brings nothing new
 * changes nothing. Up means `alive` or `suspect`:
 *
 * | before → after                  | events                                  |
 * |---------------------------------|-----------------------------------------|
 * | unknown, dead or left → up      | `nodeUp` (then `suspect` if suspect)    |
 * | up → dead / left                | `nodeDown` with reason failed / left    |
 * | alive → suspect                 | `suspect`                               |
 * | suspect → alive                 | `alive` (the suspicion was refuted)     |
 * | up → up with other meta         | `metaChanged` (after the above)         |
 * | down → down, unknown → down     | none (it was never up here)             |
 */
import type { NodeId } from '../../core/ids.js';
import { isUp, sameMeta, supersedes, type Member, type MemberMeta } from './member.js';

/** The events of a {@link Membership}, by name. Each payload carries its name as `type`. */
export interface MembershipEvents {
  /** A member is up: first heard of, or back with a higher incarnation after `dead` or `left`. */
  nodeUp: { readonly type: 'nodeUp'; readonly node: NodeId; readonly meta: MemberMeta; readonly incarnation: number };
  /** A member failed a probe (here or elsewhere) and will be declared dead unless it refutes. */
  suspect: { readonly type: 'suspect'; readonly node: NodeId; readonly incarnation: number };
  /** A suspected member refuted the suspicion: it is alive, with a higher incarnation. */
  alive: { readonly type: 'alive'; readonly node: NodeId; readonly incarnation: number };
  /** A member is down: `failed` (declared dead) or `left` (said goodbye). */
  nodeDown: { readonly type: 'nodeDown'; readonly node: NodeId; readonly reason: 'failed' | 'left'; readonly incarnation: number };
  /** An up member changed its meta. */
  metaChanged: { readonly type: 'metaChanged'; readonly node: NodeId; readonly meta: MemberMeta; readonly previous: MemberMeta };
  /** A malformed message was dropped. */
  invalidMessage: { readonly type: 'invalidMessage'; readonly from: string; readonly reason: string };
}

/** Any membership event. */
export type MembershipEvent = MembershipEvents[keyof MembershipEvents];

/** The events one change of a record about another member means, in the order to emit them. */
export function transitionEvents(previous: Member | undefined, current: Member): MembershipEvent[] {
  const node = current.id;
  const incarnation = current.incarnation;
  const wasUp = isUp(previous);
  const nowUp = isUp(current);
  const out: MembershipEvent[] = [];
  if (!wasUp && nowUp) {
    out.push({ type: 'nodeUp', node, meta: current.meta, incarnation });
    if (current.status === 'suspect') out.push({ type: 'suspect', node, incarnation });
    return out;
  }
  if (wasUp && !nowUp) {
    out.push({ type: 'nodeDown', node, reason: current.status === 'left' ? 'left' : 'failed', incarnation });
    return out;
  }
  if (!wasUp || previous === undefined) return out;
  if (previous.status === 'alive' && current.status === 'suspect') out.push({ type: 'suspect', node, incarnation });
  if (previous.status === 'suspect' && current.status === 'alive') out.push({ type: 'alive', node, incarnation });
  if (!sameMeta(previous.meta, current.meta)) {
    out.push({ type: 'metaChanged', node, meta: current.meta, previous: previous.meta });
  }
  return out;
}

/** A change of one record: what was held before (if anything) and what is held now. */
export interface MemberChange {
  readonly previous: Member | undefined;
  readonly current: Member;
}

/** The records one node holds. */
export class MemberList {
  #self: Member;
  readonly #others = new Map<NodeId, Member>();
  /** When each `dead` or `left` member went down, by the local clock. */
  readonly #downSince = new Map<NodeId, number>();
  #upOthers = 0;

  constructor(self: Member) {
    this.#self = self;
  }

  /** The local member's record. */
  get self(): Member {
    return this.#self;
  }

  /** Replaces the local member's record (only the local member changes it). */
  setSelf(record: Member): void {
    this.#self = record;
  }

  /** The record held about `id` (the local member's own when `id` is its id). */
  get(id: NodeId): Member | undefined {
    return id === this.#self.id ? this.#self : this.#others.get(id);
  }

  /** Records about other members, in the order they were first heard of. */
  others(): IterableIterator<Member> {
    return this.#others.values();
  }

  /** How many members are up, the local member included when it is. */
  get upCount(): number {
    return this.#upOthers + (isUp(this.#self) ? 1 : 0);
  }

  /** How many other members are held, in any status. */
  get size(): number {
    return this.#others.size;
  }

  /**
   * Merges `incoming` (about another member) into the list. Returns the change, or `undefined`
   * when `incoming` brings nothing new. `now` stamps members that go down.
   */
  apply(incoming: Member, now: number): MemberChange | undefined {
    const previous = this.#others.get(incoming.id);
    if (!supersedes(incoming, previous)) return undefined;
    this.#others.set(incoming.id, incoming);
    const wasUp = isUp(previous);
    const nowUp = isUp(incoming);
    if (wasUp !== nowUp) this.#upOthers += nowUp ? 1 : -1;
    if (nowUp) this.#downSince.delete(incoming.id);
    else if (wasUp || previous === undefined) this.#downSince.set(incoming.id, now);
    return { previous, current: incoming };
  }

  /** Forgets `dead` and `left` members that went down before `before`; returns their ids. */
  prune(before: number): NodeId[] {
    const gone: NodeId[] = [];
    for (const [id, since] of this.#downSince) {
      if (since >= before) continue;
      this.#downSince.delete(id);
      this.#others.delete(id);
      gone.push(id);
    }
    return gone;
  }
}
