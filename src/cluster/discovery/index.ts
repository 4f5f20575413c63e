/**
 * Discovery backends: how a node finds addresses of other nodes to dial.
 *
 * Four backends ship: `staticDiscovery` (a fixed seed list), `dnsDiscovery` (A, AAAA, SRV),
 * `fileDiscovery` (a watched file) and `customDiscovery` (any function). `resolveDiscovery` turns
 * the `discovery` option a user writes into one backend.
 *
 * Every address a backend returns is only a candidate: the node dials it, and it counts as a
 * peer only after the handshake (and authentication, with a secret) succeeds. Backends do not
 * retry; when `resolve` rejects, the caller keeps what it had and retries with backoff.
 */
import type { Clock } from '../../core/clock.js';
import { CohortError, describe } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { isDiscovery, type Discovery, type PeerAddress } from './discovery.js';
import { dnsDiscovery, type DnsDiscoveryOptions, type DnsRecordType } from './dns.js';
import { fileDiscovery, type FileDiscoveryOptions } from './file.js';
import { staticDiscovery } from './static.js';

export {
  PEER_ADDRESS_FORMS,
  dedupe,
  formatPeerAddress,
  isDiscovery,
  parsePeerAddress,
  toPeerAddress,
  type Discovery,
  type PeerAddress,
  type SkippedEntry,
} from './discovery.js';
export { staticDiscovery } from './static.js';
export { DNS_DEFAULTS, DNS_RECORD_TYPES, dnsDiscovery, type DnsDiscoveryOptions, type DnsRecordType, type DnsResolver } from './dns.js';
export { FILE_DEFAULTS, fileDiscovery, parsePeerFile, type FileDiscoveryOptions, type SkippedFileEntry } from './file.js';
export {
  CUSTOM_DEFAULTS,
  customDiscovery,
  type CustomDiscoveryEntry,
  type CustomDiscoveryFn,
  type CustomDiscoveryOptions,
} from './custom.js';

/** The `type`s a discovery config object may have. */
export const DISCOVERY_TYPES = Object.freeze(['static', 'dns', 'file'] as const);

/** `{ type: 'static', seeds }`: the config form of {@link staticDiscovery}. */
export interface StaticDiscoveryConfig {
  readonly type: 'static';
  readonly seeds: ReadonlyArray<string | PeerAddress>;
}

/**
 * `{ type: 'dns', name, recordType?, port?, ... }`: the config form of {@link dnsDiscovery}. The
 * record type is `recordType` here, since `type` names the backend.
 */
export interface DnsDiscoveryConfig extends Omit<DnsDiscoveryOptions, 'type'> {
  readonly type: 'dns';
  /** @default 'A+AAAA' */
  readonly recordType?: DnsRecordType;
}

/** `{ type: 'file', path, ... }`: the config form of {@link fileDiscovery}. */
export interface FileDiscoveryConfig extends FileDiscoveryOptions {
  readonly type: 'file';
}

/** A discovery config object. */
export type DiscoveryConfig = StaticDiscoveryConfig | DnsDiscoveryConfig | FileDiscoveryConfig;

/** Every form the `discovery` option takes. */
export type DiscoveryOption = Discovery | ReadonlyArray<string | PeerAddress> | DiscoveryConfig;

/** What a config object does not say and the node supplies. */
export interface ResolveDiscoveryDefaults {
  /** The clock for DNS timeouts and file polling, unless the config names one. */
  clock?: Clock;
  /** The logger for DNS and file backends, unless the config names one. */
  logger?: Logger;
}

const ACCEPTED =
  'a Discovery object (a string name and a resolve function, e.g. from customDiscovery), ' +
  "an array of seed addresses like ['app2@10.0.0.2:4369', '10.0.0.3:4369'], " +
  "or a config object { type: 'static', seeds } | { type: 'dns', name, recordType?, port? } | { type: 'file', path }";

/**
 * Turns a `discovery` option into a backend: a `Discovery` object is returned as it is, an array
 * becomes `staticDiscovery(array)`, and a config object builds the backend its `type` names
 * (`clock` and `logger` come from `defaults` unless the config gives them).
 *
 * @throws CohortError `INVALID_OPTION` for any other value or an unknown `type` (the message lists
 *   the accepted forms), or whatever the backend's factory throws for bad options.
 * @example
 * resolveDiscovery(['app2@10.0.0.2:4369']);
 * resolveDiscovery({ type: 'dns', name: '_cohort._tcp.example.com', recordType: 'SRV' }, { clock, logger });
 * resolveDiscovery(customDiscovery('consul', listFromConsul));
 */
export function resolveDiscovery(option: DiscoveryOption, defaults: ResolveDiscoveryDefaults = {}): Discovery {
  if (isDiscovery(option)) return option;
  if (Array.isArray(option)) return staticDiscovery(option);
  if (typeof option === 'object' && option !== null && typeof (option as { type?: unknown }).type === 'string') {
    const config = option as DiscoveryConfig;
    switch (config.type) {
      case 'static': {
        const { type: _type, ...rest } = config;
        const extra = Object.keys(rest).filter((key) => key !== 'seeds');
        if (extra.length > 0) {
          throw new CohortError(
            'INVALID_OPTION',
            `static discovery config: unknown option(s) ${quote(extra)}; expected only 'type' and 'seeds'`,
          );
        }
        return staticDiscovery(config.seeds);
      }
      case 'dns': {
        const { type: _type, recordType, ...rest } = config;
        return dnsDiscovery({ ...withDefaults(rest, defaults), ...(recordType === undefined ? {} : { type: recordType }) });
      }
      case 'file': {
        const { type: _type, ...rest } = config;
        return fileDiscovery(withDefaults(rest, defaults));
      }
      default:
        throw new CohortError(
          'INVALID_OPTION',
          `unknown discovery type ${describe((config as { type: unknown }).type)}; ` +
            `expected one of ${quote(DISCOVERY_TYPES)}, or pass ${ACCEPTED}`,
        );
    }
  }
  throw new CohortError('INVALID_OPTION', `invalid discovery option ${describe(option)}; expected ${ACCEPTED}`);
}

function withDefaults<T extends { clock?: Clock; logger?: Logger }>(options: T, defaults: ResolveDiscoveryDefaults): T {
  const out = { ...options };
  if (out.clock === undefined && defaults.clock !== undefined) out.clock = defaults.clock;
  if (out.logger === undefined && defaults.logger !== undefined) out.logger = defaults.logger;
  return out;
}

function quote(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}
