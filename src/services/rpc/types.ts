/**
 * The types of services: handler objects, typed service refs, and the options of `expose` and of
 * calls.
 *
 * A service is a plain object of handler functions, exposed under a name. A `ServiceRef<H>`
 * carries the handler object's type `H` (never its code), so that calls made through it are
 * checked at compile time: a wrong method name, argument or result type does not compile. Code on
 * a node that does not expose the service makes its ref with {@link serviceRef}.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { NodeId } from '../../core/ids.js';

/** A handler: takes the call's arguments, returns the result (or a promise of it). */
export type Handler = (...args: any[]) => unknown;

/** A service's handlers, by method name. */
export type Handlers = { readonly [method: string]: Handler };

/** The method names of a handler object. */
export type MethodOf<H extends Handlers> = Extract<keyof H, string>;

/** The argument tuple of method `M`. */
export type ServiceArgs<H extends Handlers, M extends MethodOf<H>> = Parameters<H[M]>;

/** What a call of method `M` resolves to. */
export type ServiceResult<H extends Handlers, M extends MethodOf<H>> = Awaited<ReturnType<H[M]>>;

/**
 * A service by name, typed by its handler object. Holds no code: make one where the handlers
 * live with `node.rpc.expose(...)`, or elsewhere with {@link serviceRef}.
 */
export interface ServiceRef<H extends Handlers = Handlers> {
  readonly service: string;
  /** Type only: never set at run time. */
  readonly __handlers?: H;
}

/** Either a typed ref or a service's plain name (then calls are typed loosely). */
export type ServiceTarget<H extends Handlers = Handlers> = ServiceRef<H> | string;

/**
 * A typed ref to a service exposed somewhere in the cluster.
 *
 * @example
 * import type { mathHandlers } from './math.js';
 * const math = serviceRef<typeof mathHandlers>('math');
 * await node.balancer(math).call('add', [1, 2]); // number
 */
export function serviceRef<H extends Handlers>(service: string): ServiceRef<H> {
  return Object.freeze({ service });
}

/** The name a target names. */
export function serviceName(target: ServiceTarget): string {
  return typeof target === 'string' ? target : target.service;
}

/** Options of `node.rpc.expose`. */
export interface ExposeOptions<H extends Handlers = Handlers> {
  /**
   * This provider's weight for `weighted-round-robin` balancers (a balancer's own `weights`
   * override it); a finite number >= 0.
   * @default 1
   */
  readonly weight?: number;
  /** Free-form labels other nodes see with the provider (e.g. `{ zone: 'a' }`); strings only. */
  readonly meta?: Readonly<Record<string, string>>;
  /**
   * Standard Schema validators (zod, valibot, arktype, ...) of each method's argument tuple. A
   * call whose arguments fail is answered with `BAD_REQUEST` carrying the issues; the handler
   * does not run. The validated (possibly transformed) value is what the handler receives.
   */
  readonly schemas?: { readonly [M in MethodOf<H>]?: StandardSchemaV1<unknown, ServiceArgs<H, M>> };
}

/** Options of one rpc call. */
export interface RpcCallOptions {
  /**
   * How long to wait for the answer. The remaining time travels with the call.
   * @default the node's `callTimeoutMs` (5000)
   */
  readonly timeoutMs?: number;
}

/** A provider of a service, as every node sees it. */
export interface ProviderInfo {
  readonly node: NodeId;
  readonly service: string;
  readonly weight: number;
  readonly meta: Readonly<Record<string, string>>;
  /** The method names it handles. */
  readonly methods: readonly string[];
}

/** A change of the providers of a service. */
export type ProviderEvent =
  | { readonly type: 'added'; readonly provider: ProviderInfo }
  | { readonly type: 'updated'; readonly provider: ProviderInfo }
  | { readonly type: 'removed'; readonly provider: ProviderInfo };
