import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { channel, type ClusterPort } from '../../src/services/ports.js';

/** A port that records every send. */
function recordingPort(): { port: ClusterPort; sent: { to: string; type: string; lane: number | undefined }[] } {
  const sent: { to: string; type: string; lane: number | undefined }[] = [];
  const port: ClusterPort = {
    id: 'self@127.0.0.1:1',
    clock: systemClock,
    logger: silentLogger,
    send: (to, type, _body, lane) => void sent.push({ to, type, lane }),
    handle: () => () => {},
    peers: () => ['a@127.0.0.1:2', 'b@127.0.0.1:3'],
    onPeer: () => () => {},
  };
  return { port, sent };
}

describe('service channels', () => {
  it('channel — every message of one type goes on one lane (so a large snapshot is not overtaken by a later update), and each type has its own', () => {
    const { port, sent } = recordingPort();
    const registry = channel<{ type: string }>(port, 'test-registry', silentLogger, 'registry');
    const groups = channel<{ type: string }>(port, 'test-groups', silentLogger, 'groups');
    registry.send('a@127.0.0.1:2', { type: 'snapshot' });
    registry.broadcast({ type: 'register' });
    groups.broadcast({ type: 'join' });
    channel<{ type: string }>(port, 'test-registry', silentLogger, 'registry').send('b@127.0.0.1:3', { type: 'unregister' });
    const lanes = (type: string) => new Set(sent.filter((s) => s.type === type).map((s) => s.lane));
    expect(lanes('test-registry').size).toBe(1);
    expect(lanes('test-groups').size).toBe(1);
    const [r] = lanes('test-registry');
    const [g] = lanes('test-groups');
    expect(r).toBeTypeOf('number');
    expect(g).toBeTypeOf('number');
    expect(r).not.toBe(g);
    expect(sent).toHaveLength(6);
  });
});
