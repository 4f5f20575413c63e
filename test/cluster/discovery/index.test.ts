import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../src/core/clock.js';
import * as discoveryModule from '../../../src/cluster/discovery/index.js';
import {
  customDiscovery,
  resolveDiscovery,
  type DiscoveryOption,
  type DnsResolver,
} from '../../../src/cluster/discovery/index.js';
import { thrown } from '../../helpers/errors.js';
import { recordingLogger } from '../../helpers/logger.js';

const hanging: DnsResolver = {
  resolve4: () => new Promise(() => {}),
  resolve6: () => new Promise(() => {}),
  resolveSrv: () => new Promise(() => {}),
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cohort-discovery-index-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveDiscovery', () => {
  it('discovery index — re-exports every backend and helper by name', () => {
    for (const name of [
      'staticDiscovery',
      'dnsDiscovery',
      'fileDiscovery',
      'customDiscovery',
      'parsePeerAddress',
      'toPeerAddress',
      'formatPeerAddress',
      'dedupe',
      'isDiscovery',
      'resolveDiscovery',
      'DNS_DEFAULTS',
      'FILE_DEFAULTS',
      'CUSTOM_DEFAULTS',
    ]) {
      expect(discoveryModule, name).toHaveProperty(name);
    }
    expect(Object.isFrozen(discoveryModule.DNS_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(discoveryModule.FILE_DEFAULTS)).toBe(true);
  });

  it('resolveDiscovery — a Discovery object is returned as it is', () => {
    const custom = customDiscovery('mine', () => []);
    expect(resolveDiscovery(custom)).toBe(custom);
    const handmade = { name: 'handmade', resolve: async () => [] };
    expect(resolveDiscovery(handmade)).toBe(handmade);
  });

  it('resolveDiscovery — an array of seeds becomes static discovery', async () => {
    const discovery = resolveDiscovery(['app2@10.0.0.2:4369', { host: '10.0.0.3', port: 1 }]);
    expect(discovery.name).toBe('static');
    expect(await discovery.resolve()).toEqual([
      { name: 'app2', host: '10.0.0.2', port: 4369 },
      { host: '10.0.0.3', port: 1 },
    ]);
  });

  it("resolveDiscovery — { type: 'static', seeds }", async () => {
    const discovery = resolveDiscovery({ type: 'static', seeds: ['10.0.0.1:1'] });
    expect(discovery.name).toBe('static');
    expect(await discovery.resolve()).toEqual([{ host: '10.0.0.1', port: 1 }]);
  });

  it("resolveDiscovery — { type: 'dns', recordType } builds DNS discovery with the record type", async () => {
    const resolver: DnsResolver = {
      ...hanging,
      resolveSrv: async () => [{ name: '10.0.0.7', port: 4369, priority: 0, weight: 0 }],
    };
    const discovery = resolveDiscovery({ type: 'dns', name: '_c._tcp.x', recordType: 'SRV', resolver });
    expect(discovery.name).toBe('dns');
    expect(await discovery.resolve()).toEqual([{ host: '10.0.0.7', port: 4369 }]);
  });

  it('resolveDiscovery — config objects take the clock and logger from the defaults', async () => {
    const clock = new ManualClock();
    const discovery = resolveDiscovery({ type: 'dns', name: 'x.svc', port: 1, resolver: hanging, timeoutMs: 50 }, { clock });
    const outcome = discovery.resolve().then(
      () => undefined,
      (e: unknown) => e,
    );
    await clock.advance(50);
    expect(await outcome).toMatchObject({ code: 'TIMEOUT' });

    const logger = recordingLogger();
    const path = join(dir, 'peers');
    await writeFile(path, 'bad line\n10.0.0.1:1\n');
    const file = resolveDiscovery({ type: 'file', path }, { logger, clock });
    expect(file.name).toBe('file');
    expect(await file.resolve()).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it("resolveDiscovery — a config's own clock and logger win over the defaults", async () => {
    const own = recordingLogger();
    const fallback = recordingLogger();
    const path = join(dir, 'peers');
    await writeFile(path, 'bad line\n');
    await resolveDiscovery({ type: 'file', path, logger: own }, { logger: fallback }).resolve();
    expect(own.lines).toHaveLength(1);
    expect(fallback.lines).toHaveLength(0);
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /invalid discovery option null; expected a Discovery object/],
    ['a number', 42, /invalid discovery option 42/],
    ['a single string', 'app2@10.0.0.2:4369', /invalid discovery option "app2@10.0.0.2:4369"/],
    ['an object without type', { seeds: [] }, /invalid discovery option an object/],
    ['a function', () => [], /invalid discovery option function/],
  ])('resolveDiscovery — refuses %s, listing the accepted forms', (_label, option, why) => {
    const error = thrown(() => resolveDiscovery(option as DiscoveryOption));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(why);
    expect(error.message).toContain('a Discovery object');
    expect(error.message).toContain('an array of seed addresses');
    expect(error.message).toContain("{ type: 'static', seeds }");
  });

  it('resolveDiscovery — refuses an unknown type, naming the known ones', () => {
    const error = thrown(() => resolveDiscovery({ type: 'consul' } as unknown as DiscoveryOption));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/unknown discovery type "consul"; expected one of 'static', 'dns', 'file'/);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['static without seeds', { type: 'static' }, 'INVALID_OPTION', /needs an array of seed addresses/],
    ['static with a stray key', { type: 'static', seeds: [], path: 'x' }, 'INVALID_OPTION', /unknown option\(s\) 'path'/],
    ['static with a bad seed', { type: 'static', seeds: ['nope'] }, 'INVALID_NODE_ID', /seed 0/],
    ['dns without a port', { type: 'dns', name: 'x.svc' }, 'INVALID_OPTION', /needs a port/],
    ['dns with a bad recordType', { type: 'dns', name: 'x.svc', recordType: 'TXT', port: 1 }, 'INVALID_OPTION', /type "TXT" is not supported/],
    ['file without a path', { type: 'file' }, 'INVALID_OPTION', /path must be a non-empty string/],
  ])('resolveDiscovery — passes on the backend error for %s', (_label, option, code, why) => {
    const error = thrown(() => resolveDiscovery(option as DiscoveryOption));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(why);
  });
});
