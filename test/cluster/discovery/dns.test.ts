import { describe, expect, it } from 'vitest';
import type { SrvRecord } from 'node:dns';
import { ManualClock } from '../../../src/core/clock.js';
import { CohortError } from '../../../src/core/errors.js';
import { dnsDiscovery, type DnsDiscoveryOptions, type DnsResolver } from '../../../src/cluster/discovery/dns.js';
import { rejection, thrown } from '../../helpers/errors.js';
import { recordingLogger } from '../../helpers/logger.js';

/** A DNS error shaped like the ones `dns.promises` rejects with. */
function dnsError(code: string, query: string): Error {
  return Object.assign(new Error(`query ${code} ${query}`), { code, hostname: query });
}

/** One answer of the fake: records, an error to reject with, or 'hang' (never answers). */
type Answer<T> = readonly T[] | Error | 'hang';

interface FakeZone {
  A?: Record<string, Answer<string>>;
  AAAA?: Record<string, Answer<string>>;
  SRV?: Record<string, Answer<SrvRecord>>;
}

/** A resolver that answers from `zone`; a name not in it is NXDOMAIN (ENOTFOUND). Logs every query. */
function fakeResolver(zone: FakeZone): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const answer = <T>(rrtype: keyof FakeZone, table: Record<string, Answer<T>> | undefined, host: string): Promise<T[]> => {
    queries.push(`${rrtype} ${host}`);
    const a = table?.[host];
    if (a === undefined) return Promise.reject(dnsError('ENOTFOUND', host));
    if (a === 'hang') return new Promise<T[]>(() => {});
    if (a instanceof Error) return Promise.reject(a);
    return Promise.resolve([...a]);
  };
  return {
    queries,
    resolve4: (host) => answer('A', zone.A, host),
    resolve6: (host) => answer('AAAA', zone.AAAA, host),
    resolveSrv: (host) => answer('SRV', zone.SRV, host),
  };
}

const srv = (name: string, port: number, priority = 10, weight = 10): SrvRecord => ({ name, port, priority, weight });

describe('dnsDiscovery', () => {
  it('dns — A: one candidate per IPv4 address, on the configured port', async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1', '10.0.0.2'] } });
    const discovery = dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 4369, resolver });
    expect(discovery.name).toBe('dns');
    expect(await discovery.resolve()).toEqual([
      { host: '10.0.0.1', port: 4369 },
      { host: '10.0.0.2', port: 4369 },
    ]);
    expect(resolver.queries).toEqual(['A cohort.svc']);
    expect(discovery.watch).toBeUndefined();
  });

  it('dns — AAAA: one candidate per IPv6 address', async () => {
    const resolver = fakeResolver({ AAAA: { 'cohort.svc': ['fd00::1', 'fd00::2'] } });
    const discovery = dnsDiscovery({ name: 'cohort.svc', type: 'AAAA', port: 7, resolver });
    expect(await discovery.resolve()).toEqual([
      { host: 'fd00::1', port: 7 },
      { host: 'fd00::2', port: 7 },
    ]);
    expect(resolver.queries).toEqual(['AAAA cohort.svc']);
  });

  it('dns — A+AAAA is the default and returns both families, IPv4 first, deduped', async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1', '10.0.0.1'] }, AAAA: { 'cohort.svc': ['fd00::1', 'FD00:0::1'] } });
    const discovery = dnsDiscovery({ name: 'cohort.svc', port: 4369, resolver });
    expect(await discovery.resolve()).toEqual([
      { host: '10.0.0.1', port: 4369 },
      { host: 'fd00::1', port: 4369 },
    ]);
    expect(resolver.queries.sort()).toEqual(['A cohort.svc', 'AAAA cohort.svc']);
  });

  it('dns — A+AAAA: a name with only A records (AAAA is ENODATA) gives the A addresses', async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1'] }, AAAA: { 'cohort.svc': dnsError('ENODATA', 'cohort.svc') } });
    expect(await dnsDiscovery({ name: 'cohort.svc', port: 1, resolver }).resolve()).toEqual([{ host: '10.0.0.1', port: 1 }]);
  });

  it('dns — A+AAAA: when one lookup fails and the other finds addresses, those are returned and the failure logged', async () => {
    const logger = recordingLogger();
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1'] }, AAAA: { 'cohort.svc': dnsError('ESERVFAIL', 'cohort.svc') } });
    expect(await dnsDiscovery({ name: 'cohort.svc', port: 1, resolver, logger }).resolve()).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/one lookup failed/) })]);
  });

  it('dns — A+AAAA: when a lookup fails and nothing is found, the call rejects instead of answering []', async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': dnsError('ENODATA', 'x') }, AAAA: { 'cohort.svc': dnsError('ESERVFAIL', 'cohort.svc') } });
    const error = await rejection(dnsDiscovery({ name: 'cohort.svc', port: 1, resolver }).resolve());
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.details).toMatchObject({ reason: 'DISCOVERY_FAILED', rrtype: 'AAAA', dnsCode: 'ESERVFAIL' });
  });

  it('dns — SRV: ports from the records, targets resolved to their A and AAAA addresses, ordered by priority then weight', async () => {
    const resolver = fakeResolver({
      SRV: {
        '_cohort._tcp.example.com': [
          srv('b.example.com', 5000, 20, 5),
          srv('a.example.com', 4369, 10, 1),
          srv('c.example.com', 4370, 10, 50),
        ],
      },
      A: { 'a.example.com': ['10.0.0.1'], 'b.example.com': ['10.0.0.2'], 'c.example.com': ['10.0.0.3'] },
      AAAA: { 'a.example.com': ['fd00::1'] },
    });
    const discovery = dnsDiscovery({ name: '_cohort._tcp.example.com', type: 'SRV', resolver });
    expect(await discovery.resolve()).toEqual([
      { host: '10.0.0.3', port: 4370 },
      { host: '10.0.0.1', port: 4369 },
      { host: 'fd00::1', port: 4369 },
      { host: '10.0.0.2', port: 5000 },
    ]);
    expect(resolver.queries).toContain('A a.example.com');
    expect(resolver.queries).toContain('AAAA a.example.com');
  });

  it('dns — SRV: a target that does not resolve is kept by name; a target of "." is dropped', async () => {
    const logger = recordingLogger();
    const resolver = fakeResolver({
      SRV: {
        '_cohort._tcp.example.com': [
          srv('gone.example.com.', 4369),
          srv('broken.example.com', 4370),
          srv('.', 4371),
          srv('ok.example.com', 4372),
          srv('10.0.0.9', 4373),
        ],
      },
      A: { 'broken.example.com': dnsError('ESERVFAIL', 'broken.example.com'), 'ok.example.com': ['10.0.0.5'] },
    });
    const discovery = dnsDiscovery({ name: '_cohort._tcp.example.com', type: 'SRV', resolver, logger });
    expect(await discovery.resolve()).toEqual([
      { host: 'gone.example.com', port: 4369 },
      { host: 'broken.example.com', port: 4370 },
      { host: '10.0.0.5', port: 4372 },
      { host: '10.0.0.9', port: 4373 },
    ]);
    expect(resolver.queries).not.toContain('A 10.0.0.9');
  });

  it('dns — SRV: records with an invalid target or port are skipped and logged', async () => {
    const logger = recordingLogger();
    const resolver = fakeResolver({
      SRV: { '_c._tcp.x': [srv('bad host', 1), srv('ok.x', 0), srv('ok.x', 2)] },
      A: { 'ok.x': ['10.0.0.1'] },
    });
    expect(await dnsDiscovery({ name: '_c._tcp.x', type: 'SRV', resolver, logger }).resolve()).toEqual([{ host: '10.0.0.1', port: 2 }]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it.each([
    ['A', { type: 'A', port: 1 }],
    ['AAAA', { type: 'AAAA', port: 1 }],
    ['A+AAAA', { port: 1 }],
    ['SRV', { type: 'SRV' }],
  ] as const)('dns — %s: NXDOMAIN is an empty list, not an error', async (_type, options) => {
    const resolver = fakeResolver({});
    expect(await dnsDiscovery({ name: 'nowhere.example', resolver, ...options }).resolve()).toEqual([]);
  });

  it('dns — ENODATA (the name exists, no records of the type) is an empty list', async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': dnsError('ENODATA', 'cohort.svc') } });
    expect(await dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver }).resolve()).toEqual([]);
  });

  it('dns — another failure rejects with a retryable UNAVAILABLE carrying the resolver error as cause', async () => {
    const cause = dnsError('ECONNREFUSED', 'cohort.svc');
    const resolver = fakeResolver({ A: { 'cohort.svc': cause } });
    const error = await rejection(dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver }).resolve());
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.message).toMatch(/the A query for cohort.svc failed/);
    expect(error.details).toMatchObject({ discovery: 'dns', reason: 'DISCOVERY_FAILED', query: 'cohort.svc', dnsCode: 'ECONNREFUSED' });
  });

  it('dns — an SRV query failure rejects (targets are not queried)', async () => {
    const resolver = fakeResolver({ SRV: { '_c._tcp.x': dnsError('EREFUSED', '_c._tcp.x') } });
    const error = await rejection(dnsDiscovery({ name: '_c._tcp.x', type: 'SRV', resolver }).resolve());
    expect(error.code).toBe('UNAVAILABLE');
    expect(resolver.queries).toEqual(['SRV _c._tcp.x']);
  });

  it("dns — the resolver's own ETIMEOUT becomes TIMEOUT", async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': dnsError('ETIMEOUT', 'cohort.svc') } });
    const error = await rejection(dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver }).resolve());
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
  });

  it('dns — no answer within timeoutMs rejects with TIMEOUT on the injected clock', async () => {
    const clock = new ManualClock();
    const resolver = fakeResolver({ A: { 'cohort.svc': 'hang' } });
    const discovery = dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver, clock, timeoutMs: 250 });
    let outcome: unknown = 'pending';
    void discovery.resolve().then(
      (value) => (outcome = value),
      (error: unknown) => (outcome = error),
    );
    await clock.advance(249);
    expect(outcome).toBe('pending');
    await clock.advance(1);
    expect(outcome).toBeInstanceOf(CohortError);
    expect(outcome).toMatchObject({ code: 'TIMEOUT', details: { query: 'cohort.svc', timeoutMs: 250 } });
    expect(clock.pending()).toBe(0);
  });

  it('dns — the timeout covers SRV target lookups too', async () => {
    const clock = new ManualClock();
    const resolver = fakeResolver({ SRV: { '_c._tcp.x': [srv('slow.x', 1)] }, A: { 'slow.x': 'hang' } });
    const pending = dnsDiscovery({ name: '_c._tcp.x', type: 'SRV', resolver, clock, timeoutMs: 100 }).resolve();
    const outcome = rejection(pending);
    await clock.advance(100);
    expect((await outcome).code).toBe('TIMEOUT');
  });

  it('dns — an answer in time cancels the timer', async () => {
    const clock = new ManualClock();
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1'] } });
    await dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver, clock }).resolve();
    expect(clock.pending()).toBe(0);
  });

  it('dns — an aborted signal rejects with ABORTED, before or during the query', async () => {
    const clock = new ManualClock();
    const resolver = fakeResolver({ A: { 'cohort.svc': 'hang' } });
    const discovery = dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver, clock });
    const before = new AbortController();
    before.abort();
    expect((await rejection(discovery.resolve(before.signal))).code).toBe('ABORTED');
    expect(resolver.queries).toEqual([]);
    const during = new AbortController();
    const outcome = rejection(discovery.resolve(during.signal));
    during.abort(new Error('shutting down'));
    const error = await outcome;
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toEqual(new Error('shutting down'));
    expect(clock.pending()).toBe(0);
  });

  it('dns — each instance asks its own injected resolver', async () => {
    const one = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1'] } });
    const two = fakeResolver({ A: { 'cohort.svc': ['10.0.0.2'] } });
    const a = dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver: one });
    const b = dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver: two });
    expect(await a.resolve()).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(await b.resolve()).toEqual([{ host: '10.0.0.2', port: 1 }]);
    expect(one.queries).toEqual(['A cohort.svc']);
    expect(two.queries).toEqual(['A cohort.svc']);
  });

  it('dns — a resolver answer that is not an IP of the family is skipped and logged; a non-array rejects', async () => {
    const logger = recordingLogger();
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1', 'fd00::1', 'nonsense'] } });
    expect(await dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver, logger }).resolve()).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
    const odd: DnsResolver = { ...resolver, resolve4: async () => 'oops' as unknown as string[] };
    const error = await rejection(dnsDiscovery({ name: 'cohort.svc', type: 'A', port: 1, resolver: odd }).resolve());
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toMatch(/not an array/);
  });

  it('dns — without a resolver, one is made per instance; construction asks nothing', async () => {
    const discovery = dnsDiscovery({ name: 'cohort.invalid', port: 1 });
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(discovery.resolve(controller.signal))).code).toBe('ABORTED');
  });

  it.each<[string, unknown, RegExp]>([
    ['no port for A', { name: 'x.svc', type: 'A' }, /type 'A' needs a port/],
    ['no port for the default A+AAAA', { name: 'x.svc' }, /type 'A\+AAAA' needs a port/],
    ['port 0', { name: 'x.svc', port: 0 }, /invalid port 0/],
    ['a port with SRV', { name: '_c._tcp.x', type: 'SRV', port: 1 }, /taken from the SRV records/],
    ['an unknown type', { name: 'x.svc', type: 'MX', port: 1 }, /type "MX" is not supported; expected one of 'A', 'AAAA', 'A\+AAAA', 'SRV'/],
    ['an empty name', { name: '', port: 1 }, /is not a DNS name/],
    ['a name with a space', { name: 'a b.svc', port: 1 }, /is not a DNS name/],
    ['a timeout of 0', { name: 'x.svc', port: 1, timeoutMs: 0 }, /timeoutMs must be/],
    ['an unknown option', { name: 'x.svc', port: 1, tiemoutMs: 5 }, /unknown option 'tiemoutMs'/],
    ['a resolver without resolve6', { name: 'x.svc', port: 1, resolver: { resolve4: async () => [] } }, /lacks resolve6/],
    ['no options object', undefined, /needs an options object/],
  ])('dns — refuses %s with INVALID_OPTION', (_label, options, why) => {
    const error = thrown(() => dnsDiscovery(options as DnsDiscoveryOptions));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(why);
  });

  it('dns — accepts a fully qualified name with a final dot', async () => {
    const resolver = fakeResolver({ A: { 'cohort.svc': ['10.0.0.1'] } });
    expect(await dnsDiscovery({ name: 'cohort.svc.', type: 'A', port: 1, resolver }).resolve()).toHaveLength(1);
  });
});
