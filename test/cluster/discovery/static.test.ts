import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../src/core/errors.js';
import { staticDiscovery } from '../../../src/cluster/discovery/static.js';
import { thrown } from '../../helpers/errors.js';

describe('staticDiscovery', () => {
  it('static — resolves strings and objects, mixed, in the given order', async () => {
    const discovery = staticDiscovery(['app2@10.0.0.2:4369', '10.0.0.3:4369', { host: '::1', port: 7 }, '[fd00::4]:4369']);
    expect(discovery.name).toBe('static');
    expect(await discovery.resolve()).toEqual([
      { name: 'app2', host: '10.0.0.2', port: 4369 },
      { host: '10.0.0.3', port: 4369 },
      { host: '::1', port: 7 },
      { host: 'fd00::4', port: 4369 },
    ]);
  });

  it('static — dedupes, and gives a fresh array each time', async () => {
    const discovery = staticDiscovery(['10.0.0.1:1', 'a@10.0.0.1:1', '10.0.0.1:1']);
    const first = await discovery.resolve();
    expect(first).toEqual([{ host: '10.0.0.1', port: 1, name: 'a' }]);
    first.length = 0;
    expect(await discovery.resolve()).toHaveLength(1);
  });

  it('static — an empty list is allowed and resolves to []', async () => {
    expect(await staticDiscovery([]).resolve()).toEqual([]);
  });

  it('static — a bad seed fails at construction, naming its index', () => {
    const error = thrown(() => staticDiscovery(['10.0.0.1:1', '10.0.0.2']));
    expect(error.code).toBe('INVALID_NODE_ID');
    expect(error.message).toMatch(/^static discovery: seed 1: invalid peer address "10.0.0.2": missing ':port'/);
    expect(error.details).toMatchObject({ index: 1 });
    expect(error.cause).toBeInstanceOf(CohortError);
  });

  it('static — a seed of the wrong type is INVALID_OPTION', () => {
    const error = thrown(() => staticDiscovery(['10.0.0.1:1', 42 as unknown as string]));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/^static discovery: seed 1: a peer address must be a string/);
  });

  it.each([['10.0.0.1:1'], [undefined], [{ seeds: [] }]])('static — refuses %j instead of an array', (seeds) => {
    const error = thrown(() => staticDiscovery(seeds as unknown as string[]));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toMatch(/needs an array of seed addresses/);
  });

  it('static — an aborted signal rejects with ABORTED, and there is no watch', async () => {
    const discovery = staticDiscovery(['10.0.0.1:1']);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(discovery.resolve(controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(discovery.watch).toBeUndefined();
  });
});
