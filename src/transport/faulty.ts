/**
 * A fault-injecting stream transport, for tests and chaos drills: wraps another transport and,
 * per remote host, blackholes, delays or cuts traffic, in one direction or both.
 *
 * - `block(host, dir)`: bytes to/from `host` are silently dropped; the stream stays open, as in a
 *   real network partition (so failure detection, not a closed socket, must notice it). New dials
 *   to a host blocked outbound hang until their connect timeout, or go through when the rule is
 *   lifted before it (as a retransmitted SYN would). After `heal`, bytes flow again;
 *   links whose bytes were dropped will fail their integrity checks and reconnect.
 * - `delay(host, ms)`: bytes to and from `host` arrive `ms` later, in order.
 * - `cut(host)`: streams with `host` are destroyed now and new ones refused until `heal`.
 *
 * Peers are told apart by host, so each node under test needs its own address (e.g. 127.0.0.N,
 * with outgoing connections bound to it). Rules are per injector instance: nothing global.
 */
import { Duplex } from 'node:stream';
import { CohortError } from '../core/errors.js';
import type { StreamAddress, StreamTransport } from './stream-transport.js';

/** Which traffic a rule affects, seen from this node. */
export type FaultDirection = 'in' | 'out' | 'both';

interface Rule {
  dropIn: boolean;
  dropOut: boolean;
  delayMs: number;
  cut: boolean;
}

interface Tracked {
  readonly host: string;
  readonly stream: Duplex;
}

export class FaultInjector {
  readonly #rules = new Map<string, Rule>();
  readonly #streams = new Set<Tracked>();
  /** Dials hanging on a blocked host, woken when rules are lifted. */
  readonly #hanging = new Set<() => void>();

  /** Blackholes traffic with `host` in one direction or both. */
  block(host: string, direction: FaultDirection = 'both'): void {
    const r = this.#rule(host);
    if (direction !== 'out') r.dropIn = true;
    if (direction !== 'in') r.dropOut = true;
  }

  /** Delays traffic with `host` (both directions) by `ms`. */
  delay(host: string, ms: number): void {
    if (!(ms >= 0)) throw new CohortError('INVALID_ARGUMENT', `delay must be >= 0 ms, got ${ms}`);
    this.#rule(host).delayMs = ms;
  }

  /** Destroys every stream with `host` and refuses new ones until healed. */
  cut(host: string): void {
    this.#rule(host).cut = true;
    for (const t of [...this.#streams]) if (t.host === host) t.stream.destroy();
  }

  /** Lifts the rules for `host`, or for every host. */
  heal(host?: string): void {
    if (host === undefined) this.#rules.clear();
    else this.#rules.delete(host);
    for (const wake of [...this.#hanging]) wake();
  }

  /** The current rules, for diagnostics. */
  rules(): Record<string, Readonly<Rule>> {
    return Object.fromEntries([...this.#rules].map(([h, r]) => [h, { ...r }]));
  }

  /** Wraps a transport so that this injector's rules apply to it. */
  wrap(inner: StreamTransport): StreamTransport {
    return {
      name: `faulty(${inner.name})`,
      listen: (address, onStream) =>
        inner.listen(address, (stream, remote) => {
          if (this.#rules.get(remote.host)?.cut === true) {
            stream.destroy();
            return;
          }
          onStream(this.#wrapStream(stream, remote.host), remote);
        }),
      connect: async (address: StreamAddress, timeoutMs: number) => {
        const rule = this.#rules.get(address.host);
        if (rule?.cut === true) {
          throw new CohortError('NOCONNECTION', `cannot connect to ${address.host}:${address.port}: cut by fault injection`);
        }
        if (rule?.dropOut === true) {
          const startedAt = Date.now();
          await this.#untilLifted(address.host, timeoutMs);
          if (this.#rules.get(address.host)?.dropOut === true) {
            throw new CohortError('NOCONNECTION', `cannot connect to ${address.host}:${address.port}: no answer within ${timeoutMs} ms (blocked)`);
          }
          return this.#wrapStream(await inner.connect(address, Math.max(1, timeoutMs - (Date.now() - startedAt))), address.host);
        }
        return this.#wrapStream(await inner.connect(address, timeoutMs), address.host);
      },
    };
  }

  /** Resolves when outbound traffic to `host` is no longer blocked, or after `timeoutMs`. */
  #untilLifted(host: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#hanging.delete(check);
        resolve();
      };
      const check = () => {
        if (this.#rules.get(host)?.dropOut !== true) done();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.#hanging.add(check);
    });
  }

  #rule(host: string): Rule {
    let r = this.#rules.get(host);
    if (r === undefined) {
      r = { dropIn: false, dropOut: false, delayMs: 0, cut: false };
      this.#rules.set(host, r);
    }
    return r;
  }

  #wrapStream(inner: Duplex, host: string): Duplex {
    const rules = this.#rules;
    // Bytes keep their order: each direction is one queue released in order, and while earlier
    // bytes are still delayed later ones wait behind them, also after the delay is lifted.
    const queue = () => {
      const items: { at: number; fn: () => void }[] = [];
      let armed = false;
      const release = () => {
        armed = false;
        while (items.length > 0 && items[0]!.at <= Date.now()) items.shift()!.fn();
        if (items.length > 0) arm();
      };
      const arm = () => {
        if (armed) return;
        armed = true;
        setTimeout(release, Math.max(0, items[0]!.at - Date.now())).unref();
      };
      return {
        get busy() {
          return items.length > 0;
        },
        push(delayMs: number, fn: () => void) {
          const last = items[items.length - 1]?.at ?? 0;
          items.push({ at: Math.max(last, Date.now() + delayMs), fn });
          arm();
        },
      };
    };
    const outQueue = queue();
    const inQueue = queue();
    const delayOf = (r: Rule | undefined) => r?.delayMs ?? 0;
    const outer = new Duplex({
      write(chunk: Buffer, _encoding, callback) {
        const r = rules.get(host);
        if (r?.dropOut === true || r?.cut === true) {
          callback();
          return;
        }
        if (delayOf(r) > 0 || outQueue.busy) {
          outQueue.push(delayOf(r), () => {
            if (!inner.destroyed) inner.write(chunk);
          });
          callback();
          return;
        }
        inner.write(chunk, (error) => callback(error ?? null));
      },
      read() {},
      final(callback) {
        inner.end();
        callback();
      },
      destroy(error, callback) {
        inner.destroy(error ?? undefined);
        callback(error);
      },
    });
    inner.on('data', (chunk: Buffer) => {
      const r = rules.get(host);
      if (r?.dropIn === true || r?.cut === true) return;
      if (delayOf(r) > 0 || inQueue.busy) {
        inQueue.push(delayOf(r), () => {
          if (!outer.destroyed) outer.push(chunk);
        });
        return;
      }
      outer.push(chunk);
    });
    inner.on('end', () => outer.push(null));
    inner.on('error', (error) => outer.destroy(error));
    inner.on('close', () => outer.destroy());
    const tracked = { host, stream: outer };
    this.#streams.add(tracked);
    outer.once('close', () => this.#streams.delete(tracked));
    return outer;
  }
}
