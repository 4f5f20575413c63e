import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'selfsigned';
import { Node, type NodeOptions } from '../../src/node.js';
import { eventually } from '../helpers/eventually.js';

const nodes: Node[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});
async function start(options: NodeOptions): Promise<Node> {
  const node = await Node.start(options);
  nodes.push(node);
  return node;
}
const FAST = { probeIntervalMs: 100, probeTimeoutMs: 50, suspicionTimeoutMs: 500, pushPullIntervalMs: 500 };
const SECRET = 'sixteen chars or more';

async function refusal(options: unknown): Promise<{ code: string; message: string }> {
  try {
    const node = await Node.start(options as NodeOptions);
    nodes.push(node);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected Node.start to refuse');
}

describe('node options — security', () => {
  it('a node without a secret or TLS refuses a non-loopback address unless insecure', async () => {
    const e = await refusal({ host: '0.0.0.0' });
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/loopback only; to listen on 0\.0\.0\.0, set a secret/);
  });

  it.each([
    [{ secret: 'short' }, /at least 16 characters/],
    [{ encryption: true }, /encryption needs a secret/],
    [{ encryption: { tls: { cert: 'x' } } }, /encryption.tls.key must be a PEM/],
    [{ encryption: 'yes' }, /expected true, false or \{ tls/],
    [{ advertiseHost: '0.0.0.0' }, /wildcard/],
    [{ seeds: ['not a seed'] }, /invalid option 'discovery'/],
    [{ codec: 'yaml' }, /invalid option 'codec'/],
  ])('refuses %j with INVALID_OPTION and a reason', async (options, pattern) => {
    const e = await refusal(options);
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(pattern);
  });
});

describe('node — clustering in one process over TCP', () => {
  it('nodes join through a seed, see each other, and see a graceful stop as left at once', async () => {
    const a = await start({ name: 'a', secret: SECRET, membership: FAST });
    const b = await start({ name: 'b', secret: SECRET, membership: FAST, seeds: [a.id] });
    const c = await start({ name: 'c', secret: SECRET, membership: FAST, seeds: [a.id] });
    for (const n of [a, b, c]) {
      await eventually(() => expect(n.members().filter((m) => m.status === 'alive').map((m) => m.id).sort()).toEqual([a.id, b.id, c.id].sort()), 5_000);
    }
    const downs: { node: string; reason: string }[] = [];
    a.on('nodeDown', (e) => downs.push(e));
    await c.stop();
    nodes.splice(nodes.indexOf(c), 1);
    await eventually(() => expect(downs).toEqual([{ node: c.id, reason: 'left' }]), 1_000);
    expect(b.members().find((m) => m.id === c.id)?.status).toBe('left');
  });

  it('members carry meta, and updateMeta reaches the others', async () => {
    const a = await start({ name: 'a', membership: FAST, meta: { zone: 'eu' } });
    const b = await start({ name: 'b', membership: FAST, seeds: [a.id] });
    await eventually(() => expect(b.members().find((m) => m.id === a.id)?.meta).toEqual({ zone: 'eu' }), 5_000);
    a.updateMeta({ zone: 'us' });
    await eventually(() => expect(b.members().find((m) => m.id === a.id)?.meta).toEqual({ zone: 'us' }), 5_000);
  });

  it('a node with the wrong secret never becomes a member, and the cluster keeps working', async () => {
    const a = await start({ name: 'a', secret: SECRET, membership: FAST });
    const b = await start({ name: 'b', secret: SECRET, membership: FAST, seeds: [a.id] });
    const intruder = await start({ name: 'x', secret: 'a different secret value', membership: FAST, seeds: [a.id] });
    await eventually(() => expect(a.members().map((m) => m.id).sort()).toEqual([a.id, b.id].sort()), 5_000);
    const c = await start({ name: 'c', secret: SECRET, membership: FAST, seeds: [a.id] });
    await eventually(() => expect(b.members().filter((m) => m.status === 'alive')).toHaveLength(3), 5_000);
    expect(a.members().some((m) => m.id === intruder.id)).toBe(false);
    expect(intruder.members().map((m) => m.id)).toEqual([intruder.id]);
    void c;
  });

  it('a node without encryption cannot join encrypted nodes (settings must match)', async () => {
    const a = await start({ name: 'a', secret: SECRET, membership: FAST });
    const plain = await start({ name: 'p', secret: SECRET, encryption: false, membership: FAST, seeds: [a.id] });
    const helper = await start({ name: 'h', secret: SECRET, membership: FAST, seeds: [a.id] });
    await eventually(() => expect(a.members().map((m) => m.id).sort()).toEqual([a.id, helper.id].sort()), 5_000);
    expect(plain.members()).toHaveLength(1);
  });
});

describe('node — TLS 1.3 links', () => {
  let ca: { cert: string; key: string };
  let good: { cert: string; key: string };
  let stranger: { cert: string; key: string; ca: string };

  beforeAll(async () => {
    const caPems = await generate([{ name: 'commonName', value: 'cohort test CA' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    ca = { cert: caPems.cert, key: caPems.private };
    const leaf = async (signer: { cert: string; key: string }) => {
      const pems = await generate([{ name: 'commonName', value: 'cohort node' }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        ca: signer,
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
        ],
      });
      return { cert: pems.cert, key: pems.private };
    };
    good = await leaf(ca);
    const otherCa = await generate([{ name: 'commonName', value: 'another CA' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    stranger = { ...(await leaf({ cert: otherCa.cert, key: otherCa.private })), ca: otherCa.cert };
  }, 30_000);

  it('nodes with certificates from the same CA form a cluster over TLS 1.3', async () => {
    const tls = { ...good, ca: ca.cert };
    const a = await start({ name: 'a', encryption: { tls }, membership: FAST });
    const b = await start({ name: 'b', encryption: { tls }, membership: FAST, seeds: [a.id] });
    await eventually(() => expect(a.members().filter((m) => m.status === 'alive').map((m) => m.id).sort()).toEqual([a.id, b.id].sort()), 5_000);
  });

  it('a node whose certificate comes from another CA is refused', async () => {
    const a = await start({ name: 'a', encryption: { tls: { ...good, ca: ca.cert } }, membership: FAST });
    const x = await start({ name: 'x', encryption: { tls: { cert: stranger.cert, key: stranger.key, ca: ca.cert } }, membership: FAST, seeds: [a.id] });
    const b = await start({ name: 'b', encryption: { tls: { ...good, ca: ca.cert } }, membership: FAST, seeds: [a.id] });
    await eventually(() => expect(a.members().map((m) => m.id).sort()).toEqual([a.id, b.id].sort()), 5_000);
    expect(x.members()).toHaveLength(1);
  });

  it('links negotiate TLS 1.3 with ChaCha20-Poly1305 and X25519; TLS 1.2 and clients without a certificate are refused', async () => {
    const a = await start({ name: 'a', encryption: { tls: { ...good, ca: ca.cert } }, membership: FAST });
    const port = Number(a.id.split(':').pop());
    const probe = (options: tls.ConnectionOptions) =>
      new Promise<{ ok: true; protocol: string | null; cipher: string; curve: string | undefined } | { ok: false; error: string }>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, ...options });
        const finish = (result: Parameters<typeof resolve>[0]) => {
          resolve(result);
          socket.destroy();
        };
        socket.once('secureConnect', () => {
          const info = { ok: true as const, protocol: socket.getProtocol(), cipher: socket.getCipher().name, curve: (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name };
          // With TLS 1.3 the server refuses a missing client certificate just after the handshake:
          // wait for its first bytes (the link hello) or its refusal.
          socket.once('data', () => finish(info));
        });
        socket.once('error', (e) => finish({ ok: false, error: e.message }));
        socket.once('close', () => finish({ ok: false, error: 'closed' }));
      });
    const ok = await probe({ cert: good.cert, key: good.key });
    expect(ok).toEqual({ ok: true, protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', curve: 'X25519' });
    expect((await probe({ cert: good.cert, key: good.key, maxVersion: 'TLSv1.2' })).ok).toBe(false);
    expect((await probe({})).ok).toBe(false);
  });
});
