/**
 * DNS discovery: candidates from A, AAAA or SRV records, as a headless Kubernetes service, a
 * Consul DNS interface or any zone you control publishes them.
 *
 * Guarantees. Each `resolve` asks the DNS afresh through its own resolver (by default a
 * `dns.promises.Resolver` made for this instance, so two nodes in one process share nothing) and
 * answers within `timeoutMs` on the injected clock or rejects with `TIMEOUT`. A name that does
 * not exist (`ENOTFOUND`, i.e. NXDOMAIN) or has no records of the type (`ENODATA`) is an empty
 * list, not an error: the service may simply have no instances yet. Any other failure rejects
 * with a `CohortError` carrying the resolver's error as `cause`. Results are deduped.
 *
 * - `A`, `AAAA`: one candidate per address, all with the configured `port`.
 * - `A+AAAA` (the default): both lookups, at once. When one fails and the other finds addresses,
 *   those are returned and the failure is logged; when nothing is found and a lookup failed, the
 *   call rejects, so an outage never looks like an empty service.
 * - `SRV`: one candidate per record, port from the record, ordered by priority (lowest first),
 *   then weight (highest first). Each target's A and AAAA records are resolved through the same
 *   resolver, giving one candidate per address. **When a target's lookups fail or find nothing,
 *   the target's name is kept as the host**: the dialer then resolves it with the system resolver
 *   (which also reads `/etc/hosts` and search domains), so a peer is not lost to a transient error.
 *   A target of `.` (RFC 2782: "no service here") and targets that are not valid host names are
 *   dropped (and logged).
 *
 * Deliberately not done. No caching beyond the resolver's, no TTL tracking and no `watch`: DNS
 * does not push, so the caller polls `resolve` at its own pace. Priority and weight only order
 * the list; every record is a candidate. Node names are never known from DNS.
 *
 * Error codes: `TIMEOUT` (no answer within `timeoutMs`, also a resolver's own `ETIMEOUT`),
 * `ABORTED` (the caller's signal), `UNAVAILABLE` with `details.reason === 'DISCOVERY_FAILED'`
 * (any other DNS failure, e.g. `ESERVFAIL`, `ECONNREFUSED`; `details.dnsCode` holds the resolver's
 * code), `INVALID_OPTION` (bad options, at construction).
 */
import { isIP } from 'node:net';
import { promises as dnsPromises, type SrvRecord } from 'node:dns';
import { systemClock, type Clock } from '../../core/clock.js';
import { CohortError, describe, isCohortError } from '../../core/errors.js';
import { validateHost, validatePort } from '../../core/ids.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { abortedError, checkKeys, dedupe, reason, throwIfAborted, type Discovery, type PeerAddress } from './discovery.js';

/** The record types DNS discovery can query. */
export const DNS_RECORD_TYPES = Object.freeze(['A', 'AAAA', 'A+AAAA', 'SRV'] as const);

/** A record type DNS discovery can query; `A+AAAA` queries both. */
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** What DNS discovery needs of a resolver; `dns.promises.Resolver` fits, and so does a test fake. */
export interface DnsResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
  resolveSrv(hostname: string): Promise<SrvRecord[]>;
}

/** Options of {@link dnsDiscovery}. */
export interface DnsDiscoveryOptions {
  /** The name to query, e.g. `'cohort.default.svc.cluster.local'` or `'_cohort._tcp.example.com'`. */
  name: string;
  /**
   * Which records to query.
   * @default 'A+AAAA'
   */
  type?: DnsRecordType;
  /** The port every address gets. Required for `A`, `AAAA` and `A+AAAA`; refused for `SRV` (records carry it). */
  port?: number;
  /**
   * The resolver to ask. Only a resolver made by this backend is ever `cancel()`ed (on timeout or
   * abort); an injected one is left alone.
   * @default a new `dns.promises.Resolver()` per instance
   */
  resolver?: DnsResolver;
  /**
   * How long one `resolve` may take, SRV target lookups included, in milliseconds.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * The clock the timeout runs on.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Where partial failures and skipped records are reported.
   * @default silentLogger
   */
  logger?: Logger;
}

/** The defaults of {@link DnsDiscoveryOptions}. */
export const DNS_DEFAULTS = Object.freeze({
  type: 'A+AAAA',
  timeoutMs: 5000,
} as const satisfies Required<Pick<DnsDiscoveryOptions, 'type' | 'timeoutMs'>>);

const OPTION_KEYS = Object.freeze(['name', 'type', 'port', 'resolver', 'timeoutMs', 'clock', 'logger']);

/** `dns` error codes that mean "no such records": an empty answer, not a failure. */
const EMPTY_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA']);

const LABEL_RE = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/** The resolver methods each record type calls (SRV resolves its targets' A and AAAA records). */
const RESOLVER_METHODS: Readonly<Record<DnsRecordType, readonly (keyof DnsResolver)[]>> = Object.freeze({
  A: ['resolve4'],
  AAAA: ['resolve6'],
  'A+AAAA': ['resolve4', 'resolve6'],
  SRV: ['resolveSrv', 'resolve4', 'resolve6'],
});

/**
 * A discovery backend that reads candidates from DNS.
 *
 * Outcomes of `resolve`: the deduped candidates (possibly `[]` for NXDOMAIN or no records), or a
 * rejection with `TIMEOUT`, `ABORTED` or `UNAVAILABLE` (see the module header).
 *
 * @throws CohortError `INVALID_OPTION` for a bad name, type, port, timeout, resolver or an unknown option.
 * @example
 * // a headless Kubernetes service: every pod's address, port 4369
 * const discovery = dnsDiscovery({ name: 'cohort.default.svc.cluster.local', port: 4369 });
 * // SRV records carry the ports
 * const srv = dnsDiscovery({ name: '_cohort._tcp.example.com', type: 'SRV' });
 */
export function dnsDiscovery(options: DnsDiscoveryOptions): Discovery {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CohortError('INVALID_OPTION', `dns discovery needs an options object like { name, port }; got ${describe(options)}`);
  }
  checkKeys(options, OPTION_KEYS, 'dns discovery');
  const name = validateDnsName(options.name);
  const type = options.type ?? DNS_DEFAULTS.type;
  if (!(DNS_RECORD_TYPES as readonly unknown[]).includes(type)) {
    throw new CohortError(
      'INVALID_OPTION',
      `dns discovery: type ${describe(type)} is not supported; expected one of ${DNS_RECORD_TYPES.map((t) => `'${t}'`).join(', ')}`,
    );
  }
  let port = 0;
  if (type === 'SRV') {
    if (options.port !== undefined) {
      throw new CohortError('INVALID_OPTION', "dns discovery: 'port' is taken from the SRV records; remove the port option for type 'SRV'");
    }
  } else {
    try {
      port = validatePort(options.port);
    } catch (cause) {
      throw new CohortError('INVALID_OPTION', `dns discovery: type '${type}' needs a port: ${reason(cause)}`, { cause });
    }
  }
  const timeoutMs = options.timeoutMs ?? DNS_DEFAULTS.timeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CohortError('INVALID_OPTION', `dns discovery: timeoutMs must be a finite number of milliseconds > 0; got ${describe(timeoutMs)}`);
  }
  const owned = options.resolver === undefined;
  const resolver: DnsResolver & { cancel?(): void } = options.resolver ?? new dnsPromises.Resolver();
  const needed = RESOLVER_METHODS[type];
  const missing = needed.filter((method) => typeof (resolver as unknown as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) {
    throw new CohortError(
      'INVALID_OPTION',
      `dns discovery: the resolver lacks ${missing.join(', ')}; type '${type}' needs ${needed.join(', ')}`,
    );
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const what = `dns discovery of ${type} ${name}`;
  const lookup = new Lookup(resolver, logger, name, type);
  let inFlight = 0;

  const resolve = (signal?: AbortSignal): Promise<PeerAddress[]> =>
    new Promise<PeerAddress[]>((done, fail) => {
      throwIfAborted(signal, what);
      inFlight++;
      let settled = false;
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        inFlight--;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      // Stop our own resolver's queries, but not while another resolve of ours still needs them.
      const cancelQueries = (): void => {
        if (owned && inFlight === 1) resolver.cancel?.();
      };
      const timer = clock.setTimeout(() => {
        cancelQueries();
        const details = { discovery: 'dns', query: name, type, timeoutMs };
        finish(() => fail(new CohortError('TIMEOUT', `${what} got no answer within ${timeoutMs} ms`, { details })));
      }, timeoutMs);
      const onAbort = (): void => {
        cancelQueries();
        finish(() => fail(abortedError(signal!, what)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const work = type === 'SRV' ? lookup.srv() : lookup.addresses(name, type, port);
      work.then(
        (found) => finish(() => done(dedupe(found))),
        (error: unknown) => finish(() => fail(error)),
      );
    });

  return Object.freeze({ name: 'dns', resolve });
}

/** The queries of one backend. Every method maps NXDOMAIN/ENODATA to `[]` and other errors to a `CohortError`. */
class Lookup {
  readonly #resolver: DnsResolver;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #type: DnsRecordType;

  constructor(resolver: DnsResolver, logger: Logger, name: string, type: DnsRecordType) {
    this.#resolver = resolver;
    this.#logger = logger;
    this.#name = name;
    this.#type = type;
  }

  /** Candidates from the A and/or AAAA records of `host`, all on `port`. */
  async addresses(host: string, type: 'A' | 'AAAA' | 'A+AAAA', port: number): Promise<PeerAddress[]> {
    const ips = await this.#ips(host, type);
    return ips.map((ip) => Object.freeze({ host: ip, port }));
  }

  /** Candidates from SRV records, targets resolved to addresses (or kept as names, see the header). */
  async srv(): Promise<PeerAddress[]> {
    const records = await this.#query('SRV', this.#name, () => this.#resolver.resolveSrv(this.#name));
    const usable: SrvRecord[] = [];
    for (const record of records) {
      const target = typeof record?.name === 'string' ? record.name.replace(/\.$/, '') : '';
      if (target === '' || target === '.') continue; // RFC 2782: no service at this name
      try {
        validateHost(target);
        validatePort(record.port);
        usable.push({ ...record, name: target });
      } catch (error) {
        this.#logger.warn('dns discovery: skipped an SRV record', { query: this.#name, record: describe(record), error: reason(error) });
      }
    }
    usable.sort((a, b) => num(a.priority) - num(b.priority) || num(b.weight) - num(a.weight));
    const targets = [...new Set(usable.map((r) => r.name))];
    const resolved = new Map<string, string[]>();
    await Promise.all(
      targets.map(async (target) => {
        if (isIP(target) !== 0) {
          resolved.set(target, [target]);
          return;
        }
        try {
          resolved.set(target, await this.#ips(target, 'A+AAAA'));
        } catch (error) {
          this.#logger.debug('dns discovery: SRV target did not resolve; keeping its name', { query: this.#name, target, error: reason(error) });
          resolved.set(target, []);
        }
      }),
    );
    return usable.flatMap((record) => {
      const ips = resolved.get(record.name) ?? [];
      const hosts = ips.length > 0 ? ips : [record.name];
      return hosts.map((host) => Object.freeze({ host, port: record.port }));
    });
  }

  /** IP addresses of `host`; for `A+AAAA`, partial answers win over partial failures. */
  async #ips(host: string, type: 'A' | 'AAAA' | 'A+AAAA'): Promise<string[]> {
    if (type === 'A') return this.#query('A', host, () => this.#resolver.resolve4(host));
    if (type === 'AAAA') return this.#query('AAAA', host, () => this.#resolver.resolve6(host));
    const [v4, v6] = await Promise.allSettled([
      this.#query('A', host, () => this.#resolver.resolve4(host)),
      this.#query('AAAA', host, () => this.#resolver.resolve6(host)),
    ]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    const failures = [v4, v6].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    if (failures.length === 0) return found;
    if (found.length === 0) throw failures[0];
    for (const failure of failures) {
      this.#logger.warn('dns discovery: one lookup failed; using the addresses the other found', { query: host, error: reason(failure) });
    }
    return found;
  }

  /** Runs one query; NXDOMAIN/ENODATA → `[]`, other failures → `CohortError`; checks the answer's shape. */
  async #query<T>(rrtype: 'A' | 'AAAA' | 'SRV', host: string, run: () => Promise<T[]>): Promise<T[]> {
    let answer: unknown;
    try {
      answer = await run();
    } catch (error) {
      const code = dnsCode(error);
      if (code !== undefined && EMPTY_CODES.has(code)) return [];
      throw queryError(error, code, rrtype, host, this.#type);
    }
    if (!Array.isArray(answer)) {
      throw new CohortError('UNAVAILABLE', `dns discovery: the resolver answered the ${rrtype} query for ${host} with ${describe(answer)}, not an array`, {
        details: { discovery: 'dns', reason: 'DISCOVERY_FAILED', query: host, rrtype },
      });
    }
    if (rrtype === 'SRV') return answer as T[];
    const family = rrtype === 'A' ? 4 : 6;
    return answer.filter((ip: unknown) => {
      if (typeof ip === 'string' && isIP(ip) === family) return true;
      this.#logger.warn(`dns discovery: skipped an ${rrtype} answer that is not an IPv${family} address`, { query: host, answer: describe(ip) });
      return false;
    }) as T[];
  }
}

function queryError(error: unknown, code: string | undefined, rrtype: string, host: string, type: DnsRecordType): CohortError {
  if (isCohortError(error)) return error;
  const details = { discovery: 'dns', reason: 'DISCOVERY_FAILED', query: host, rrtype, type, dnsCode: code ?? null };
  if (code === 'ETIMEOUT') {
    return new CohortError('TIMEOUT', `dns discovery: the ${rrtype} query for ${host} timed out in the resolver`, { cause: error, details });
  }
  return new CohortError('UNAVAILABLE', `dns discovery: the ${rrtype} query for ${host} failed: ${reason(error)}`, { cause: error, details });
}

function dnsCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Checks a name to query: labels of letters, digits, `-` and `_` (SRV names start with `_`); a final `.` is dropped. */
function validateDnsName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.replace(/\.$/, '') : name;
  if (typeof trimmed === 'string' && trimmed.length > 0 && trimmed.length <= 253) {
    if (trimmed.split('.').every((label) => LABEL_RE.test(label))) return trimmed;
  }
  throw new CohortError(
    'INVALID_OPTION',
    `dns discovery: name ${describe(name)} is not a DNS name; expected labels of letters, digits, '-' and '_' ` +
      "separated by dots, like 'cohort.default.svc.cluster.local' or '_cohort._tcp.example.com'",
  );
}
