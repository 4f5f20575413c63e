import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkMeta,
  compareMembers,
  makeMember,
  merge,
  metaProblem,
  supersedes,
  type Member,
  type MemberStatus,
} from '../../../src/cluster/membership/member.js';
import { transitionEvents } from '../../../src/cluster/membership/member-list.js';
import { CohortError } from '../../../src/core/errors.js';

const B = 'b@10.0.0.2:4000';
const rec = (status: MemberStatus, incarnation: number, meta: Record<string, string> = {}): Member =>
  makeMember(B, incarnation, status, Object.freeze({ ...meta }));

describe('merge — SWIM precedence', () => {
  it('merge — a higher incarnation wins over any status, so a refutation or a new run overrides dead and left', () => {
    for (const older of ['alive', 'suspect', 'dead', 'left'] as const) {
      for (const newer of ['alive', 'suspect', 'dead', 'left'] as const) {
        expect(merge(rec(older, 3), rec(newer, 4))).toEqual(rec(newer, 4));
        expect(merge(rec(newer, 4), rec(older, 3))).toEqual(rec(newer, 4));
      }
    }
  });

  it('merge — at equal incarnation suspect beats alive, dead beats suspect, left beats dead', () => {
    expect(merge(rec('alive', 5), rec('suspect', 5)).status).toBe('suspect');
    expect(merge(rec('suspect', 5), rec('alive', 5)).status).toBe('suspect');
    expect(merge(rec('suspect', 5), rec('dead', 5)).status).toBe('dead');
    expect(merge(rec('dead', 5), rec('alive', 5)).status).toBe('dead');
    expect(merge(rec('dead', 5), rec('left', 5)).status).toBe('left');
    expect(merge(rec('left', 5), rec('dead', 5)).status).toBe('left');
  });

  it('merge — alive at the same incarnation does not refute a suspicion', () => {
    expect(supersedes(rec('alive', 7), rec('suspect', 7))).toBe(false);
    expect(supersedes(rec('alive', 8), rec('suspect', 7))).toBe(true);
  });

  it('merge — keeps the local object when the incoming record brings nothing new', () => {
    const local = rec('alive', 2);
    expect(merge(local, rec('alive', 2))).toBe(local);
    expect(merge(local, rec('alive', 1))).toBe(local);
    expect(merge(undefined, local)).toBe(local);
  });

  it('merge — refuses to compare records of different members', () => {
    const other = makeMember('c@10.0.0.3:4000', 1, 'alive', {});
    expect(() => compareMembers(rec('alive', 1), other)).toThrow(CohortError);
  });
});

const statusArb = fc.constantFrom<MemberStatus>('alive', 'suspect', 'dead', 'left');
const metaArb = fc.dictionary(fc.constantFrom('role', 'zone', 'v'), fc.constantFrom('a', 'b', ''), { maxKeys: 2 });
const memberArb = fc
  .record({ incarnation: fc.integer({ min: 0, max: 4 }), status: statusArb, meta: metaArb })
  .map(({ incarnation, status, meta }) => rec(status, incarnation, meta));

describe('merge — properties', () => {
  it('merge — is commutative', () => {
    fc.assert(
      fc.property(memberArb, memberArb, (a, b) => {
        expect(merge(a, b)).toEqual(merge(b, a));
      }),
    );
  });

  it('merge — is idempotent', () => {
    fc.assert(
      fc.property(memberArb, (a) => {
        expect(merge(a, a)).toEqual(a);
      }),
    );
  });

  it('merge — is associative', () => {
    fc.assert(
      fc.property(memberArb, memberArb, memberArb, (a, b, c) => {
        expect(merge(merge(a, b), c)).toEqual(merge(a, merge(b, c)));
      }),
    );
  });

  it('merge — nodes that see the same records in any order and with duplicates converge to the same one', () => {
    fc.assert(
      fc.property(fc.array(memberArb, { minLength: 1, maxLength: 12 }), fc.func(fc.integer()), (records, key) => {
        const shuffled = [...records, ...records.slice(0, 3)].sort((x, y) => key(x) - key(y));
        const a = records.reduce<Member | undefined>(merge, undefined);
        const b = shuffled.reduce<Member | undefined>(merge, undefined);
        expect(b).toEqual(a);
      }),
    );
  });

  it('merge — the result is always one of the inputs and never loses to either', () => {
    fc.assert(
      fc.property(memberArb, memberArb, (a, b) => {
        const m = merge(a, b);
        expect([a, b]).toContain(m);
        expect(compareMembers(m, a)).toBeGreaterThanOrEqual(0);
        expect(compareMembers(m, b)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('meta — validation', () => {
  it('meta — accepts up to 32 string values within 1 KiB and returns a frozen copy', () => {
    const meta = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'v'.repeat(20)]));
    const checked = checkMeta(meta, 'INVALID_OPTION', 'meta');
    expect(checked).toEqual(meta);
    expect(checked).not.toBe(meta);
    expect(Object.isFrozen(checked)).toBe(true);
  });

  it('meta — refuses more than 32 keys, more than 1 KiB, non-string values and __proto__', () => {
    expect(metaProblem(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])))).toMatch(/33 keys/);
    expect(metaProblem({ big: 'x'.repeat(1022) })).toMatch(/1024 bytes/);
    expect(metaProblem({ n: 1 })).toMatch(/must be a string/);
    expect(metaProblem(JSON.parse('{"__proto__":"x"}'))).toMatch(/not allowed/);
    expect(metaProblem([])).toMatch(/must be an object/);
    expect(metaProblem(new Map())).toMatch(/plain object/);
    expect(metaProblem({ é: 'é'.repeat(511) })).toBeUndefined(); // 2 + 1022 bytes in UTF-8
    expect(metaProblem({ é: 'é'.repeat(512) })).toMatch(/1024 bytes/); // 2 + 1024
  });

  it('meta — a bad meta is an error with the given code naming the option', () => {
    try {
      checkMeta({ n: 1 }, 'INVALID_OPTION', "option 'meta'");
      expect.unreachable();
    } catch (error) {
      expect((error as CohortError).code).toBe('INVALID_OPTION');
      expect((error as CohortError).message).toMatch(/option 'meta'/);
    }
  });
});

describe('transitionEvents — one event per change', () => {
  const types = (prev: Member | undefined, cur: Member) => transitionEvents(prev, cur).map((e) => e.type);

  it('transitionEvents — up, suspect, refuted, down, meta', () => {
    expect(types(undefined, rec('alive', 1))).toEqual(['nodeUp']);
    expect(types(undefined, rec('suspect', 1))).toEqual(['nodeUp', 'suspect']);
    expect(types(rec('alive', 1), rec('suspect', 1))).toEqual(['suspect']);
    expect(types(rec('suspect', 1), rec('alive', 2))).toEqual(['alive']);
    expect(types(rec('suspect', 1), rec('dead', 1))).toEqual(['nodeDown']);
    expect(types(rec('dead', 1), rec('alive', 2))).toEqual(['nodeUp']);
    expect(types(rec('alive', 1, { a: '1' }), rec('alive', 2, { a: '2' }))).toEqual(['metaChanged']);
    expect(types(rec('alive', 1), rec('alive', 2))).toEqual([]);
    expect(types(rec('dead', 1), rec('left', 1))).toEqual([]);
    expect(types(undefined, rec('dead', 1))).toEqual([]);
  });

  it('transitionEvents — nodeDown says why', () => {
    expect(transitionEvents(rec('alive', 1), rec('left', 2))).toEqual([{ type: 'nodeDown', node: B, reason: 'left', incarnation: 2 }]);
    expect(transitionEvents(rec('alive', 1), rec('dead', 1))).toEqual([{ type: 'nodeDown', node: B, reason: 'failed', incarnation: 1 }]);
  });
});
