/**
 * The selection algorithms: the built-in ones by name, and a per-node registry that resolves what
 * a balancer is configured with (a name, an algorithm value or a factory) into an instance.
 *
 * Guarantees: resolving a name or a factory always makes a fresh instance, so two balancers never
 * share state (a round-robin position, smooth weights, a ring). Built-in names cannot be
 * replaced. An unknown name or a value that is not an algorithm is an `INVALID_OPTION` error that
 * lists what would have been accepted. There is no module-level mutable state: custom algorithms
 * live in an {@link AlgorithmRegistry}, one per node.
 *
 * Does not: filter candidates, retry or validate what an algorithm returns at call time.
 */
import { CohortError, describe } from '../../../core/errors.js';
import { directAlgorithm } from './direct.js';
import { firstAlgorithm } from './first.js';
import { hashRingAlgorithm } from './hash-ring.js';
import { leastConnectionsAlgorithm } from './least-connections.js';
import { powerOfTwoAlgorithm } from './power-of-two.js';
import { randomAlgorithm } from './random.js';
import { roundRobinAlgorithm } from './round-robin.js';
import type { AlgorithmFactory, SelectionAlgorithm } from './types.js';
import { weightedRoundRobinAlgorithm } from './weighted-round-robin.js';

export type { AlgorithmFactory, Candidate, SelectionAlgorithm, SelectionContext } from './types.js';
export { directAlgorithm } from './direct.js';
export { firstAlgorithm } from './first.js';
export { hashRingAlgorithm } from './hash-ring.js';
export { leastConnectionsAlgorithm } from './least-connections.js';
export { powerOfTwoAlgorithm } from './power-of-two.js';
export { randomAlgorithm, randomIndex } from './random.js';
export { roundRobinAlgorithm } from './round-robin.js';
export { weightedRoundRobinAlgorithm } from './weighted-round-robin.js';

/** The names of the built-in algorithms. */
export const ALGORITHM_NAMES = Object.freeze([
  'random',
  'round-robin',
  'least-connections',
  'power-of-two',
  'hash-ring',
  'weighted-round-robin',
  'direct',
  'first',
] as const);

/** The name of a built-in algorithm. See {@link ALGORITHM_NAMES}. */
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

/** The built-in algorithms: name → factory. Each call of a factory makes a fresh instance. */
export const BUILTIN_ALGORITHMS: Readonly<Record<AlgorithmName, AlgorithmFactory>> = Object.freeze({
  random: randomAlgorithm,
  'round-robin': roundRobinAlgorithm,
  'least-connections': leastConnectionsAlgorithm,
  'power-of-two': powerOfTwoAlgorithm,
  'hash-ring': () => hashRingAlgorithm(),
  'weighted-round-robin': weightedRoundRobinAlgorithm,
  direct: directAlgorithm,
  first: firstAlgorithm,
});

/** What a balancer's `algorithm` option accepts: a name, an algorithm instance or a factory. */
export type AlgorithmSpec = AlgorithmName | (string & {}) | SelectionAlgorithm | AlgorithmFactory;

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** Whether a name is one of the built-in algorithms (and not, say, `'toString'`). */
function isBuiltin(name: string): name is AlgorithmName {
  return Object.hasOwn(BUILTIN_ALGORITHMS, name);
}

/**
 * The algorithms one node knows by name: the built-ins and those registered on it.
 *
 * @example
 * const algorithms = new AlgorithmRegistry();
 * algorithms.register('sticky-local', () => myAlgorithm());
 * const a = algorithms.resolve('sticky-local');     // a fresh instance
 * const b = algorithms.resolve('round-robin');      // a fresh built-in instance
 */
export class AlgorithmRegistry {
  readonly #custom = new Map<string, AlgorithmFactory>();

  /**
   * Registers a custom algorithm under a name, so that balancers can name it.
   *
   * @param name 1–64 letters, digits, `_`, `.`, `:` or `-`, starting with a letter or digit.
   * @param factory makes one instance per balancer.
   * @throws CohortError `INVALID_ARGUMENT` when the name is invalid, is a built-in or is already
   *   registered, or when `factory` is not a function.
   * @example
   * registry.register('lowest-latency', () => new LowestLatency());
   */
  register(name: string, factory: AlgorithmFactory): void {
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `invalid algorithm name ${describe(name)}: expected 1-64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit`,
        { details: { name: typeof name === 'string' ? name : describe(name) } },
      );
    }
    if (isBuiltin(name)) {
      throw new CohortError('INVALID_ARGUMENT', `algorithm name "${name}" is a built-in algorithm; choose another name`, {
        details: { name },
      });
    }
    if (this.#custom.has(name)) {
      throw new CohortError('INVALID_ARGUMENT', `algorithm name "${name}" is already registered`, { details: { name } });
    }
    if (typeof factory !== 'function') {
      throw new CohortError(
        'INVALID_ARGUMENT',
        `invalid factory for algorithm "${name}": expected a function returning a SelectionAlgorithm, got ${describe(factory)}`,
        { details: { name } },
      );
    }
    this.#custom.set(name, factory);
  }

  /**
   * Whether a name resolves: a built-in or a registered algorithm.
   *
   * @example
   * registry.has('power-of-two'); // true
   */
  has(name: string): boolean {
    return typeof name === 'string' && (isBuiltin(name) || this.#custom.has(name));
  }

  /**
   * Every name that resolves: the built-ins, then the registered ones in registration order.
   *
   * @example
   * registry.names(); // ['random', 'round-robin', ..., 'first', 'lowest-latency']
   */
  names(): string[] {
    return [...ALGORITHM_NAMES, ...this.#custom.keys()];
  }

  /**
   * The algorithm a balancer should use: a fresh instance for a name or a factory, the value
   * itself for an algorithm object.
   *
   * @throws CohortError `INVALID_OPTION` for an unknown name (the message lists the known ones),
   *   an object without a string `name` and a `select` function, a factory that throws or returns
   *   such an object, or anything else.
   * @example
   * registry.resolve('round-robin');                  // new round-robin instance
   * registry.resolve({ name: 'mine', select: (c) => c[0] });  // that object
   * registry.resolve(() => weightedRoundRobinAlgorithm());    // what the factory makes
   */
  resolve(spec: AlgorithmSpec): SelectionAlgorithm {
    if (typeof spec === 'string') {
      const factory = isBuiltin(spec) ? BUILTIN_ALGORITHMS[spec] : this.#custom.get(spec);
      if (factory === undefined) {
        const known = this.names();
        throw new CohortError(
          'INVALID_OPTION',
          `unknown selection algorithm ${describe(spec)}: expected one of ${known.map((n) => `'${n}'`).join(', ')}, ` +
            'a SelectionAlgorithm object or a factory function',
          { details: { option: 'algorithm', value: spec, known } },
        );
      }
      return fromFactory(factory, `algorithm "${spec}"`);
    }
    if (typeof spec === 'function') return fromFactory(spec, `algorithm from factory ${describe(spec)}`);
    if (typeof spec === 'object' && spec !== null) return checkAlgorithm(spec, 'invalid algorithm object');
    throw new CohortError(
      'INVALID_OPTION',
      `invalid algorithm ${describe(spec)}: expected a name, a SelectionAlgorithm object or a factory function`,
      { details: { option: 'algorithm', value: describe(spec) } },
    );
  }
}

/** Calls a factory and checks what it made; a throw becomes `INVALID_OPTION` with the cause. */
function fromFactory(factory: AlgorithmFactory, what: string): SelectionAlgorithm {
  let made: unknown;
  try {
    made = factory();
  } catch (cause) {
    throw new CohortError('INVALID_OPTION', `${what} could not be made: its factory threw ${describe(cause)}`, {
      cause,
      details: { option: 'algorithm' },
    });
  }
  return checkAlgorithm(made, `${what}: its factory returned a value that is not a SelectionAlgorithm`);
}

function checkAlgorithm(value: unknown, what: string): SelectionAlgorithm {
  const candidate = value as Partial<SelectionAlgorithm> | null | undefined;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof candidate?.name !== 'string' ||
    typeof candidate.select !== 'function'
  ) {
    throw new CohortError(
      'INVALID_OPTION',
      `${what}: expected an object with a string name and a select(candidates, context) function, got ${describe(value)}`,
      { details: { option: 'algorithm', value: describe(value) } },
    );
  }
  return value as SelectionAlgorithm;
}
