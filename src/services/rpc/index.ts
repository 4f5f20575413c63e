/** RPC: exposed services, the replicated provider table, and typed calls. */
export { Rpc, RPC_DEFAULTS, type RpcOptions, type AnyCallOptions } from './rpc.js';
export { ProviderTable } from './providers.js';
export { serviceRef, serviceName } from './types.js';
export type {
  Handler,
  Handlers,
  MethodOf,
  ServiceArgs,
  ServiceResult,
  ServiceRef,
  ServiceTarget,
  ExposeOptions,
  RpcCallOptions,
  ProviderInfo,
  ProviderEvent,
} from './types.js';
export { RPC_MESSAGE, SERVICES_MESSAGE, parseServicesMessage, readRpc, type ServicesMessage, type RpcMessage, type ProviderEntry } from './messages.js';
