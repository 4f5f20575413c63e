import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  dedupe,
  formatPeerAddress,
  isDiscovery,
  parsePeerAddress,
  toPeerAddress,
  type PeerAddress,
} from '../../../src/cluster/discovery/discovery.js';
import { thrown } from '../../helpers/errors.js';

/** Runs `fn` and returns the CohortError it throws (failing the test when it throws nothing else). */
describe('parsePeerAddress', () => {
  it.each([
    ['app2@10.0.0.2:4369', { name: 'app2', host: '10.0.0.2', port: 4369 }],
    ['a@[::1]:1', { name: 'a', host: '::1', port: 1 }],
    ['n@host.example.com:65535', { name: 'n', host: 'host.example.com', port: 65535 }],
    ['10.0.0.1:1', { host: '10.0.0.1', port: 1 }],
    ['localhost:4369', { host: 'localhost', port: 4369 }],
    ['db-1.internal:65535', { host: 'db-1.internal', port: 65535 }],
    ['[::1]:4369', { host: '::1', port: 4369 }],
    ['[fe80::1:2]:80', { host: 'fe80::1:2', port: 80 }],
  ])('parsePeerAddress — accepts %s', (text, expected) => {
    const parsed = parsePeerAddress(text);
    expect(parsed).toEqual(expected);
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it('parsePeerAddress — a plain host:port has no name key at all', () => {
    expect(Object.keys(parsePeerAddress('10.0.0.1:1')).sort()).toEqual(['host', 'port']);
  });

  it.each([
    ['missing port', '10.0.0.1', /missing ':port'/],
    ['host only', 'localhost', /missing ':port'/],
    ['unbracketed IPv6', '::1:4369', /IPv6 host must be written in brackets/],
    ['bracket without port', '[::1]', /must be followed by ':port'/],
    ['bracket without colon', '[::1]4369', /must be followed by ':port'/],
    ['unclosed bracket', '[::1:4369', /must be followed by ':port'/],
    ['IPv4 in brackets', '[10.0.0.1]:1', /"10.0.0.1" in brackets is not an IPv6 address/],
    ['name in brackets', '[localhost]:1', /is not an IPv6 address/],
    ['port 0', 'host:0', /port "0"/],
    ['port 65536', 'host:65536', /port "65536"/],
    ['leading zero', 'host:080', /port "080"/],
    ['signed port', 'host:+80', /port "\+80"/],
    ['fractional port', 'host:1.5', /port "1.5"/],
    ['empty port', 'host:', /port ""/],
    ['bracketed empty port', '[::1]:', /port ""/],
    ['empty host', ':4369', /invalid host ""/],
    ['host with a space', 'bad host:1', /invalid host "bad host"/],
    ['all-numeric non-IP host', '10.0.0:1', /invalid host "10.0.0"/],
    ['empty string', '', /missing ':port'/],
    ['URL', 'tcp://10.0.0.1:1', /a URL is not a peer address/],
  ])('parsePeerAddress — refuses %s with INVALID_NODE_ID saying what was expected', (_label, text, why) => {
    const error = thrown(() => parsePeerAddress(text));
    expect(error.code).toBe('INVALID_NODE_ID');
    expect(error.message).toMatch(why);
    expect(error.message).toContain("expected 'name@host:port', 'host:port' or '[ipv6]:port'");
  });

  it.each([
    ['no name', '@10.0.0.1:1', /invalid node name ""/],
    ['missing port', 'app@10.0.0.1', /missing ':port'/],
    ['unbracketed IPv6', 'app@::1:1', /IPv6 host must be written in brackets/],
    ['port 0', 'app@h:0', /port/],
  ])('parsePeerAddress — refuses a node id with %s via parseNodeId (INVALID_NODE_ID)', (_label, text, why) => {
    const error = thrown(() => parsePeerAddress(text));
    expect(error.code).toBe('INVALID_NODE_ID');
    expect(error.message).toMatch(why);
  });

  it.each([[4369], [null], [undefined], [{ host: 'h', port: 1 }], [['h:1']]])(
    'parsePeerAddress — refuses the non-string %j with INVALID_OPTION',
    (value) => {
      const error = thrown(() => parsePeerAddress(value));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(/must be a string, one of 'name@host:port', 'host:port' or '\[ipv6\]:port'/);
    },
  );

  it('parsePeerAddress — reads back what formatPeerAddress writes (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);
    const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
    const port = fc.integer({ min: 1, max: 65535 });
    const address = fc.record({ host, port, name: fc.option(name, { nil: undefined }) }).map((a) =>
      a.name === undefined ? { host: a.host, port: a.port } : a,
    );
    fc.assert(
      fc.property(address, (a) => {
        expect(parsePeerAddress(formatPeerAddress(a))).toEqual(a);
      }),
    );
  });
});

describe('toPeerAddress', () => {
  it('toPeerAddress — takes strings and { host, port, name? } objects, returning frozen copies', () => {
    const input = { host: '::1', port: 4369 };
    const out = toPeerAddress(input);
    expect(out).toEqual({ host: '::1', port: 4369 });
    expect(out).not.toBe(input);
    expect(Object.isFrozen(out)).toBe(true);
    expect(toPeerAddress({ host: 'h', port: 1, name: 'app' })).toEqual({ host: 'h', port: 1, name: 'app' });
    expect(toPeerAddress({ host: 'h', port: 1, name: undefined })).not.toHaveProperty('name');
    expect(toPeerAddress('a@h:2')).toEqual({ name: 'a', host: 'h', port: 2 });
  });

  it.each([
    ['bracketed IPv6 host', { host: '[::1]', port: 1 }, /invalid host "\[::1\]"/],
    ['port 0', { host: 'h', port: 0 }, /invalid port 0/],
    ['port as string', { host: 'h', port: '1' }, /invalid port "1"/],
    ['missing host', { port: 1 }, /invalid host undefined/],
    ['bad name', { host: 'h', port: 1, name: 'a b' }, /invalid node name "a b"/],
  ])('toPeerAddress — refuses an object with %s (INVALID_NODE_ID)', (_label, value, why) => {
    const error = thrown(() => toPeerAddress(value));
    expect(error.code).toBe('INVALID_NODE_ID');
    expect(error.message).toMatch(/^invalid peer address \{ host: /);
    expect(error.message).toMatch(why);
  });

  it.each([[42], [null], [[]], [true]])('toPeerAddress — refuses %j with INVALID_OPTION naming both forms', (value) => {
    const error = thrown(() => toPeerAddress(value));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/a string .* or an object \{ host, port, name\? \}/);
  });
});

describe('formatPeerAddress', () => {
  it('formatPeerAddress — writes name@host:port, host:port, and brackets IPv6', () => {
    expect(formatPeerAddress({ host: '10.0.0.1', port: 1, name: 'a' })).toBe('a@10.0.0.1:1');
    expect(formatPeerAddress({ host: 'h.example', port: 2 })).toBe('h.example:2');
    expect(formatPeerAddress({ host: '::1', port: 3 })).toBe('[::1]:3');
    expect(formatPeerAddress({ host: '::1', port: 3, name: 'b' })).toBe('b@[::1]:3');
  });
});

describe('dedupe', () => {
  const p = (text: string): PeerAddress => parsePeerAddress(text);

  it('dedupe — keeps the first of each host:port, in first-seen order', () => {
    const out = dedupe([p('10.0.0.2:1'), p('10.0.0.1:1'), p('10.0.0.2:1'), p('10.0.0.1:2'), p('10.0.0.1:1')]);
    expect(out.map(formatPeerAddress)).toEqual(['10.0.0.2:1', '10.0.0.1:1', '10.0.0.1:2']);
  });

  it('dedupe — compares DNS names case-insensitively and IPv6 hosts by value', () => {
    const out = dedupe([p('Host.Example:1'), p('host.example:1'), p('[::1]:5'), p('[0:0:0:0:0:0:0:1]:5'), p('[FE80::A]:5'), p('[fe80::a]:5')]);
    expect(out.map(formatPeerAddress)).toEqual(['Host.Example:1', '[::1]:5', '[FE80::A]:5']);
  });

  it('dedupe — an unnamed entry takes the name of a later duplicate, in its own place', () => {
    const out = dedupe([p('10.0.0.1:1'), p('10.0.0.9:9'), p('app@10.0.0.1:1')]);
    expect(out).toEqual([{ host: '10.0.0.1', port: 1, name: 'app' }, { host: '10.0.0.9', port: 9 }]);
    expect(Object.isFrozen(out[0])).toBe(true);
  });

  it('dedupe — two names for one address: the first wins', () => {
    expect(dedupe([p('a@10.0.0.1:1'), p('b@10.0.0.1:1'), p('10.0.0.1:1')])).toEqual([{ name: 'a', host: '10.0.0.1', port: 1 }]);
  });

  it('dedupe — keeps different hosts that may be the same machine, and returns a new array', () => {
    const input = [p('localhost:1'), p('127.0.0.1:1')];
    const out = dedupe(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(dedupe([])).toEqual([]);
  });
});

describe('isDiscovery', () => {
  it('isDiscovery — needs a non-empty string name, a resolve function and, if any, a watch function', () => {
    const resolve = async () => [];
    expect(isDiscovery({ name: 'x', resolve })).toBe(true);
    expect(isDiscovery({ name: 'x', resolve, watch: () => () => {} })).toBe(true);
    expect(isDiscovery({ name: '', resolve })).toBe(false);
    expect(isDiscovery({ name: 'x' })).toBe(false);
    expect(isDiscovery({ name: 'x', resolve, watch: 1 })).toBe(false);
    expect(isDiscovery(['x'])).toBe(false);
    expect(isDiscovery(null)).toBe(false);
  });
});
