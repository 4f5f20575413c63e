import { describe, expect, it } from 'vitest';
import {
  ALGORITHM_NAMES,
  AlgorithmRegistry,
  BUILTIN_ALGORITHMS,
  type Candidate,
  type SelectionAlgorithm,
  type SelectionContext,
} from '../../../../src/services/balancer/algorithms/index.js';
import { thrown } from '../../../helpers/errors.js';

const CONTEXT: SelectionContext = { random: () => 0.5, localNode: 'b', key: 'user:1' };

function list(...nodes: string[]): Candidate[] {
  return nodes.map((node) => ({ node, weight: 1, inFlight: 0, meta: {} }));
}

/** A custom algorithm: always the last candidate. */
function lastAlgorithm(): SelectionAlgorithm {
  return { name: 'last', select: (candidates) => candidates[candidates.length - 1] };
}

describe('AlgorithmRegistry', () => {
  it('algorithms — the eight built-ins, by name, frozen', () => {
    expect([...ALGORITHM_NAMES]).toEqual([
      'random',
      'round-robin',
      'least-connections',
      'power-of-two',
      'hash-ring',
      'weighted-round-robin',
      'direct',
      'first',
    ]);
    expect(Object.keys(BUILTIN_ALGORITHMS)).toEqual([...ALGORITHM_NAMES]);
    expect(Object.isFrozen(BUILTIN_ALGORITHMS)).toBe(true);
    expect(Object.isFrozen(ALGORITHM_NAMES)).toBe(true);
    for (const name of ALGORITHM_NAMES) expect(BUILTIN_ALGORITHMS[name]().name).toBe(name);
  });

  it('registry — resolves every built-in name to a working instance of it', () => {
    const registry = new AlgorithmRegistry();
    const candidates = list('a', 'b', 'c');
    for (const name of ALGORITHM_NAMES) {
      const algorithm = registry.resolve(name);
      expect(algorithm.name).toBe(name);
      expect(candidates).toContain(algorithm.select(candidates, CONTEXT));
      expect(registry.has(name)).toBe(true);
    }
  });

  it('registry — each resolve of a name is an independent instance (two round-robins do not share a position)', () => {
    const registry = new AlgorithmRegistry();
    const candidates = list('a', 'b', 'c');
    const one = registry.resolve('round-robin');
    const two = registry.resolve('round-robin');
    expect(one).not.toBe(two);
    expect([one, one, two, one].map((a) => a.select(candidates, CONTEXT)!.node)).toEqual(['a', 'b', 'a', 'c']);
    const wrrOne = registry.resolve('weighted-round-robin');
    const wrrTwo = registry.resolve('weighted-round-robin');
    expect(wrrOne.select(candidates, CONTEXT)!.node).toBe('a');
    expect(wrrTwo.select(candidates, CONTEXT)!.node).toBe('a');
  });

  it('registry — an unknown name is INVALID_OPTION naming every known algorithm', () => {
    const registry = new AlgorithmRegistry();
    registry.register('last', lastAlgorithm);
    for (const name of ['round_robin', 'toString', '__proto__', '']) {
      const error = thrown(() => registry.resolve(name));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain(`unknown selection algorithm ${JSON.stringify(name)}`);
      for (const known of [...ALGORITHM_NAMES, 'last']) expect(error.message).toContain(`'${known}'`);
      expect(error.details).toMatchObject({ option: 'algorithm', value: name, known: [...ALGORITHM_NAMES, 'last'] });
    }
    expect(registry.has('toString')).toBe(false);
  });

  it('registry — a custom algorithm passed by value is used as it is', () => {
    const custom = lastAlgorithm();
    const resolved = new AlgorithmRegistry().resolve(custom);
    expect(resolved).toBe(custom);
    expect(resolved.select(list('a', 'b', 'c'), CONTEXT)!.node).toBe('c');
  });

  it('registry — a factory is called once per resolve', () => {
    const registry = new AlgorithmRegistry();
    let made = 0;
    const factory = () => {
      made++;
      return lastAlgorithm();
    };
    const one = registry.resolve(factory);
    const two = registry.resolve(factory);
    expect(made).toBe(2);
    expect(one).not.toBe(two);
    expect(one.name).toBe('last');
  });

  it('registry — a custom algorithm registered by name resolves to fresh instances', () => {
    const registry = new AlgorithmRegistry();
    registry.register('last', lastAlgorithm);
    expect(registry.has('last')).toBe(true);
    expect(registry.names()).toEqual([...ALGORITHM_NAMES, 'last']);
    const one = registry.resolve('last');
    expect(one.select(list('a', 'b'), CONTEXT)!.node).toBe('b');
    expect(registry.resolve('last')).not.toBe(one);
  });

  it('registry — each registry has its own names (no shared state between nodes)', () => {
    const one = new AlgorithmRegistry();
    const two = new AlgorithmRegistry();
    one.register('last', lastAlgorithm);
    expect(two.has('last')).toBe(false);
    expect(thrown(() => two.resolve('last')).code).toBe('INVALID_OPTION');
    two.register('last', lastAlgorithm);
    expect(two.names()).toEqual(one.names());
  });

  it('registry — refuses a duplicate, a built-in name, an invalid name and a non-function factory', () => {
    const registry = new AlgorithmRegistry();
    registry.register('last', lastAlgorithm);
    const duplicate = thrown(() => registry.register('last', lastAlgorithm));
    expect(duplicate.code).toBe('INVALID_ARGUMENT');
    expect(duplicate.message).toContain('"last" is already registered');
    const builtin = thrown(() => registry.register('round-robin', lastAlgorithm));
    expect(builtin.code).toBe('INVALID_ARGUMENT');
    expect(builtin.message).toContain('is a built-in algorithm');
    for (const name of ['', ' last', '-x', 'a b', 'x'.repeat(65), 7]) {
      const error = thrown(() => registry.register(name as string, lastAlgorithm));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('invalid algorithm name');
    }
    const factory = thrown(() => registry.register('other', lastAlgorithm() as unknown as () => SelectionAlgorithm));
    expect(factory.code).toBe('INVALID_ARGUMENT');
    expect(factory.message).toContain('expected a function returning a SelectionAlgorithm');
    expect(registry.names()).toEqual([...ALGORITHM_NAMES, 'last']);
  });

  it('registry — a value that is not an algorithm is INVALID_OPTION saying what was expected', () => {
    const registry = new AlgorithmRegistry();
    const bad: unknown[] = [{ name: 'x' }, { select: () => undefined }, { name: 3, select: () => undefined }, 42, null, undefined, true];
    for (const value of bad) {
      const error = thrown(() => registry.resolve(value as SelectionAlgorithm));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(/expected (an object with a string name and a select|a name, a SelectionAlgorithm object or a factory)/);
    }
  });

  it('registry — a factory that throws or makes something else is INVALID_OPTION', () => {
    const registry = new AlgorithmRegistry();
    const boom = new Error('boom');
    const threw = thrown(() =>
      registry.resolve(() => {
        throw boom;
      }),
    );
    expect(threw.code).toBe('INVALID_OPTION');
    expect(threw.cause).toBe(boom);
    expect(threw.message).toContain('its factory threw Error: boom');
    registry.register('broken', () => ({ name: 'broken' }) as unknown as SelectionAlgorithm);
    const junk = thrown(() => registry.resolve('broken'));
    expect(junk.code).toBe('INVALID_OPTION');
    expect(junk.message).toContain('algorithm "broken": its factory returned a value that is not a SelectionAlgorithm');
  });
});
