/**
 * Measures the crypto core (not a test; run with `npx tsx test/transport/crypto/measure.ts`):
 * seal+open throughput of the frame cipher for 100-byte and 16 KiB frames (and, for 100 bytes, the
 * part left on a message's path when the setup is done ahead with `prepare`), and the time of a full
 * NNpsk0 handshake (both sides, in one process, including key derivation from the secret once).
 * Numbers are for one core; each figure is the best of a few rounds after a warm-up.
 */
import { performance } from 'node:perf_hooks';
import { FrameCipher, HandshakeState, deriveKeys, proof, randomNonce, verifyProof } from '../../../src/transport/crypto/index.js';

function pair(psk: Uint8Array): { a: FrameCipher; b: FrameCipher } {
  const initiator = new HandshakeState({ initiator: true, psk });
  const responder = new HandshakeState({ initiator: false, psk });
  responder.readMessage(initiator.writeMessage());
  initiator.readMessage(responder.writeMessage());
  const i = initiator.split();
  const r = responder.split();
  return { a: new FrameCipher(i.send, i.receive), b: new FrameCipher(r.send, r.receive) };
}

function bestOf(rounds: number, run: () => number): number {
  let best = Infinity;
  for (let n = 0; n < rounds; n += 1) best = Math.min(best, run());
  return best;
}

const { psk, authKey } = deriveKeys('measure-secret-of-sufficient-length');

function throughput(frameBytes: number, frames: number): void {
  const plain = new Uint8Array(frameBytes).fill(0x5a);
  const run = (): number => {
    const { a, b } = pair(psk);
    const start = performance.now();
    for (let n = 0; n < frames; n += 1) b.open(a.seal(plain));
    return performance.now() - start;
  };
  run(); // warm-up
  const ms = bestOf(5, run);
  const perSecond = (frames / ms) * 1000;
  const mbPerSecond = (frameBytes * frames) / (ms / 1000) / 1e6;
  console.log(
    `seal+open ${String(frameBytes).padStart(6)} B frames: ${perSecond.toFixed(0).padStart(8)} frames/s, ${mbPerSecond.toFixed(1).padStart(7)} MB/s ` +
      `(${((ms * 1000) / frames).toFixed(2)} µs per frame)`,
  );
}

/** seal+open with the node:crypto setup done ahead by `prepare` (untimed): what stays on a message's path. */
function prepared(frameBytes: number, frames: number): void {
  const plain = new Uint8Array(frameBytes).fill(0x5a);
  const run = (): number => {
    const { a, b } = pair(psk);
    let ms = 0;
    for (let n = 0; n < frames; n += 1) {
      a.prepare();
      b.prepare();
      const start = performance.now();
      b.open(a.seal(plain));
      ms += performance.now() - start;
    }
    return ms;
  };
  run(); // warm-up
  const ms = bestOf(5, run);
  console.log(`seal+open ${String(frameBytes).padStart(6)} B frames, set up ahead by prepare(): ${((ms * 1000) / frames).toFixed(2)} µs per frame`);
}

function handshakes(count: number): void {
  const run = (): number => {
    const start = performance.now();
    for (let n = 0; n < count; n += 1) pair(psk);
    return performance.now() - start;
  };
  run();
  const ms = bestOf(5, run);
  console.log(`handshake (both sides, 2 messages + split): ${((ms * 1000) / count).toFixed(0)} µs each, ${((count / ms) * 1000).toFixed(0)} per second`);
}

function authCosts(count: number): void {
  const transcript = {
    handshakeHash: new Uint8Array(32),
    initiatorNonce: randomNonce(),
    responderNonce: randomNonce(),
    initiatorId: 'app1@127.0.0.1:4369',
    responderId: 'app2@127.0.0.1:4370',
  };
  const run = (): number => {
    const start = performance.now();
    for (let n = 0; n < count; n += 1) verifyProof(proof(authKey, 'initiator', transcript), proof(authKey, 'initiator', transcript));
    return performance.now() - start;
  };
  run();
  const ms = bestOf(5, run);
  const deriveStart = performance.now();
  for (let n = 0; n < 1000; n += 1) deriveKeys('measure-secret-of-sufficient-length');
  const deriveMs = performance.now() - deriveStart;
  console.log(`proof+verify (2 HMACs + compare): ${((ms * 1000) / count).toFixed(1)} µs; deriveKeys: ${deriveMs.toFixed(0)} µs each`);
}

console.log(`node ${process.version}, ${process.arch}`);
throughput(100, 100_000);
prepared(100, 100_000);
throughput(16 * 1024, 20_000);
throughput(65519, 4_000);
handshakes(1000);
authCosts(10_000);
