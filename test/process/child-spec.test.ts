import { describe, expect, it } from 'vitest';
import type { AnyBehavior } from '../../src/process/behavior.js';
import {
  normalizeChildSpec,
  normalizeIntensity,
  normalizeSupervisorSpec,
  shouldRestart,
  SUPERVISOR_DEFAULTS,
  type RestartType,
} from '../../src/process/child-spec.js';
import { isSupervisorBehavior, supervisorBehavior } from '../../src/process/supervisor.js';
import { dynamicSupervisorBehavior } from '../../src/process/dynamic-supervisor.js';
import { worker } from '../helpers/behaviors.js';
import { thrown } from '../helpers/errors.js';

const notSupervisor = () => false;

/** The CohortError `fn` throws; fails the test if it throws nothing or something else. */
describe('normalizeChildSpec', () => {
  it('normalizeChildSpec — applies defaults: permanent, 5000 ms shutdown, no name, args as given', () => {
    const args = { n: 1 };
    const spec = normalizeChildSpec({ id: 'a', behavior: worker, args }, notSupervisor);
    expect(spec).toEqual({ id: 'a', behavior: worker, args, restart: 'permanent', shutdownMs: 5_000, name: undefined });
    expect(spec.args).toBe(args);
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it('normalizeChildSpec — keeps explicit values', () => {
    const spec = normalizeChildSpec({ id: 'a', behavior: 'registered', restart: 'transient', shutdownMs: 250, name: 'n' }, notSupervisor);
    expect(spec).toMatchObject({ behavior: 'registered', restart: 'transient', shutdownMs: 250, name: 'n' });
  });

  it('normalizeChildSpec — a supervisor child gets the longer default shutdownMs', () => {
    expect(normalizeChildSpec({ id: 's', behavior: supervisorBehavior }, isSupervisorBehavior).shutdownMs).toBe(
      SUPERVISOR_DEFAULTS.supervisorShutdownMs,
    );
    expect(normalizeChildSpec({ id: 'd', behavior: dynamicSupervisorBehavior }, isSupervisorBehavior).shutdownMs).toBe(60_000);
    expect(normalizeChildSpec({ id: 'w', behavior: worker }, isSupervisorBehavior).shutdownMs).toBe(5_000);
    // An explicit value wins, and a name cannot be checked, so it gets the worker default.
    expect(normalizeChildSpec({ id: 's', behavior: supervisorBehavior, shutdownMs: 10 }, isSupervisorBehavior).shutdownMs).toBe(10);
    expect(normalizeChildSpec({ id: 's', behavior: 'some-name' }, isSupervisorBehavior).shutdownMs).toBe(5_000);
  });

  it('normalizeChildSpec — accepts every restart type', () => {
    for (const restart of ['permanent', 'transient', 'temporary'] as const) {
      expect(normalizeChildSpec({ id: 'a', behavior: worker, restart }, notSupervisor).restart).toBe(restart);
    }
  });

  const bad: [string, unknown, string][] = [
    ['not an object', 'a', 'child spec'],
    ['null', null, 'child spec'],
    ['a missing id', { behavior: worker }, 'child spec id'],
    ['an empty id', { id: '', behavior: worker }, 'child spec id'],
    ['a numeric id', { id: 7, behavior: worker }, 'child spec id'],
    ['an id over 255 characters', { id: 'x'.repeat(256), behavior: worker }, 'child spec id'],
    ['a missing behavior', { id: 'a' }, "child spec 'a' behavior"],
    ['an object without init', { id: 'a', behavior: { handleCall: () => null } }, "child spec 'a' behavior"],
    ['a handler that is not a function', { id: 'a', behavior: { init: () => 0, handleCall: 1 } }, "child spec 'a' behavior"],
    ['an unknown restart type', { id: 'a', behavior: worker, restart: 'always' }, "child spec 'a' restart"],
    ['zero shutdownMs', { id: 'a', behavior: worker, shutdownMs: 0 }, "child spec 'a' shutdownMs"],
    ['negative shutdownMs', { id: 'a', behavior: worker, shutdownMs: -1 }, "child spec 'a' shutdownMs"],
    ['NaN shutdownMs', { id: 'a', behavior: worker, shutdownMs: NaN }, "child spec 'a' shutdownMs"],
    ['infinite shutdownMs', { id: 'a', behavior: worker, shutdownMs: Infinity }, "child spec 'a' shutdownMs"],
    ['string shutdownMs', { id: 'a', behavior: worker, shutdownMs: '100' }, "child spec 'a' shutdownMs"],
    ['an empty name', { id: 'a', behavior: worker, name: '' }, "child spec 'a' name"],
    ['a numeric name', { id: 'a', behavior: worker, name: 3 }, "child spec 'a' name"],
  ];
  it.each(bad)('normalizeChildSpec — %s is refused with INVALID_OPTION naming the field', (_what, spec, field) => {
    const error = thrown(() => normalizeChildSpec(spec, notSupervisor));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.details).toEqual({ field });
    expect(error.message).toContain(`invalid ${field}`);
    expect(error.message).toContain('expected');
  });

  it('normalizeChildSpec — messages say what was expected and what was given', () => {
    expect(thrown(() => normalizeChildSpec({ id: 'a', behavior: worker, restart: 'always' }, notSupervisor)).message).toBe(
      `invalid child spec 'a' restart "always": expected one of permanent, transient, temporary`,
    );
    expect(thrown(() => normalizeChildSpec({ id: 'a', behavior: worker, shutdownMs: -1 }, notSupervisor)).message).toMatch(
      /-1.*positive number of milliseconds/,
    );
  });

  it('normalizeChildSpec — uses the caller-given location in messages', () => {
    const error = thrown(() => normalizeChildSpec({ id: 'a', behavior: worker, restart: 'x' }, notSupervisor, 'children[3]'));
    expect(error.details).toEqual({ field: "children[3] 'a' restart" });
  });
});

describe('normalizeIntensity', () => {
  it('normalizeIntensity — defaults to 3 restarts within 5000 ms', () => {
    expect(normalizeIntensity({})).toEqual({ maxRestarts: 3, withinMs: 5_000 });
  });

  it('normalizeIntensity — accepts 0 restarts and fractional windows', () => {
    expect(normalizeIntensity({ maxRestarts: 0, withinMs: 0.5 })).toEqual({ maxRestarts: 0, withinMs: 0.5 });
  });

  it.each([
    [{ maxRestarts: -1 }, 'maxRestarts'],
    [{ maxRestarts: 1.5 }, 'maxRestarts'],
    [{ maxRestarts: Infinity }, 'maxRestarts'],
    [{ maxRestarts: '3' as unknown as number }, 'maxRestarts'],
    [{ withinMs: 0 }, 'withinMs'],
    [{ withinMs: -10 }, 'withinMs'],
    [{ withinMs: Infinity }, 'withinMs'],
    [{ withinMs: NaN }, 'withinMs'],
  ])('normalizeIntensity — %o is refused with INVALID_OPTION on %s', (options, field) => {
    const error = thrown(() => normalizeIntensity(options));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.details).toEqual({ field });
  });
});

describe('normalizeSupervisorSpec', () => {
  it('normalizeSupervisorSpec — applies defaults to an empty spec', () => {
    expect(normalizeSupervisorSpec({}, notSupervisor)).toEqual({ strategy: 'one_for_one', maxRestarts: 3, withinMs: 5_000, children: [] });
  });

  it('normalizeSupervisorSpec — normalizes every child, in order', () => {
    const spec = normalizeSupervisorSpec(
      {
        strategy: 'rest_for_one',
        maxRestarts: 1,
        withinMs: 10,
        children: [
          { id: 'a', behavior: worker },
          { id: 'b', behavior: supervisorBehavior, restart: 'temporary' },
        ],
      },
      isSupervisorBehavior,
    );
    expect(spec.strategy).toBe('rest_for_one');
    expect(spec.children.map((c) => [c.id, c.restart, c.shutdownMs])).toEqual([
      ['a', 'permanent', 5_000],
      ['b', 'temporary', 60_000],
    ]);
  });

  it('normalizeSupervisorSpec — accepts every strategy', () => {
    for (const strategy of ['one_for_one', 'one_for_all', 'rest_for_one'] as const) {
      expect(normalizeSupervisorSpec({ strategy }, notSupervisor).strategy).toBe(strategy);
    }
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['not an object', 42, 'supervisor spec', /invalid supervisor spec 42/],
    ['an unknown strategy', { strategy: 'all_for_one' }, 'strategy', /"all_for_one": expected one of one_for_one, one_for_all, rest_for_one/],
    ['a negative maxRestarts', { maxRestarts: -2 }, 'maxRestarts', /maxRestarts -2: expected an integer >= 0/],
    ['a zero withinMs', { withinMs: 0 }, 'withinMs', /withinMs 0/],
    ['children that are not an array', { children: { a: 1 } }, 'children', /an array of child specs/],
    ['a bad child', { children: [{ id: 'a', behavior: worker }, { id: 'b' }] }, "children[1] 'b' behavior", /children\[1\] 'b' behavior/],
    [
      'duplicate ids',
      { children: [{ id: 'a', behavior: worker }, { id: 'b', behavior: worker }, { id: 'a', behavior: worker }] },
      'children',
      /"a".*unique child ids/,
    ],
  ];
  it.each(bad)('normalizeSupervisorSpec — %s is refused with INVALID_OPTION and a helpful message', (_what, spec, field, message) => {
    const error = thrown(() => normalizeSupervisorSpec(spec, notSupervisor));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.details).toEqual({ field });
    expect(error.message).toMatch(message);
  });
});

describe('shouldRestart', () => {
  const table: [RestartType, string, boolean][] = [
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', true],
    ['permanent', 'error', true],
    ['permanent', 'noproc', true],
    ['permanent', 'noconnection', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['transient', 'error', true],
    ['transient', 'noproc', true],
    ['transient', 'noconnection', true],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
    ['temporary', 'error', false],
    ['temporary', 'noproc', false],
    ['temporary', 'noconnection', false],
  ];
  it.each(table)('shouldRestart — %s after %s → %s', (restart, reason, expected) => {
    expect(shouldRestart(restart, reason)).toBe(expected);
  });
});

describe('supervisor markers', () => {
  it('isSupervisorBehavior — true for both supervisor behaviors, false for others', () => {
    expect(isSupervisorBehavior(supervisorBehavior)).toBe(true);
    expect(isSupervisorBehavior(dynamicSupervisorBehavior)).toBe(true);
    expect(isSupervisorBehavior(worker as AnyBehavior)).toBe(false);
  });
});
