/**
 * A balancer: calls a service through one of its providers, chosen by a selection algorithm,
 * with in-flight tracking, failover, per-provider circuit breakers and a bounded wait when no
 * provider is there (DESIGN decisions 7 and 8).
 *
 * Each call:
 * 1. takes the providers of the service that have the method and pass the filter (a local read);
 *    none at all → retries with backoff until one appears or `waitForProvidersMs` has passed,
 *    then `NO_PROVIDERS`; providers but none with the method → `NOT_FOUND` at once;
 * 2. leaves out the providers that already failed this call and those whose breaker is open;
 *    if every provider failed → `ALL_PROVIDERS_FAILED`; else if `maxAttempts` attempts were made
 *    → `MAX_ATTEMPTS_EXCEEDED` (both list every attempt); if the rest are all open →
 *    `CIRCUIT_OPEN` (no attempt made) or `ALL_PROVIDERS_FAILED`;
 * 3. lets the algorithm choose, counts the call in flight to that provider, and calls it with
 *    `timeoutMs`;
 * 4. a result, or a non-retryable error (`BAD_REQUEST`, `NOT_FOUND`, an application error not
 *    marked retryable), returns at once; a retryable failure (`TIMEOUT`, `NOCONNECTION`,
 *    `UNAVAILABLE`, a remote error marked retryable, ...) counts against the provider's breaker
 *    and the call moves to another provider (back to 2).
 *
 * Guarantees: in-flight counters are exact — each attempt is counted until it settles, whatever
 * the outcome. A retried call may have run on a provider that timed out (TIMEOUT means "may or may
 * not have happened"): use failover for idempotent methods, or set `maxAttempts: 1`.
 *
 * Not here: the providers themselves and their draining (`rpc.ts`), the algorithms
 * (`algorithms/`), the breaker's state machine (`breaker.ts`).
 */
import { Backoff } from '../../core/backoff.js';
import { sleep, type Clock } from '../../core/clock.js';
import { CohortError, describe, isCohortError } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';
import { isRetryable } from '../retry/retry.js';
import type { Handlers, MethodOf, ProviderInfo, ServiceArgs, ServiceResult, ServiceTarget } from '../rpc/types.js';
import { serviceName } from '../rpc/types.js';
import type { AlgorithmRegistry, AlgorithmSpec, Candidate, SelectionAlgorithm } from './algorithms/index.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './breaker.js';

/** Which providers a balancer may use: a substring of the node id, a RegExp on it, or a predicate. */
export type ProviderFilter = string | RegExp | ((provider: ProviderInfo) => boolean);

/** Options of `node.balancer(service, options)`. */
export interface BalancerOptions {
  /**
   * How a provider is chosen: a built-in name (`random`, `round-robin`, `least-connections`,
   * `power-of-two`, `hash-ring`, `weighted-round-robin`, `direct`, `first`), a name registered
   * with `node.algorithms.register`, or an algorithm object or factory.
   * @default 'round-robin'
   */
  readonly algorithm?: AlgorithmSpec;
  /** Only providers that pass: a substring of the node id, a RegExp tested on it, or a predicate. */
  readonly filter?: ProviderFilter;
  /** Weights by node id for `weighted-round-robin`, over the weights providers expose. */
  readonly weights?: Readonly<Record<NodeId, number>>;
  /**
   * Attempts per call, the first included (failover makes the others). An integer >= 1.
   * @default min(3, number of providers)
   */
  readonly maxAttempts?: number;
  /**
   * The time limit of each attempt.
   * @default the node's `callTimeoutMs` (5000)
   */
  readonly timeoutMs?: number;
  /**
   * Per-provider circuit breakers (`failureThreshold` consecutive failures open one for
   * `cooldownMs`), or `false` for none.
   * @default { failureThreshold: 5, cooldownMs: 10_000 }
   */
  readonly breaker?: false | Omit<CircuitBreakerOptions, 'clock'>;
  /**
   * How long a call waits, retrying with backoff, for a provider to appear when there is none.
   * @default 2000
   */
  readonly waitForProvidersMs?: number;
}

/** The defaults of {@link BalancerOptions}. */
export const BALANCER_DEFAULTS = Object.freeze({
  algorithm: 'round-robin',
  waitForProvidersMs: 2_000,
  maxAttemptsCap: 3,
} as const);

/** Options of one balanced call. */
export interface BalancedCallOptions {
  /** The affinity key for key-based algorithms (`hash-ring`). */
  readonly key?: string;
  /** The time limit of each attempt, over the balancer's. */
  readonly timeoutMs?: number;
}

/** One attempt of a failed call, as errors list them. */
export interface Attempt {
  readonly node: NodeId;
  readonly code: string;
  readonly message: string;
}

/** What a balancer knows of one provider. */
export interface ProviderStats {
  readonly node: NodeId;
  /** Calls from this balancer to it that have not settled. */
  readonly inFlight: number;
  /** Attempts made on it, and how many failed with a retryable failure. */
  readonly calls: number;
  readonly failures: number;
  readonly breaker: CircuitState | 'none';
  /** Latency of its settled attempts, in milliseconds (`undefined` before the first). */
  readonly latency: { readonly lastMs: number | undefined; readonly meanMs: number | undefined; readonly maxMs: number | undefined };
}

/** What a balancer needs of the node. */
export interface BalancerHost {
  readonly self: NodeId;
  readonly clock: Clock;
  readonly random: () => number;
  readonly algorithms: AlgorithmRegistry;
  providers(service: string): readonly ProviderInfo[];
  call(node: NodeId, service: string, method: string, args: readonly unknown[], options: { timeoutMs?: number }): Promise<unknown>;
  cast(node: NodeId, service: string, method: string, args: readonly unknown[]): boolean;
}

interface Tracked {
  inFlight: number;
  calls: number;
  failures: number;
  lastMs: number | undefined;
  meanMs: number | undefined;
  maxMs: number | undefined;
  readonly breaker: CircuitBreaker | undefined;
}

/** Weight of the newest sample in the mean latency (an exponentially weighted moving average). */
const LATENCY_ALPHA = 0.2;

/** A service's balancer (`node.balancer(service, options)`). */
export class Balancer<H extends Handlers = Handlers> {
  readonly service: string;
  readonly #host: BalancerHost;
  readonly #algorithm: SelectionAlgorithm;
  readonly #filter: ((p: ProviderInfo) => boolean) | undefined;
  readonly #weights: Readonly<Record<NodeId, number>> | undefined;
  readonly #maxAttempts: number | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #breaker: false | Omit<CircuitBreakerOptions, 'clock'>;
  readonly #waitMs: number;
  readonly #tracked = new Map<NodeId, Tracked>();

  /** @throws CohortError `INVALID_OPTION` naming the option and what was expected. */
  constructor(host: BalancerHost, service: ServiceTarget<H>, options: BalancerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new CohortError('INVALID_OPTION', `balancer: options must be an object, got ${describe(options)}`);
    this.#host = host;
    this.service = serviceName(service);
    this.#algorithm = host.algorithms.resolve(options.algorithm ?? BALANCER_DEFAULTS.algorithm);
    this.#filter = filterOf(options.filter);
    if (options.weights !== undefined) {
      if (typeof options.weights !== 'object' || options.weights === null) throw new CohortError('INVALID_OPTION', `balancer: weights must be an object of node id → number, got ${describe(options.weights)}`);
      for (const [node, w] of Object.entries(options.weights)) {
        if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new CohortError('INVALID_OPTION', `balancer: the weight of ${node} must be a finite number >= 0, got ${describe(w)}`);
      }
    }
    this.#weights = options.weights;
    if (options.maxAttempts !== undefined && (!Number.isSafeInteger(options.maxAttempts) || options.maxAttempts < 1)) {
      throw new CohortError('INVALID_OPTION', `balancer: maxAttempts must be an integer >= 1, got ${describe(options.maxAttempts)}`);
    }
    this.#maxAttempts = options.maxAttempts;
    this.#timeoutMs = checkTimeout('timeoutMs', options.timeoutMs);
    this.#breaker = options.breaker ?? {};
    if (this.#breaker !== false) new CircuitBreaker({ ...this.#breaker, clock: host.clock }); // validates the options now
    const wait = options.waitForProvidersMs ?? BALANCER_DEFAULTS.waitForProvidersMs;
    if (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0) throw new CohortError('INVALID_OPTION', `balancer: waitForProvidersMs must be a finite number >= 0, got ${describe(wait)}`);
    this.#waitMs = wait;
  }

  /** The algorithm's name. */
  get algorithm(): string {
    return this.#algorithm.name;
  }

  /**
   * Calls `method` on a provider, with failover (see the module header for the outcomes).
   *
   * @throws CohortError the call's own error (`REMOTE_ERROR`, `BAD_REQUEST`, `NOT_FOUND`, ...),
   *   `NO_PROVIDERS`, `ALL_PROVIDERS_FAILED`, `MAX_ATTEMPTS_EXCEEDED`, `CIRCUIT_OPEN`.
   * @example
   * const math = node.balancer(mathRef, { algorithm: 'power-of-two' });
   * await math.call('add', [1, 2], { timeoutMs: 1000 }); // 3
   */
  call<M extends MethodOf<H>>(method: M, args: ServiceArgs<H, M>, options?: BalancedCallOptions): Promise<ServiceResult<H, M>>;
  async call(method: string, args: readonly unknown[], options: BalancedCallOptions = {}): Promise<unknown> {
    const timeoutMs = checkTimeout('timeoutMs', options.timeoutMs) ?? this.#timeoutMs;
    const attempts: Attempt[] = [];
    const failed = new Set<NodeId>();
    let maxAttempts: number | undefined;
    for (;;) {
      const pool = await this.#pool(method);
      maxAttempts ??= this.#maxAttempts ?? Math.min(BALANCER_DEFAULTS.maxAttemptsCap, pool.length);
      const candidate = this.#choose(pool, failed, attempts, maxAttempts, method, options.key);
      const tracked = this.#track(candidate.node);
      const breaker = tracked.breaker;
      if (breaker !== undefined && !breaker.allow()) {
        // Opened (or its probe taken) between the check and now: leave it out of this call.
        failed.add(candidate.node);
        attempts.push({ node: candidate.node, code: 'CIRCUIT_OPEN', message: `the circuit breaker of ${candidate.node} is open` });
        continue;
      }
      tracked.inFlight++;
      tracked.calls++;
      const started = this.#host.clock.now();
      try {
        const value = await this.#host.call(candidate.node, this.service, method, args, timeoutMs === undefined ? {} : { timeoutMs });
        breaker?.success();
        return value;
      } catch (error) {
        if (!isRetryable(error)) {
          if (answered(error)) breaker?.success();
          else breaker?.release();
          throw error;
        }
        tracked.failures++;
        breaker?.failure();
        failed.add(candidate.node);
        attempts.push({ node: candidate.node, code: isCohortError(error) ? error.code : 'UNKNOWN', message: error instanceof Error ? error.message : describe(error) });
      } finally {
        tracked.inFlight--;
        this.#sample(tracked, this.#host.clock.now() - started);
      }
    }
  }

  /**
   * Runs `method` on one provider without waiting for its result (no failover). Resolves with
   * the node it went to.
   *
   * @throws CohortError `NO_PROVIDERS` (none within `waitForProvidersMs`), `NOT_FOUND`,
   *   `CIRCUIT_OPEN`, `NOCONNECTION` (the chosen provider could not be reached).
   */
  cast<M extends MethodOf<H>>(method: M, args: ServiceArgs<H, M>, options?: { readonly key?: string }): Promise<NodeId>;
  async cast(method: string, args: readonly unknown[], options: { readonly key?: string } = {}): Promise<NodeId> {
    const pool = await this.#pool(method);
    const candidate = this.#choose(pool, new Set(), [], 1, method, options.key);
    const tracked = this.#track(candidate.node);
    tracked.calls++;
    if (!this.#host.cast(candidate.node, this.service, method, args)) {
      tracked.failures++;
      tracked.breaker?.failure();
      throw new CohortError('NOCONNECTION', `a cast of ${this.service}.${method} could not be sent to ${candidate.node}`, { details: { node: candidate.node, service: this.service } });
    }
    return candidate.node;
  }

  /** The nodes this balancer may choose from now (filter applied), sorted. */
  nodes(): NodeId[] {
    return this.#providers().map((p) => p.node);
  }

  /** Per provider (those there now): in-flight, calls, failures, breaker state and latency. */
  stats(): ProviderStats[] {
    return this.#providers().map((p) => {
      const t = this.#tracked.get(p.node);
      return {
        node: p.node,
        inFlight: t?.inFlight ?? 0,
        calls: t?.calls ?? 0,
        failures: t?.failures ?? 0,
        breaker: t?.breaker?.state ?? (this.#breaker === false ? 'none' : 'closed'),
        latency: { lastMs: t?.lastMs, meanMs: t?.meanMs, maxMs: t?.maxMs },
      };
    });
  }

  #providers(): readonly ProviderInfo[] {
    const all = this.#host.providers(this.service);
    const filter = this.#filter;
    return filter === undefined ? all : all.filter(filter);
  }

  /** The providers with `method`; waits (bounded, with backoff) while there are none at all. */
  async #pool(method: string): Promise<readonly ProviderInfo[]> {
    const clock = this.#host.clock;
    const deadline = clock.now() + this.#waitMs;
    // Made only when there is nothing to call: not on every call's path.
    let backoff: Backoff | undefined;
    for (;;) {
      const providers = this.#providers();
      if (providers.length > 0) {
        const pool = providers.filter((p) => p.methods.includes(method));
        if (pool.length > 0) return pool;
        throw new CohortError('NOT_FOUND', `no provider of '${this.service}' has a method '${method}'; it has ${[...new Set(providers.flatMap((p) => p.methods))].join(', ')}`, {
          details: { service: this.service, method },
        });
      }
      const left = deadline - clock.now();
      if (left <= 0) {
        throw new CohortError('NO_PROVIDERS', `no node provides '${this.service}'${this.#filter === undefined ? '' : ' that passes the filter'} (waited ${this.#waitMs} ms)`, {
          details: { service: this.service, waitedMs: this.#waitMs },
        });
      }
      backoff ??= new Backoff({ baseMs: 25, maxMs: 500, jitter: 'full', random: this.#host.random });
      await sleep(clock, Math.min(left, Math.max(1, backoff.next())));
    }
  }

  #choose(pool: readonly ProviderInfo[], failed: ReadonlySet<NodeId>, attempts: readonly Attempt[], maxAttempts: number, method: string, key: string | undefined): Candidate {
    const untried = pool.filter((p) => !failed.has(p.node));
    const details = { service: this.service, method, attempts: [...attempts] };
    if (untried.length === 0) {
      throw new CohortError('ALL_PROVIDERS_FAILED', `every provider of '${this.service}' failed the call of ${method}: ${summary(attempts)}`, { details });
    }
    if (attempts.length >= maxAttempts) {
      throw new CohortError('MAX_ATTEMPTS_EXCEEDED', `the call of ${this.service}.${method} failed on all ${attempts.length} attempts allowed: ${summary(attempts)}`, { details });
    }
    const candidates: Candidate[] = [];
    for (const p of untried) {
      const t = this.#tracked.get(p.node);
      const b = t?.breaker;
      if (b !== undefined && (b.state === 'open' || (b.state === 'half-open' && b.probing))) continue;
      candidates.push({ node: p.node, weight: this.#weights?.[p.node] ?? p.weight, inFlight: t?.inFlight ?? 0, meta: p.meta });
    }
    if (candidates.length === 0) {
      if (attempts.length > 0) {
        throw new CohortError('ALL_PROVIDERS_FAILED', `the providers of '${this.service}' left after ${summary(attempts)} all have an open circuit breaker`, { details });
      }
      throw new CohortError('CIRCUIT_OPEN', `every provider of '${this.service}' has an open circuit breaker (${untried.map((p) => p.node).join(', ')})`, { details: { service: this.service, nodes: untried.map((p) => p.node) } });
    }
    const chosen = this.#algorithm.select(candidates, { key, random: this.#host.random, localNode: this.#host.self });
    if (chosen === undefined) {
      throw new CohortError('NO_PROVIDERS', `algorithm '${this.#algorithm.name}' chose none of the ${candidates.length} providers of '${this.service}'${this.#algorithm.name === 'direct' ? ` (none is this node, ${this.#host.self})` : ''}`, {
        details: { service: this.service, algorithm: this.#algorithm.name },
      });
    }
    return chosen;
  }

  #track(node: NodeId): Tracked {
    let t = this.#tracked.get(node);
    if (t === undefined) {
      // Forget providers that are gone, so the map does not grow with churn.
      if (this.#tracked.size >= 64) {
        const live = new Set(this.#host.providers(this.service).map((p) => p.node));
        for (const [n, s] of this.#tracked) if (!live.has(n) && s.inFlight === 0) this.#tracked.delete(n);
      }
      t = {
        inFlight: 0,
        calls: 0,
        failures: 0,
        lastMs: undefined,
        meanMs: undefined,
        maxMs: undefined,
        breaker: this.#breaker === false ? undefined : new CircuitBreaker({ ...this.#breaker, clock: this.#host.clock }),
      };
      this.#tracked.set(node, t);
    }
    return t;
  }

  #sample(t: Tracked, ms: number): void {
    t.lastMs = ms;
    t.meanMs = t.meanMs === undefined ? ms : t.meanMs + LATENCY_ALPHA * (ms - t.meanMs);
    t.maxMs = t.maxMs === undefined ? ms : Math.max(t.maxMs, ms);
  }
}

function filterOf(filter: ProviderFilter | undefined): ((p: ProviderInfo) => boolean) | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter === 'string') return (p) => p.node.includes(filter);
  if (filter instanceof RegExp) {
    // A global or sticky RegExp keeps lastIndex between tests: test a fresh copy without those flags.
    const re = new RegExp(filter.source, filter.flags.replace(/[gy]/g, ''));
    return (p) => re.test(p.node);
  }
  if (typeof filter === 'function') return filter;
  throw new CohortError('INVALID_OPTION', `balancer: filter must be a string (a substring of the node id), a RegExp or a function, got ${describe(filter)}`);
}

function checkTimeout(name: string, ms: number | undefined): number | undefined {
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || !(ms > 0)) throw new CohortError('INVALID_OPTION', `balancer: ${name} must be a finite number > 0, got ${describe(ms)}`);
  return ms;
}

/** Whether an error came from a provider that answered (so it is up). */
function answered(error: unknown): boolean {
  return isCohortError(error) && error.code !== 'NODE_STOPPED' && error.code !== 'INVALID_ARGUMENT' && error.code !== 'INVALID_OPTION';
}

function summary(attempts: readonly Attempt[]): string {
  return attempts.length === 0 ? 'no attempt' : attempts.map((a) => `${a.node}: ${a.code}`).join('; ');
}
