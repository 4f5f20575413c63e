import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CohortError } from '../../src/core/errors.js';
import {
  firstRequestId,
  formatNodeId,
  formatPid,
  isNodeId,
  isPid,
  makePid,
  parseNodeId,
  parsePid,
  pidKey,
  samePid,
  validateHost,
  validateNodeName,
  validatePort,
} from '../../src/core/ids.js';
import { thrown } from '../helpers/errors.js';

/** Runs `fn` and returns the CohortError it throws (failing the test when it throws nothing else). */
const nameArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
const hostArb = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
const portArb = fc.integer({ min: 1, max: 65535 });
const nodeIdArb = fc.record({ name: nameArb, host: hostArb, port: portArb }).map(formatNodeId);

describe('parseNodeId', () => {
  it.each([
    ['a@127.0.0.1:1', { name: 'a', host: '127.0.0.1', port: 1 }],
    ['app-1.x_y@host.example.com:65535', { name: 'app-1.x_y', host: 'host.example.com', port: 65535 }],
    ['n@[::1]:4369', { name: 'n', host: '::1', port: 4369 }],
    ['n@[fe80::1]:1', { name: 'n', host: 'fe80::1', port: 1 }],
    ['9lives@localhost:80', { name: '9lives', host: 'localhost', port: 80 }],
  ])('parseNodeId — accepts %s', (id, expected) => {
    const parsed = parseNodeId(id);
    expect(parsed).toEqual(expected);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(isNodeId(id)).toBe(true);
  });

  it('parseNodeId — accepts a 64-character name and refuses 65', () => {
    expect(parseNodeId(`${'a'.repeat(64)}@h:1`).name).toHaveLength(64);
    expect(thrown(() => parseNodeId(`${'a'.repeat(65)}@h:1`)).message).toMatch(/node name/);
  });

  it.each([
    ['missing @', 'app1-127.0.0.1:4369', /missing '@'/],
    ['empty name', '@127.0.0.1:4369', /invalid node name ""/],
    ['name with spaces', 'my app@127.0.0.1:4369', /invalid node name "my app"/],
    ['name starting with -', '-app@127.0.0.1:4369', /invalid node name "-app"/],
    ['name starting with .', '.app@127.0.0.1:4369', /invalid node name/],
    ['name with a slash', 'a/b@127.0.0.1:4369', /invalid node name/],
    ['unbracketed IPv6', 'n@::1:4369', /IPv6 host must be written in brackets/],
    ['unbracketed full IPv6', 'n@fe80:0:0:0:0:0:0:1:4369', /IPv6 host must be written in brackets/],
    ['unclosed bracket', 'n@[::1:4369', /brackets followed by a port/],
    ['bracket without port colon', 'n@[::1]4369', /brackets followed by a port/],
    ['bracket without port', 'n@[::1]', /brackets followed by a port/],
    ['IPv4 in brackets', 'n@[127.0.0.1]:1', /"127.0.0.1" in brackets is not an IPv6 address/],
    ['name in brackets', 'n@[localhost]:1', /is not an IPv6 address/],
    ['port 0', 'n@h:0', /port/],
    ['port 65536', 'n@h:65536', /invalid port 65536/],
    ['port 99999', 'n@h:99999', /invalid port 99999/],
    ['port +1', 'n@h:+1', /port "\+1"/],
    ['port 1.5', 'n@h:1.5', /port "1.5"/],
    ['port with leading zero', 'n@h:080', /port "080"/],
    ['port -1', 'n@h:-1', /port "-1"/],
    ['empty port', 'n@h:', /port ""/],
    ['bracketed empty port', 'n@[::1]:', /port ""/],
    ['missing port', 'n@host.example.com', /missing ':port'/],
    ['empty host', 'n@:1', /invalid host ""/],
    ['host label starting with -', 'n@-bad.example.com:1', /invalid host "-bad.example.com"/],
    ['host label ending with -', 'n@bad-.example.com:1', /invalid host/],
    ['empty host label', 'n@a..b:1', /invalid host "a..b"/],
    ['trailing dot', 'n@example.com.:1', /invalid host/],
    ['underscore in host', 'n@under_score.com:1', /invalid host/],
    ['host label over 63', `n@${'a'.repeat(64)}.com:1`, /invalid host/],
    ['host over 253', `n@${Array.from({ length: 64 }, () => 'abc').join('.')}:1`, /invalid host/],
    ['all-digit host', 'n@999.1.1.1:1', /invalid host "999.1.1.1"/],
    ['numeric host', 'n@12345:1', /invalid host "12345"/],
  ])('parseNodeId — refuses %s with INVALID_NODE_ID naming the part', (_label, id, message) => {
    const e = thrown(() => parseNodeId(id));
    expect(e.code).toBe('INVALID_NODE_ID');
    expect(e.message).toMatch(message);
    expect(isNodeId(id)).toBe(false);
  });

  it.each([[undefined], [null], [42], [{}]])('parseNodeId — refuses the non-string %j', (value) => {
    const e = thrown(() => parseNodeId(value));
    expect(e.code).toBe('INVALID_NODE_ID');
    expect(e.message).toMatch(/must be a string/);
  });

  it('formatNodeId/parseNodeId — round trip, with IPv6 hosts in brackets', () => {
    expect(formatNodeId({ name: 'n', host: '::1', port: 4369 })).toBe('n@[::1]:4369');
    expect(formatNodeId({ name: 'n', host: '10.0.0.2', port: 1 })).toBe('n@10.0.0.2:1');
    fc.assert(
      fc.property(nameArb, hostArb, portArb, (name, host, port) => {
        const id = formatNodeId({ name, host, port });
        expect(parseNodeId(id)).toEqual({ name, host, port });
        expect(formatNodeId(parseNodeId(id))).toBe(id);
        expect(id.includes(`[${host}]`)).toBe(host.includes(':'));
      }),
      { numRuns: 300 },
    );
  });

  it('formatNodeId — refuses bad parts with INVALID_NODE_ID', () => {
    expect(thrown(() => formatNodeId({ name: 'bad name', host: 'h', port: 1 })).code).toBe('INVALID_NODE_ID');
    expect(thrown(() => formatNodeId({ name: 'n', host: 'bad_host', port: 1 })).message).toMatch(/invalid host/);
    expect(thrown(() => formatNodeId({ name: 'n', host: 'h', port: 0 })).message).toMatch(/invalid port 0/);
  });

  it('parseNodeId — never throws anything but INVALID_NODE_ID (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `a@${s}`), fc.string().map((s) => `a@h:${s}`)), (text) => {
        try {
          parseNodeId(text);
        } catch (error) {
          expect(error).toBeInstanceOf(CohortError);
          expect((error as CohortError).code).toBe('INVALID_NODE_ID');
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('validators', () => {
  it('validateNodeName — returns a valid name, refuses non-strings', () => {
    expect(validateNodeName('ok_1')).toBe('ok_1');
    expect(thrown(() => validateNodeName(5)).code).toBe('INVALID_NODE_ID');
  });

  it('validateHost — accepts IPv4, IPv6 without brackets and DNS names', () => {
    expect(validateHost('127.0.0.1')).toBe('127.0.0.1');
    expect(validateHost('::1')).toBe('::1');
    expect(validateHost('my-host.example.com')).toBe('my-host.example.com');
    expect(thrown(() => validateHost('[::1]')).message).toMatch(/invalid host/);
  });

  it('validatePort — 1..65535, or 0 with allowZero', () => {
    expect(validatePort(1)).toBe(1);
    expect(validatePort(65535)).toBe(65535);
    expect(validatePort(0, true)).toBe(0);
    expect(thrown(() => validatePort(0)).message).toMatch(/from 1 to 65535/);
    expect(thrown(() => validatePort(1.5)).code).toBe('INVALID_NODE_ID');
    expect(thrown(() => validatePort('80')).message).toMatch(/invalid port "80"/);
    expect(thrown(() => validatePort(-1, true)).message).toMatch(/from 0 to 65535/);
  });
});

describe('pids', () => {
  it('formatPid — prints <node#incarnation-base36.id>', () => {
    const pid = makePid('app1@127.0.0.1:4369', 1_000_000, 7);
    expect(formatPid(pid)).toBe('<app1@127.0.0.1:4369#lfls.7>');
    expect(pidKey(pid)).toBe('app1@127.0.0.1:4369#lfls.7');
    expect(Object.isFrozen(pid)).toBe(true);
  });

  it('formatPid/parsePid — round trip (property)', () => {
    fc.assert(
      fc.property(nodeIdArb, fc.maxSafeNat(), fc.maxSafeNat(), (node, incarnation, id) => {
        const pid = makePid(node, incarnation, id);
        const back = parsePid(formatPid(pid));
        expect(back).toEqual(pid);
        expect(samePid(back, pid)).toBe(true);
        expect(isPid(back)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('parsePid — round trips a pid on an IPv6 node', () => {
    const pid = makePid('n@[::1]:4369', 3, 9);
    expect(parsePid(formatPid(pid))).toEqual(pid);
  });

  it('isPid — accepts pid-shaped data, refuses anything else', () => {
    expect(isPid(makePid('a@h:1', 0, 0))).toBe(true);
    expect(isPid({ node: 'a@h:1', incarnation: 1, id: 2 })).toBe(true);
    expect(isPid(null)).toBe(false);
    expect(isPid('<a@h:1#1.2>')).toBe(false);
    expect(isPid({ node: 'a@h:1', incarnation: 1 })).toBe(false);
    expect(isPid({ node: 1, incarnation: 1, id: 2 })).toBe(false);
    expect(isPid({ node: 'a@h:1', incarnation: -1, id: 2 })).toBe(false);
    expect(isPid({ node: 'a@h:1', incarnation: 1, id: 1.5 })).toBe(false);
    expect(isPid({ node: 'a@h:1', incarnation: 2 ** 53, id: 1 })).toBe(false);
    expect(isPid({ node: 'a@h:1', incarnation: '1', id: 2 })).toBe(false);
  });

  it('samePid — compares node, incarnation and id', () => {
    const a = makePid('a@h:1', 5, 1);
    expect(samePid(a, makePid('a@h:1', 5, 1))).toBe(true);
    expect(samePid(a, makePid('a@h:1', 6, 1))).toBe(false); // a later run of the same node
    expect(samePid(a, makePid('a@h:1', 5, 2))).toBe(false);
    expect(samePid(a, makePid('b@h:1', 5, 1))).toBe(false);
  });

  it.each([
    ['a number', 42, /not in angle brackets/],
    ['no brackets', 'a@h:1#1.2', /not in angle brackets/],
    ['only an opening bracket', '<a@h:1#1.2', /not in angle brackets/],
    ['missing #', '<a@h:1.2>', /missing '#'/],
    ['bad node id', '<nonsense#1.2>', /bad node id/],
    ['empty incarnation', '<a@h:1#.2>', /bad incarnation or id/],
    ['uppercase incarnation', '<a@h:1#A.2>', /bad incarnation or id/],
    ['missing id', '<a@h:1#1>', /bad incarnation or id/],
    ['negative id', '<a@h:1#1.-2>', /bad incarnation or id/],
    ['id with letters', '<a@h:1#1.2a>', /bad incarnation or id/],
    ['incarnation beyond safe integers', '<a@h:1#zzzzzzzzzzz.1>', /out of range/],
    ['id beyond safe integers', '<a@h:1#1.9999999999999999>', /out of range/],
  ])('parsePid — refuses %s with INVALID_PID', (_label, text, message) => {
    const e = thrown(() => parsePid(text));
    expect(e.code).toBe('INVALID_PID');
    expect(e.message).toMatch(message);
  });

  it('parsePid — a bad node id keeps the node error as its cause', () => {
    const e = thrown(() => parsePid('<a@h:0#1.2>'));
    expect(e.code).toBe('INVALID_PID');
    expect((e.cause as CohortError).code).toBe('INVALID_NODE_ID');
  });
});

describe('firstRequestId', () => {
  it('is a non-negative integer below 2^31, and differs from run to run', () => {
    const ids = Array.from({ length: 1_000 }, () => firstRequestId());
    for (const id of ids) {
      expect(Number.isSafeInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(2 ** 31);
    }
    // Two runs starting at the same id would be the collision it exists to avoid.
    expect(new Set(ids).size).toBeGreaterThan(990);
  });
});
