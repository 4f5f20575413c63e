import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../src/core/errors.js';
import { customDiscovery, type CustomDiscoveryFn } from '../../../src/cluster/discovery/custom.js';
import type { PeerAddress, SkippedEntry } from '../../../src/cluster/discovery/discovery.js';
import { rejection, thrown } from '../../helpers/errors.js';
import { recordingLogger } from '../../helpers/logger.js';

describe('customDiscovery', () => {
  it('custom — a sync function returning strings and objects', async () => {
    const discovery = customDiscovery('inventory', () => ['app2@127.0.0.2:4369', { host: '::1', port: 7 }]);
    expect(discovery.name).toBe('inventory');
    expect(await discovery.resolve()).toEqual([
      { name: 'app2', host: '127.0.0.2', port: 4369 },
      { host: '::1', port: 7 },
    ]);
  });

  it('custom — an async function, called afresh on every resolve, with the caller signal', async () => {
    let round = 0;
    const signals: (AbortSignal | undefined)[] = [];
    const discovery = customDiscovery('consul', async (signal) => {
      signals.push(signal);
      round++;
      await Promise.resolve();
      return [`127.0.0.${round}:4369`];
    });
    const controller = new AbortController();
    expect(await discovery.resolve(controller.signal)).toEqual([{ host: '127.0.0.1', port: 4369 }]);
    expect(await discovery.resolve()).toEqual([{ host: '127.0.0.2', port: 4369 }]);
    expect(signals).toEqual([controller.signal, undefined]);
  });

  it('custom — bad entries are skipped and reported (logger and onInvalid), never thrown; the rest is deduped', async () => {
    const logger = recordingLogger();
    const skipped: SkippedEntry[] = [];
    const fn = (() => ['127.0.0.1:1', 'nonsense', 42, { host: 'h', port: 70000 }, null, 'a@127.0.0.1:1']) as unknown as CustomDiscoveryFn;
    const discovery = customDiscovery('registry', fn, { logger, onInvalid: (s) => skipped.push(s) });
    expect(await discovery.resolve()).toEqual([{ host: '127.0.0.1', port: 1, name: 'a' }]);
    expect(skipped.map((s) => [s.at, s.error.code])).toEqual([
      [1, 'INVALID_NODE_ID'],
      [2, 'INVALID_OPTION'],
      [3, 'INVALID_NODE_ID'],
      [4, 'INVALID_OPTION'],
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(4);
    expect(logger.lines[0]!.fields).toMatchObject({ discovery: 'registry', index: 1, entry: '"nonsense"' });
  });

  it('custom — an onInvalid that throws is logged and does not fail resolve', async () => {
    const logger = recordingLogger();
    const discovery = customDiscovery('x', () => ['bad', '127.0.0.1:1'], {
      logger,
      onInvalid: () => {
        throw new Error('oops');
      },
    });
    expect(await discovery.resolve()).toEqual([{ host: '127.0.0.1', port: 1 }]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/onInvalid threw/) }));
  });

  it('custom — a result that is not an array rejects with INVALID_OPTION', async () => {
    const discovery = customDiscovery('x', (() => ({ peers: [] })) as unknown as CustomDiscoveryFn);
    const error = await rejection(discovery.resolve());
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/returned an object; expected an array of addresses/);
  });

  it('custom — a thrown or rejected error becomes UNAVAILABLE with the cause; a CohortError passes through', async () => {
    const cause = new Error('connection refused');
    const sync = await rejection(
      customDiscovery('x', () => {
        throw cause;
      }).resolve(),
    );
    expect(sync).toMatchObject({ code: 'UNAVAILABLE', retryable: true, details: { discovery: 'x', reason: 'DISCOVERY_FAILED' } });
    expect(sync.cause).toBe(cause);
    const async = await rejection(customDiscovery('x', () => Promise.reject(cause)).resolve());
    expect(async.code).toBe('UNAVAILABLE');
    expect(async.message).toMatch(/custom discovery 'x' failed: connection refused/);
    const own = new CohortError('TIMEOUT', 'registry too slow');
    expect(await rejection(customDiscovery('x', () => Promise.reject(own)).resolve())).toBe(own);
  });

  it('custom — aborting rejects with ABORTED at once, even when the function ignores the signal', async () => {
    let called = 0;
    const discovery = customDiscovery('slow', () => {
      called++;
      return new Promise<PeerAddress[]>(() => {});
    });
    const controller = new AbortController();
    const outcome = rejection(discovery.resolve(controller.signal));
    controller.abort(new Error('stopping'));
    expect((await outcome).code).toBe('ABORTED');
    const before = new AbortController();
    before.abort();
    expect((await rejection(discovery.resolve(before.signal))).code).toBe('ABORTED');
    expect(called).toBe(1);
  });

  it('custom — a watch option becomes the backend watch; without it there is none', () => {
    let listener: (() => void) | undefined;
    let stopped = false;
    const discovery = customDiscovery('x', () => [], {
      watch: (onChange) => {
        listener = onChange;
        return () => (stopped = true);
      },
    });
    let changes = 0;
    const stop = discovery.watch!(() => changes++);
    listener!();
    expect(changes).toBe(1);
    stop();
    expect(stopped).toBe(true);
    expect(customDiscovery('y', () => []).watch).toBeUndefined();
  });

  it.each<[string, () => unknown, RegExp]>([
    ['an empty name', () => customDiscovery('', () => []), /needs a non-empty name/],
    ['no function', () => customDiscovery('x', ['127.0.0.1:1'] as unknown as CustomDiscoveryFn), /needs a function/],
    ['a non-function watch', () => customDiscovery('x', () => [], { watch: 5 as unknown as () => () => void }), /watch must be a function/],
    ['an unknown option', () => customDiscovery('x', () => [], { logr: 1 } as object), /unknown option 'logr'/],
  ])('custom — refuses %s with INVALID_OPTION', (_label, make, why) => {
    const error = thrown(make);
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(why);
  });
});
