/**
 * RPC: services exposed by name on any number of nodes, and calls to one of them.
 *
 * `expose(service, handlers)` runs the handlers on this node and advertises the service to every
 * node (the provider table is replicated: each node sends its own entries as they change, and a
 * snapshot whenever a peer comes up or its link comes back, so every node sees a provider within
 * a round trip and a healed partition re-advertises everything). `call(node, service, method,
 * args)` runs a method on one chosen node; the balancer (`balancer.ts`) chooses among providers.
 *
 * Every call settles exactly once, with one of three outcomes:
 * - the handler's result;
 * - the handler threw: `REMOTE_ERROR` carrying the thrown error's name, message and `code`, and
 *   its `retryable` flag (an error with `retryable: true` may be retried on another provider);
 * - the call failed: `TIMEOUT` or `NOCONNECTION` (the work may or may not have happened),
 *   `NOT_FOUND` (no such service on that node, or no such method), `UNAVAILABLE` (the service is
 *   being withdrawn there: retryable, the work did not start), `BAD_REQUEST` (the arguments
 *   failed the method's schema; the handler did not run), or, for arguments that cannot go out
 *   (the work did not start), `ENCODE_FAILED`, `FRAME_TOO_LARGE` or `QUEUE_FULL`. A call that
 *   waited for the link and was refused by it (too large for that node) fails with
 *   `FRAME_TOO_LARGE` as soon as the link is up.
 * A call to this node's own id runs the handler locally with the same outcomes. Calls waiting on a
 * node fail with `NOCONNECTION` as soon as its link breaks or it goes down.
 *
 * Draining: `unexpose` (and `drain`, used by `node.stop()`) first withdraws the service from
 * every node's table, then waits for the calls already running here to finish (up to
 * `drainTimeoutMs`). A call that arrives after the withdrawal gets `UNAVAILABLE`, so a balancer
 * that had not heard yet moves it to another provider: no accepted call is dropped.
 *
 * Not here: choosing a provider, failover, breakers (the balancer); casts are fire-and-forget
 * (a failed handler is logged, a cast to an unreachable node is reported by the returned count).
 */
import { Deadlines } from '../../core/deadlines.js';
import { IdTable } from '../../core/id-table.js';
import { CohortError, describe, toWireError, unreachable } from '../../core/errors.js';
import { Emitter, type Unsubscribe } from '../../core/events.js';
import { firstRequestId, type NodeId } from '../../core/ids.js';
import { childLogger, type Logger } from '../../core/logger.js';
import { validate } from '../../process/validate.js';
import { AlgorithmRegistry } from '../balancer/algorithms/index.js';
import { Balancer, type BalancedCallOptions, type BalancerHost, type BalancerOptions, type ProviderFilter } from '../balancer/balancer.js';
import { channel, type Channel, type ClusterPort, type PeerEvent } from '../ports.js';
import {
  encodeRpc,
  entryOf,
  isName,
  isWeight,
  MAX_METHODS,
  MAX_NAME_LENGTH,
  parseMeta,
  parseServicesMessage,
  readRpc,
  RPC_MESSAGE,
  SERVICES_MESSAGE,
  type RpcMessage,
  type ServicesMessage,
} from './messages.js';
import { ProviderTable } from './providers.js';
import {
  serviceName,
  serviceRef,
  type ExposeOptions,
  type Handler,
  type Handlers,
  type MethodOf,
  type ProviderEvent,
  type ProviderInfo,
  type RpcCallOptions,
  type ServiceArgs,
  type ServiceRef,
  type ServiceResult,
  type ServiceTarget,
} from './types.js';

/** Options of the {@link Rpc} service. */
export interface RpcOptions {
  readonly cluster: ClusterPort;
  /**
   * The time limit of a call that gives none.
   * @default 5000
   */
  readonly callTimeoutMs?: number;
  /**
   * How long `unexpose` and `drain` wait for running calls before giving up on them.
   * @default 15000
   */
  readonly drainTimeoutMs?: number;
  /** The algorithms balancers may name. @default the built-ins only */
  readonly algorithms?: AlgorithmRegistry;
  /** Uniform numbers in `[0, 1)` for balancers. @default Math.random */
  readonly random?: () => number;
}

/** Options of `rpc.callAny` and `rpc.castAny`. */
export interface AnyCallOptions extends BalancedCallOptions {
  /** Only providers that pass: a substring of the node id, a RegExp tested on it, or a predicate. */
  readonly filter?: ProviderFilter;
  /**
   * How long to wait, retrying with backoff, for a provider to appear when there is none.
   * @default 2000
   */
  readonly waitForProvidersMs?: number;
}

/** The defaults of {@link RpcOptions}. */
export const RPC_DEFAULTS = Object.freeze({ callTimeoutMs: 5_000, drainTimeoutMs: 15_000 });

/** A service this node exposes. */
interface Local {
  readonly info: ProviderInfo;
  readonly handlers: Handlers;
  readonly schemas: ExposeOptions['schemas'];
  /** Calls running now. */
  running: number;
  /** Withdrawn: new calls get UNAVAILABLE; resolves waiters when `running` reaches 0. */
  draining: boolean;
  readonly idle: (() => void)[];
}

interface Pending {
  readonly node: NodeId;
  readonly what: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: { cancel(): void };
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: CohortError };

/** The rpc service of one node (`node.rpc`). */
export class Rpc {
  readonly #cluster: ClusterPort;
  readonly #self: NodeId;
  readonly #log: Logger;
  readonly #table = new ProviderTable();
  readonly #local = new Map<string, Local>();
  /** Services this node exposed and withdrew: a late call gets `UNAVAILABLE`, not `NOT_FOUND`. */
  readonly #withdrawn = new Set<string>();
  /** Calls waiting for an answer, by request id (an IdTable: see there why not a Map). */
  readonly #pending = new IdTable<Pending>();
  readonly #deadlines: Deadlines;
  readonly #channel: Channel<ServicesMessage>;
  readonly #emitter: Emitter<{ change: ProviderEvent }>;
  readonly #subscriptions: Unsubscribe[];
  readonly #callTimeoutMs: number;
  readonly #drainTimeoutMs: number;
  readonly #host: BalancerHost;
  /** Call ids start at random (see `firstRequestId`). */
  #nextId = firstRequestId();
  #closed = false;

  constructor(options: RpcOptions) {
    this.#cluster = options.cluster;
    this.#self = options.cluster.id;
    this.#callTimeoutMs = options.callTimeoutMs ?? RPC_DEFAULTS.callTimeoutMs;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? RPC_DEFAULTS.drainTimeoutMs;
    this.#log = childLogger(options.cluster.logger, { service: 'rpc' });
    this.#deadlines = new Deadlines(options.cluster.clock, { keepAlive: true });
    this.#host = {
      self: this.#self,
      clock: options.cluster.clock,
      random: options.random ?? Math.random,
      algorithms: options.algorithms ?? new AlgorithmRegistry(),
      providers: (service) => this.#table.providers(service),
      call: (node, service, method, args, o) => this.call(node, service, method, args, o),
      cast: (node, service, method, args) => this.cast(node, service, method, args),
    };
    this.#channel = channel(options.cluster, SERVICES_MESSAGE, this.#log, 'services');
    this.#emitter = new Emitter((error) => this.#log.warn('a provider watcher threw', { error: String(error) }));
    this.#subscriptions = [
      this.#cluster.handle(SERVICES_MESSAGE, (from, body) => this.#guard('services message', () => this.#onServices(from, body))),
      this.#cluster.handle(RPC_MESSAGE, (from, body) => this.#guard('rpc message', () => this.#onRpc(from, body))),
      this.#cluster.onPeer((event) => this.#guard('peer event', () => this.#peer(event))),
    ];
    for (const peer of this.#cluster.peers()) this.#sendSnapshot(peer, true);
  }

  // -----------------------------------------------------------------------------------------------
  // providing

  /**
   * Runs `handlers` as service `service` on this node and advertises it to every node.
   *
   * @returns a ref typed by the handlers, for typed calls and balancers.
   * @throws CohortError `INVALID_ARGUMENT` (a bad name, handlers that are not an object of
   *   functions, a schema for a method that does not exist, a service already exposed here),
   *   `INVALID_OPTION` (a bad weight or meta), `NODE_STOPPED`.
   * @example
   * const math = node.rpc.expose('math', { add: (a: number, b: number) => a + b });
   * await node.balancer(math).call('add', [1, 2]); // 3
   */
  expose<H extends Handlers>(service: string, handlers: H, options: ExposeOptions<H> = {}): ServiceRef<H> {
    this.#open('expose');
    if (!isName(service)) throw new CohortError('INVALID_ARGUMENT', `expose: the service name must be a string of 1-${MAX_NAME_LENGTH} characters, got ${describe(service)}`);
    if (this.#local.has(service)) {
      throw new CohortError('INVALID_ARGUMENT', `expose: service '${service}' is already exposed on ${this.#self}${this.#local.get(service)!.draining ? ' (and draining)' : ''}; unexpose it first`);
    }
    const methods = checkHandlers(service, handlers);
    const weight = options.weight ?? 1;
    if (!isWeight(weight)) throw new CohortError('INVALID_OPTION', `expose '${service}': weight must be a finite number >= 0, got ${describe(weight)}`);
    const meta = parseMeta(options.meta);
    if (typeof meta === 'string') throw new CohortError('INVALID_OPTION', `expose '${service}': ${meta}`);
    for (const m of Object.keys(options.schemas ?? {})) {
      if (!methods.includes(m)) throw new CohortError('INVALID_ARGUMENT', `expose '${service}': a schema is given for '${m}', which is not one of its methods (${methods.join(', ')})`);
    }
    const info: ProviderInfo = Object.freeze({ node: this.#self, service, weight, meta, methods: Object.freeze(methods) });
    this.#local.set(service, { info, handlers, schemas: options.schemas, running: 0, draining: false, idle: [] });
    this.#withdrawn.delete(service);
    this.#emit(this.#table.set(this.#self, entryOf(info)));
    this.#channel.broadcast({ type: 'expose', ...entryOf(info) });
    return serviceRef<H>(service);
  }

  /**
   * Withdraws a service from this node: every node stops choosing it first, then the calls
   * already running here finish (up to `drainTimeoutMs`). Calls that arrive meanwhile get
   * `UNAVAILABLE` (retryable). Resolves `false` when the service was not exposed here.
   */
  async unexpose(service: ServiceTarget): Promise<boolean> {
    const name = serviceName(service);
    const local = this.#local.get(name);
    if (local === undefined) return false;
    await this.#drainOne(name, local);
    return true;
  }

  /** Withdraws every service of this node and waits for their running calls (`node.stop()`). */
  async drain(): Promise<void> {
    await Promise.all([...this.#local].map(([name, local]) => this.#drainOne(name, local)));
  }

  /** How many calls this node's handlers are running now, for one service or all. */
  running(service?: string): number {
    if (service !== undefined) return this.#local.get(service)?.running ?? 0;
    let n = 0;
    for (const l of this.#local.values()) n += l.running;
    return n;
  }

  // -----------------------------------------------------------------------------------------------
  // the table

  /** The providers of a service, sorted by node id (a local read). */
  providers(service: ServiceTarget): readonly ProviderInfo[] {
    return this.#table.providers(serviceName(service));
  }

  /** Every service with a provider somewhere, sorted (a local read). */
  services(): string[] {
    return this.#table.services();
  }

  /** Reports providers added, updated and removed, of one service or of all. */
  watch(service: ServiceTarget | undefined, fn: (event: ProviderEvent) => void): Unsubscribe {
    const name = service === undefined ? undefined : serviceName(service);
    if (typeof fn !== 'function') throw new CohortError('INVALID_ARGUMENT', 'watch: the listener must be a function');
    return this.#emitter.on('change', (e) => {
      if (name === undefined || e.provider.service === name) fn(e);
    });
  }

  // -----------------------------------------------------------------------------------------------
  // calling

  /**
   * Calls `method` of `service` on `node` (this node's own id runs it locally).
   *
   * Outcomes: the result; `REMOTE_ERROR` (the handler threw: its name, message, code and
   * `retryable`); `TIMEOUT`, `NOCONNECTION` (may or may not have run), `NOT_FOUND`,
   * `UNAVAILABLE`, `BAD_REQUEST`, `NODE_STOPPED`; `ENCODE_FAILED`, `FRAME_TOO_LARGE`, `QUEUE_FULL`
   * (did not go out).
   * @example
   * const sum = await node.rpc.call(other, math, 'add', [1, 2], { timeoutMs: 1000 });
   */
  call<H extends Handlers, M extends MethodOf<H>>(node: NodeId, service: ServiceRef<H>, method: M, args: ServiceArgs<H, M>, options?: RpcCallOptions): Promise<ServiceResult<H, M>>;
  call(node: NodeId, service: string, method: string, args: readonly unknown[], options?: RpcCallOptions): Promise<unknown>;
  call(node: NodeId, service: ServiceTarget, method: string, args: readonly unknown[], options: RpcCallOptions = {}): Promise<unknown> {
    const name = serviceName(service);
    let timeoutMs: number;
    try {
      this.#open('call');
      checkCall(name, method, args);
      timeoutMs = this.#timeout(options.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const what = `call of ${name}.${method} on ${node}`;
    if (node === this.#self) return this.#callLocal(name, method, args, timeoutMs, what);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // Queued before the link was up and refused by it (too large for that node): fail now.
      const refused = (error: CohortError): void => this.#take(id)?.reject(error);
      try {
        this.#cluster.send(node, RPC_MESSAGE, encodeRpc({ t: 'call', id, service: name, method, args, ms: timeoutMs }), undefined, { refused });
      } catch (error) {
        reject(unreachable(node, `the ${what} was not sent`, error));
        return;
      }
      const timer = this.#deadlines.add(timeoutMs, () => {
        if (!this.#pending.delete(id)) return;
        reject(new CohortError('TIMEOUT', `the ${what} got no answer within ${timeoutMs} ms; it may or may not have run`, { details: { node, service: name, method, timeoutMs } }));
      });
      this.#pending.set(id, { node, what, resolve, reject, timer });
    });
  }

  /**
   * Runs `method` of `service` on `node` without waiting for a result. Returns whether the cast
   * was handed to the link (or run locally); a handler's failure is only logged there.
   *
   * @throws CohortError `INVALID_ARGUMENT`, `NODE_STOPPED`.
   */
  cast<H extends Handlers, M extends MethodOf<H>>(node: NodeId, service: ServiceRef<H>, method: M, args: ServiceArgs<H, M>): boolean;
  cast(node: NodeId, service: string, method: string, args: readonly unknown[]): boolean;
  cast(node: NodeId, service: ServiceTarget, method: string, args: readonly unknown[]): boolean {
    const name = serviceName(service);
    this.#open('cast');
    checkCall(name, method, args);
    if (node === this.#self) {
      void this.#execute(name, method, args).then((o) => this.#castFailed(this.#self, name, method, o));
      return true;
    }
    try {
      this.#cluster.send(node, RPC_MESSAGE, encodeRpc({ t: 'cast', service: name, method, args }));
      return true;
    } catch (error) {
      this.#log.debug('a cast was not sent', { node, service: name, method, error: String(error) });
      return false;
    }
  }

  /**
   * A balancer of `service`: chooses a provider per call, tracks in-flight calls, fails over and
   * keeps a circuit breaker per provider. See {@link Balancer}.
   *
   * @throws CohortError `INVALID_OPTION` (an unknown algorithm name lists the known ones).
   * @example
   * const math = node.balancer(mathRef, { algorithm: 'least-connections', filter: /^worker/ });
   * await math.call('add', [1, 2]);
   */
  balancer<H extends Handlers>(service: ServiceTarget<H>, options: BalancerOptions = {}): Balancer<H> {
    return new Balancer<H>(this.#host, service, options);
  }

  /**
   * Calls `method` on a random provider of `service` that passes `filter`, waiting (bounded) while
   * there is none, with failover to another provider on a retryable failure.
   *
   * @throws CohortError as {@link Balancer.call}: the call's own error, `NO_PROVIDERS`,
   *   `ALL_PROVIDERS_FAILED`, `MAX_ATTEMPTS_EXCEEDED`.
   * @example
   * await node.rpc.callAny(math, 'add', [1, 2], { filter: 'eu-' });
   */
  callAny<H extends Handlers, M extends MethodOf<H>>(service: ServiceRef<H>, method: M, args: ServiceArgs<H, M>, options?: AnyCallOptions): Promise<ServiceResult<H, M>>;
  callAny(service: string, method: string, args: readonly unknown[], options?: AnyCallOptions): Promise<unknown>;
  callAny(service: ServiceTarget, method: string, args: readonly unknown[], options: AnyCallOptions = {}): Promise<unknown> {
    try {
      return this.#anyBalancer(service, options).call(method, [...args], options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Casts `method` to a random provider that passes `filter`; resolves with the node it went to. */
  castAny<H extends Handlers, M extends MethodOf<H>>(service: ServiceRef<H>, method: M, args: ServiceArgs<H, M>, options?: AnyCallOptions): Promise<NodeId>;
  castAny(service: string, method: string, args: readonly unknown[], options?: AnyCallOptions): Promise<NodeId>;
  castAny(service: ServiceTarget, method: string, args: readonly unknown[], options: AnyCallOptions = {}): Promise<NodeId> {
    try {
      return this.#anyBalancer(service, options).cast(method, [...args], options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #anyBalancer(service: ServiceTarget, options: AnyCallOptions): Balancer {
    return new Balancer(this.#host, service, {
      algorithm: 'random',
      breaker: false,
      ...(options.filter === undefined ? {} : { filter: options.filter }),
      ...(options.waitForProvidersMs === undefined ? {} : { waitForProvidersMs: options.waitForProvidersMs }),
    });
  }

  /** Fails every waiting call with `NODE_STOPPED`, stops serving and forgets the table. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#subscriptions) off();
    for (const [id, p] of this.#pending) {
      this.#take(id);
      p.reject(new CohortError('NODE_STOPPED', `node ${this.#self} stopped before the ${p.what} was answered`));
    }
    this.#deadlines.clear();
    this.#emitter.clear();
  }

  // -----------------------------------------------------------------------------------------------
  // internals

  #open(op: string): void {
    if (this.#closed) throw new CohortError('NODE_STOPPED', `${op}: the rpc service of node ${this.#self} is stopped`);
  }

  #timeout(ms: number | undefined): number {
    const t = ms ?? this.#callTimeoutMs;
    if (typeof t !== 'number' || !(t > 0) || !Number.isFinite(t)) throw new CohortError('INVALID_OPTION', `timeoutMs must be a finite number > 0, got ${describe(t)}`);
    return t;
  }

  async #drainOne(name: string, local: Local): Promise<void> {
    if (!local.draining) {
      local.draining = true;
      this.#withdrawn.add(name);
      this.#emit(this.#table.remove(this.#self, name));
      this.#channel.broadcast({ type: 'unexpose', service: name });
    }
    if (local.running > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#cluster.clock.setTimeout(() => {
          this.#log.warn('gave up waiting for running calls of a withdrawn service', { service: name, running: local.running, drainTimeoutMs: this.#drainTimeoutMs });
          resolve();
        }, this.#drainTimeoutMs);
        local.idle.push(() => {
          timer.cancel();
          resolve();
        });
      });
    }
    if (this.#local.get(name) === local) this.#local.delete(name);
  }

  #callLocal(service: string, method: string, args: readonly unknown[], timeoutMs: number, what: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = this.#deadlines.add(timeoutMs, () => {
        if (done) return;
        done = true;
        reject(new CohortError('TIMEOUT', `the ${what} got no answer within ${timeoutMs} ms; it may or may not have run`, { details: { node: this.#self, service, method, timeoutMs } }));
      });
      void this.#execute(service, method, args).then((o) => {
        if (done) return;
        done = true;
        timer.cancel();
        if (o.ok) resolve(o.value);
        else reject(o.error);
      });
    });
  }

  /** Runs a call of this node's service; never rejects. */
  async #execute(service: string, method: string, args: readonly unknown[]): Promise<Outcome> {
    const local = this.#local.get(service);
    if (local === undefined || local.draining) {
      if (local !== undefined || this.#withdrawn.has(service)) {
        return fail('UNAVAILABLE', `service '${service}' is being withdrawn from node ${this.#self}; call another provider`, { service, node: this.#self });
      }
      return fail('NOT_FOUND', `node ${this.#self} does not provide service '${service}'`, { service, node: this.#self });
    }
    const handler = Object.hasOwn(local.handlers, method) ? local.handlers[method] : undefined;
    if (typeof handler !== 'function') {
      return fail('NOT_FOUND', `service '${service}' has no method '${method}'; it has ${local.info.methods.join(', ')}`, { service, method, node: this.#self });
    }
    local.running++;
    try {
      let input = args;
      const schema = local.schemas?.[method];
      if (schema !== undefined) {
        const checked = await validate(schema, args, `arguments of ${service}.${method}`);
        if (!checked.ok) return { ok: false, error: withNode(checked.error, this.#self) };
        input = checked.value as readonly unknown[];
      }
      try {
        return { ok: true, value: await (handler as Handler)(...input) };
      } catch (thrown) {
        return { ok: false, error: this.#remoteError(service, method, thrown) };
      }
    } finally {
      local.running--;
      if (local.running === 0 && local.idle.length > 0) for (const wake of local.idle.splice(0)) wake();
    }
  }

  #remoteError(service: string, method: string, thrown: unknown): CohortError {
    const name = thrown instanceof Error ? thrown.name : 'Error';
    const message = thrown instanceof Error ? thrown.message : describe(thrown);
    const code = (thrown as { code?: unknown } | null | undefined)?.code;
    const retryable = (thrown as { retryable?: unknown } | null | undefined)?.retryable === true;
    return new CohortError('REMOTE_ERROR', `${name} thrown by ${service}.${method} on ${this.#self}: ${message}`, {
      details: { name, message, service, method, ...(typeof code === 'string' ? { code } : {}) },
      retryable,
      node: this.#self,
      cause: thrown,
    });
  }

  #castFailed(node: NodeId, service: string, method: string, o: Outcome): void {
    if (!o.ok) this.#log.warn('a cast failed', { from: node, service, method, code: o.error.code, error: o.error.message });
  }

  #onRpc(from: NodeId, body: unknown): void {
    if (this.#closed) return;
    const m = readRpc(body);
    if (typeof m === 'string') {
      this.#log.warn('dropped a malformed rpc message', { from, problem: m });
      return;
    }
    switch (m.t) {
      case 'call':
        void this.#execute(m.service, m.method, m.args).then((o) => this.#answer(from, m.id, o));
        return;
      case 'cast':
        void this.#execute(m.service, m.method, m.args).then((o) => this.#castFailed(from, m.service, m.method, o));
        return;
      case 'ok':
      case 'err': {
        if (this.#pending.get(m.id)?.node !== from) return; // late (timed out) or not ours
        const p = this.#take(m.id)!;
        if (m.t === 'ok') p.resolve(m.value);
        else p.reject(CohortError.fromWire(m.error));
        return;
      }
    }
  }

  /** Takes waiting call `id` out of the table and off its deadline; `undefined` when it no longer waits. */
  #take(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    p.timer.cancel();
    return p;
  }

  #answer(to: NodeId, id: number, o: Outcome): void {
    const reply: RpcMessage = o.ok ? { t: 'ok', id, value: o.value } : { t: 'err', id, error: toWireError(o.error) };
    try {
      this.#cluster.send(to, RPC_MESSAGE, encodeRpc(reply));
    } catch (error) {
      if (o.ok && error instanceof CohortError && error.code === 'ENCODE_FAILED') {
        // The result cannot travel: tell the caller why instead of letting it time out.
        this.#answer(to, id, { ok: false, error: withNode(error, this.#self) });
        return;
      }
      this.#log.debug('an rpc answer was not sent', { to, error: String(error) });
    }
  }

  #onServices(from: NodeId, body: unknown): void {
    if (this.#closed) return;
    if (from === this.#self) {
      this.#log.warn('ignored a services message claiming to come from this node');
      return;
    }
    const m = parseServicesMessage(body);
    if (typeof m === 'string') {
      this.#log.warn('ignored a malformed services message', { from, problem: m });
      return;
    }
    switch (m.type) {
      case 'expose': {
        const { type: _type, ...entry } = m;
        this.#emit(this.#table.set(from, entry));
        return;
      }
      case 'unexpose':
        this.#emit(this.#table.remove(from, m.service));
        return;
      case 'snapshot':
        this.#emit(this.#table.replace(from, m.services));
        if (m.reply) this.#sendSnapshot(from, false);
        return;
    }
  }

  #peer(event: PeerEvent): void {
    if (this.#closed || event.node === this.#self) return;
    if (event.type === 'up') {
      this.#sendSnapshot(event.node, true);
      return;
    }
    if (event.type === 'down') this.#emit(this.#table.drop(event.node));
    const why = event.type === 'down' ? `node ${event.node} went down` : `the link to node ${event.node} broke`;
    for (const [id, p] of this.#pending) {
      if (p.node !== event.node) continue;
      this.#take(id);
      p.reject(new CohortError('NOCONNECTION', `${why}; the ${p.what} may or may not have run`, { details: { node: event.node } }));
    }
  }

  #sendSnapshot(to: NodeId, reply: boolean): void {
    const services = [...this.#local.values()].filter((l) => !l.draining).map((l) => entryOf(l.info));
    this.#channel.send(to, { type: 'snapshot', services, reply });
  }

  #emit(events: readonly ProviderEvent[]): void {
    for (const e of events) this.#emitter.emit('change', e);
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log.error(`rpc: ${what} failed`, { error: String(error) });
    }
  }
}

function checkHandlers(service: string, handlers: unknown): string[] {
  if (typeof handlers !== 'object' || handlers === null || Array.isArray(handlers)) {
    throw new CohortError('INVALID_ARGUMENT', `expose '${service}': handlers must be an object of functions, got ${describe(handlers)}`);
  }
  const methods = Object.keys(handlers).sort();
  if (methods.length === 0) throw new CohortError('INVALID_ARGUMENT', `expose '${service}': handlers has no methods`);
  if (methods.length > MAX_METHODS) throw new CohortError('INVALID_ARGUMENT', `expose '${service}': more than ${MAX_METHODS} methods`);
  for (const m of methods) {
    if (!isName(m)) throw new CohortError('INVALID_ARGUMENT', `expose '${service}': method names must be 1-${MAX_NAME_LENGTH} characters`);
    if (typeof (handlers as Record<string, unknown>)[m] !== 'function') {
      throw new CohortError('INVALID_ARGUMENT', `expose '${service}': handler '${m}' must be a function, got ${describe((handlers as Record<string, unknown>)[m])}`);
    }
  }
  return methods;
}

function checkCall(service: string, method: unknown, args: unknown): void {
  if (!isName(service)) throw new CohortError('INVALID_ARGUMENT', `a service name must be a string of 1-${MAX_NAME_LENGTH} characters, got ${describe(service)}`);
  if (!isName(method)) throw new CohortError('INVALID_ARGUMENT', `a method name must be a string of 1-${MAX_NAME_LENGTH} characters, got ${describe(method)}`);
  if (!Array.isArray(args)) throw new CohortError('INVALID_ARGUMENT', `the arguments of ${service}.${method} must be an array (the argument list), got ${describe(args)}`);
}

function fail(code: 'NOT_FOUND' | 'UNAVAILABLE', message: string, details: Record<string, unknown>): Outcome {
  return { ok: false, error: new CohortError(code, message, { details, node: details.node as string }) };
}

function withNode(error: CohortError, node: NodeId): CohortError {
  return error.node !== undefined ? error : new CohortError(error.code, error.message, { details: error.details, retryable: error.retryable, node, cause: error.cause });
}
