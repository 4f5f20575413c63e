/**
 * The delivery model of the services' merge properties: each owner's messages reach a replica in
 * order, with some lost and snapshots repeated, followed by a fresh snapshot when the link came
 * back (anything lost, or a bounce), cut short by a `down` event when the owner ends down; the
 * owners' streams are interleaved at random.
 */
import fc from 'fast-check';
import type { NodeId } from '../../src/core/ids.js';

/** How the messages of every owner fare on their way to one replica. */
export interface ReplicaFates {
  /** Per owner and message: 0 delivered, 1 lost, 2 delivered twice (snapshots only). */
  readonly fates: readonly (readonly number[])[];
  /** Per owner: whether a last, fresh snapshot comes even when nothing was lost (a link bounce). */
  readonly extra: readonly boolean[];
  /** Where the down event of a down owner cuts its stream (fraction of it delivered first). */
  readonly cut: number;
  /** Picks the next stream to take a message from. */
  readonly order: readonly number[];
}

/** Fates for `owners` owners of up to `maxMessages` messages each, and up to `maxPicks` picks of the order. */
export function replicaFatesArb(owners: number, maxMessages: number, maxPicks: number): fc.Arbitrary<ReplicaFates> {
  return fc.record({
    fates: fc.array(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: maxMessages }), { minLength: owners, maxLength: owners }),
    extra: fc.array(fc.boolean(), { minLength: owners, maxLength: owners }),
    cut: fc.double({ min: 0, max: 1, noNaN: true }),
    order: fc.array(fc.nat(), { maxLength: maxPicks }),
  });
}

/** What one owner sent, and the snapshot of its final slice that a re-established link brings. */
export interface OwnerHistory<M> {
  readonly owner: NodeId;
  readonly messages: readonly M[];
  readonly resend: M;
}

/** Delivers every owner's stream to one replica, interleaved as `replica.order` says. */
export function deliverToReplica<M extends { readonly kind: string }>(
  owners: readonly OwnerHistory<M>[],
  down: readonly boolean[],
  replica: ReplicaFates,
  deliver: (owner: NodeId, message: M | 'down') => void,
): void {
  const streams = owners.map(({ owner, messages, resend }, i) => {
    const fates = replica.fates[i]!;
    const stream: (M | 'down')[] = [];
    let lost = false;
    messages.forEach((msg, j) => {
      const fate = fates[j % Math.max(1, fates.length)] ?? 0;
      if (fate === 1) lost = true;
      else stream.push(msg);
      if (fate === 2 && msg.kind === 'snapshot') stream.push(msg);
    });
    if (lost || replica.extra[i]) stream.push(resend); // the link came back
    if (down[i]) stream.splice(Math.floor(replica.cut * stream.length), stream.length, 'down');
    return { owner, stream };
  });
  let k = 0;
  for (;;) {
    const live = streams.filter((s) => s.stream.length > 0);
    if (live.length === 0) return;
    const s = live[(replica.order[k++] ?? 0) % live.length]!;
    deliver(s.owner, s.stream.shift()!);
  }
}
