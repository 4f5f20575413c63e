/**
 * cohort: Erlang/OTP-style processes, supervisors and clustering for TypeScript on Node.js.
 *
 * This module is the whole public surface; everything else is internal.
 */

// node
export { Node, NODE_DEFAULTS } from './node.js';
export type { NodeOptions, NodeSpawnOptions, Member, NodeEvents, MonitorHandle, DownEvent, BehaviorsApi } from './node.js';

// cluster: discovery, transports, fault injection for tests
export { staticDiscovery, dnsDiscovery, fileDiscovery, customDiscovery, parsePeerAddress } from './cluster/discovery/index.js';
export type { Discovery, PeerAddress, DnsDiscoveryOptions, FileDiscoveryOptions, DnsResolver } from './cluster/discovery/index.js';
export { MEMBERSHIP_DEFAULTS } from './cluster/membership/index.js';
export type { MembershipTimings } from './cluster/cluster.js';
export { tcpTransport } from './transport/tcp.js';
export type { TcpTransportOptions } from './transport/tcp.js';
export { tlsTransport } from './transport/tls.js';
export type { TlsOptions } from './transport/tls.js';
export { MemoryNetwork } from './transport/memory.js';
export { FaultInjector } from './transport/faulty.js';
export type { FaultDirection } from './transport/faulty.js';
export type { StreamTransport, StreamAddress, StreamListener } from './transport/stream-transport.js';
export { PROTOCOL_VERSION } from './transport/handshake.js';

// errors
export { CohortError, isCohortError, toWireError } from './core/errors.js';
export type { CohortErrorOptions, WireError } from './core/errors.js';
export { ERROR_CODES, isKnownCode } from './core/codes.js';
export type { ErrorCode, CodeInfo } from './core/codes.js';

// ids
export { parseNodeId, formatNodeId, isNodeId, parsePid, formatPid, isPid, samePid } from './core/ids.js';
export type { NodeId, NodeAddress, Pid } from './core/ids.js';

// time, events, logging, backoff
export { systemClock, ManualClock, TimerSet, sleep } from './core/clock.js';
export type { Clock, Timer, TimerOptions } from './core/clock.js';
export type { Unsubscribe, Events } from './core/events.js';
export { silentLogger, consoleLogger, childLogger } from './core/logger.js';
export type { Logger, LogFields, LogLevel } from './core/logger.js';

// processes
export { defineBehavior, noReply, isBehavior } from './process/behavior.js';
export type {
  Behavior,
  AnyBehavior,
  CallResult,
  NoReply,
  CallOptions,
  SpawnOptions,
  ProcessContext,
  MonitorRef,
  ArgsOf,
  CallOf,
  CastOf,
  ReplyOf,
  StateOf,
} from './process/behavior.js';
export { EXIT_REASONS } from './process/types.js';
export type { ExitReason, Exit, DownMessage, ExitMessage, SystemMessage, Message, AnyMessage, From, ProcessRef } from './process/types.js';
export type { ValidationIssue } from './process/validate.js';

// supervision
export { Supervisor, supervisorChild, supervisorBehavior } from './process/supervisor.js';
export type { ChildInfo, SupervisorCallOptions } from './process/supervisor.js';
export { DynamicSupervisor, dynamicSupervisorBehavior } from './process/dynamic-supervisor.js';

// Cluster-wide names and process groups (`node.registry`, `node.groups`).
export type { Registry, RegisterOptions, NameConflict, RegistryEvent, RegistryEvents } from './services/registry/index.js';
export type { Groups, GroupEvent } from './services/groups/index.js';

// Services: rpc, the provider table, balancers (`node.rpc`, `node.balancer`, `node.algorithms`).
export { serviceRef, RPC_DEFAULTS } from './services/rpc/index.js';
export type {
  Rpc,
  AnyCallOptions,
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
} from './services/rpc/index.js';
export { BALANCER_DEFAULTS } from './services/balancer/balancer.js';
export type { Balancer, BalancerOptions, BalancedCallOptions, ProviderFilter, ProviderStats, Attempt } from './services/balancer/balancer.js';
export {
  AlgorithmRegistry,
  ALGORITHM_NAMES,
  BUILTIN_ALGORITHMS,
  randomAlgorithm,
  roundRobinAlgorithm,
  leastConnectionsAlgorithm,
  powerOfTwoAlgorithm,
  hashRingAlgorithm,
  weightedRoundRobinAlgorithm,
  directAlgorithm,
  firstAlgorithm,
} from './services/balancer/algorithms/index.js';
export type { AlgorithmName, AlgorithmSpec, AlgorithmFactory, SelectionAlgorithm, SelectionContext, Candidate } from './services/balancer/algorithms/index.js';
export { HashRing, HASH_RING_DEFAULTS } from './services/ring/hash-ring.js';
export type { HashRingOptions } from './services/ring/hash-ring.js';
export { murmur3 } from './services/ring/murmur3.js';
export { CircuitBreaker, CIRCUIT_STATE, CIRCUIT_BREAKER_DEFAULTS } from './services/balancer/breaker.js';
export type { CircuitState, CircuitBreakerOptions, CircuitChange } from './services/balancer/breaker.js';

// Distributed supervisor (`node.distributedSupervisor`).
export { DISTRIBUTED_SUPERVISOR_DEFAULTS } from './services/distributed/supervisor.js';
export type {
  DistributedSupervisor,
  DistributedSupervisorOptions,
  DistributedChildSpec,
  DistributedChild,
  DistributedSupervisorEvents,
} from './services/distributed/supervisor.js';
export type { DistributedRestart } from './services/distributed/tables.js';

// Retry (a public module of its own).
export { retry, resolveRetryPolicy, isRetryable, RETRY_DEFAULTS, RETRY_PRESETS, RETRY_PRESET_NAMES, isRetryPresetName } from './services/retry/index.js';
export type { RetryPolicy, RetryPresetName, RetryPreset, RetryAttempt, RetryInfo, RetryFunction, ResolvedRetryPolicy } from './services/retry/index.js';
export type { DynamicSupervisorOptions, DynamicChildSpec, DynamicChildInfo } from './process/dynamic-supervisor.js';
export { RESTART_TYPES, STRATEGIES, SUPERVISOR_DEFAULTS } from './process/child-spec.js';
export type { ChildSpec, SupervisorSpec, RestartType, Strategy, IntensityOptions } from './process/child-spec.js';

// codec
export { msgpackCodec, jsonCodec, resolveCodec, CODEC_NAMES, ENVELOPE_VERSION, DEFAULT_MAX_FRAME_BYTES } from './codec/index.js';
export type { Codec, CodecName, MsgpackCodecOptions, JsonCodecOptions } from './codec/index.js';
