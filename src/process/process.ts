/**
 * One process: its mailbox, its state and the loop that feeds messages to its behavior.
 *
 * Guarantees: messages are handled one at a time, in the order they arrived; a handler's state is
 * never seen by two handlers at once, also when handlers are async. A handler that throws crashes
 * the process with reason `error`: the call being handled and every call still queued fail with
 * `PROCESS_EXITED`, `terminate` runs, then monitors and links fire. A stop requested while a handler
 * runs takes effect when that handler returns. A kill takes effect at once: `terminate` is skipped
 * and whatever the running handler returns later is ignored.
 *
 * Not here: pids, names, links and monitors bookkeeping across processes (see `runtime.ts`).
 */
import { CohortError, toWireError } from '../core/errors.js';
import { TimerSet, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Pid } from '../core/ids.js';
import { formatPid } from '../core/ids.js';
import type { AnyBehavior, CallResult, ProcessContext } from './behavior.js';
import { validate, type Validated } from './validate.js';
import { Mailbox } from './mailbox.js';
import type { Exit, From } from './types.js';

/** An entry in a mailbox. */
export type Envelope =
  | { readonly kind: 'call'; readonly message: unknown; readonly from: From }
  | { readonly kind: 'cast'; readonly message: unknown }
  | { readonly kind: 'info'; readonly message: unknown };

/** What a cell needs from the runtime that owns it. */
export interface CellHost {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Whether the caller of call `tag` still waits for the reply. */
  isWaiting(tag: number): boolean;
  /** Settles call `tag`; a no-op when nobody waits any more. */
  settle(tag: number, ok: boolean, value: unknown): void;
  /** Called once, after the process has ended, to fire monitors and links and free its pid. */
  exited(cell: ProcessCell, exit: Exit): void;
  /** Reports a message that was dropped (invalid cast, no handler). */
  dropped(pid: Pid, kind: Envelope['kind'], why: string, error?: CohortError): void;
}

/** The lifecycle of a cell. */
export type CellStatus = 'starting' | 'running' | 'stopping' | 'dead';

/**
 * A process that has handled this many messages in one go and still has more waiting lets the
 * event loop run (I/O, timers, other work) before it goes on.
 */
const YIELD_EVERY = 256;

export class ProcessCell {
  readonly pid: Pid;
  readonly behavior: AnyBehavior;
  readonly host: CellHost;
  readonly mailbox = new Mailbox<Envelope>();
  readonly timers: TimerSet;
  /** Calls this process must still answer: queued ones and deferred (`noReply`) ones. */
  readonly owed = new Set<number>();
  /** Pid keys of linked processes. */
  readonly links = new Map<string, Pid>();
  /** Monitors on this process: ref → who to tell. */
  readonly monitors = new Map<string, MonitorTarget>();
  /** Monitors this process holds on others: ref → target pid key. */
  readonly watching = new Map<string, string>();
  /** The process that spawned this one with a link, if any. */
  parent: Pid | undefined;
  name: string | undefined;
  trapExit: boolean;
  status: CellStatus = 'starting';
  state: unknown;
  ctx!: ProcessContext;

  #running = false;
  /** The tag of the call whose handler runs now, if any: a crash during it is that call's answer. */
  #handling: number | undefined;
  #stopRequest: Exit | undefined;
  #exited!: () => void;
  /** Resolves once the process has ended and its monitors and links have fired. */
  readonly done: Promise<void>;

  constructor(pid: Pid, behavior: AnyBehavior, host: CellHost) {
    this.pid = pid;
    this.behavior = behavior;
    this.host = host;
    this.timers = new TimerSet(host.clock);
    this.trapExit = behavior.trapExit === true;
    this.done = new Promise<void>((resolve) => (this.#exited = resolve));
  }

  get alive(): boolean {
    return this.status !== 'dead';
  }

  /** Queues a message; starts the loop if the process is idle. Returns false if the process is dead. */
  deliver(entry: Envelope): boolean {
    if (this.status === 'dead') return false;
    if (entry.kind === 'call') this.owed.add(entry.from.tag);
    this.mailbox.push(entry);
    this.#schedule();
    return true;
  }

  /** Marks the cell as running after a successful `init`, and starts handling queued messages. */
  started(state: unknown): void {
    this.state = state;
    this.status = 'running';
    this.#schedule();
  }

  /** Asks the process to stop once its current handler returns; `terminate` runs. */
  requestStop(exit: Exit): void {
    if (this.status === 'dead' || this.#stopRequest !== undefined) return;
    this.#stopRequest = exit;
    this.#schedule();
  }

  /** Ends the process now, without `terminate`. */
  kill(exit: Exit): void {
    if (this.status === 'dead') return;
    this.#finish(exit, undefined);
  }

  /** Ends a process whose `init` never completed, without firing links (the spawner is told instead). */
  discard(): void {
    if (this.status === 'dead') return;
    this.#finish({ reason: 'shutdown', message: 'init did not complete' }, undefined);
  }

  #schedule(): void {
    if (this.#running || this.status === 'starting' || this.status === 'dead') return;
    this.#running = true;
    queueMicrotask(() => void this.#loop());
  }

  async #loop(): Promise<void> {
    let handled = 0;
    try {
      while (this.status === 'running' && this.#stopRequest === undefined) {
        const entry = this.mailbox.shift();
        if (entry === undefined) break;
        const pending = this.#handle(entry);
        if (pending !== undefined) await pending;
        // Only when more waits: yielding with an empty mailbox would only delay the end of the loop
        // (and keep the messages just handled alive across the next garbage collection).
        if (++handled % YIELD_EVERY === 0 && this.mailbox.size > 0) await new Promise<void>((r) => setImmediate(r));
      }
    } catch (error) {
      if (this.status === 'running') await this.#crash(error);
      return;
    } finally {
      this.#running = false;
    }
    if (this.status === 'running' && this.#stopRequest !== undefined) {
      await this.#terminate(this.#stopRequest);
    }
  }

  /** Handles one entry; returns a promise only when something async is involved. */
  #handle(entry: Envelope): Promise<void> | undefined {
    const schemas = this.behavior.schemas;
    switch (entry.kind) {
      case 'call': {
        const { tag } = entry.from;
        if (!this.host.isWaiting(tag)) {
          this.owed.delete(tag); // the caller gave up: do not work for nobody
          return undefined;
        }
        if (this.behavior.handleCall === undefined) {
          this.#fail(tag, new CohortError('BAD_REQUEST', `process ${formatPid(this.pid)} does not handle calls (its behavior has no handleCall)`));
          return undefined;
        }
        if (schemas?.call !== undefined) {
          return this.#validated(validate(schemas.call, entry.message, `call to ${formatPid(this.pid)}`), (msg) =>
            this.#call(msg, entry.from),
            (error) => this.#fail(tag, error),
          );
        }
        return this.#call(entry.message, entry.from);
      }
      case 'cast': {
        if (this.behavior.handleCast === undefined) {
          this.host.dropped(this.pid, 'cast', 'its behavior has no handleCast');
          return undefined;
        }
        if (schemas?.cast !== undefined) {
          return this.#validated(validate(schemas.cast, entry.message, `cast to ${formatPid(this.pid)}`), (msg) =>
            this.#apply(this.behavior.handleCast!(msg, this.state, this.ctx)),
            (error) => this.host.dropped(this.pid, 'cast', error.message, error),
          );
        }
        return this.#apply(this.behavior.handleCast(entry.message, this.state, this.ctx));
      }
      case 'info': {
        if (this.behavior.handleInfo === undefined) return undefined;
        return this.#apply(this.behavior.handleInfo(entry.message, this.state, this.ctx));
      }
    }
  }

  #validated<T>(
    result: Validated<T> | Promise<Validated<T>>,
    onOk: (value: T) => Promise<void> | undefined,
    onError: (error: CohortError) => void,
  ): Promise<void> | undefined {
    const go = (r: Validated<T>): Promise<void> | undefined => {
      if (r.ok) return onOk(r.value);
      onError(r.error);
      return undefined;
    };
    return result instanceof Promise ? result.then(go) : go(result);
  }

  #call(message: unknown, from: From): Promise<void> | undefined {
    this.#handling = from.tag;
    const result = this.behavior.handleCall!(message, this.state, from, this.ctx);
    if (result instanceof Promise) return result.then((r) => this.#reply(r, from));
    this.#reply(result, from);
    return undefined;
  }

  #reply(result: CallResult<unknown, unknown>, from: From): void {
    this.#handling = undefined;
    if (this.status === 'dead') return;
    if (Array.isArray(result) && result.length === 2) {
      this.state = result[1];
      this.owed.delete(from.tag);
      this.host.settle(from.tag, true, result[0]);
      return;
    }
    if (typeof result === 'object' && result !== null && (result as { noreply?: unknown }).noreply === true) {
      this.state = (result as { state: unknown }).state;
      return; // the tag stays owed until ctx.reply
    }
    throw new CohortError(
      'INVALID_ARGUMENT',
      `handleCall of ${formatPid(this.pid)} returned ${Array.isArray(result) ? `an array of ${result.length}` : typeof result}; expected [reply, state] or noReply(state)`,
    );
  }

  #apply(next: unknown): Promise<void> | undefined {
    if (next instanceof Promise) {
      return next.then((s) => {
        if (this.status !== 'dead') this.state = s;
      });
    }
    this.state = next;
    return undefined;
  }

  #fail(tag: number, error: CohortError): void {
    this.owed.delete(tag);
    this.host.settle(tag, false, error);
  }

  async #crash(error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    this.host.logger.error('process crashed', { pid: formatPid(this.pid), error: message });
    await this.#terminate({ reason: 'error', message, error: toWireError(error) }, error);
  }

  async #terminate(exit: Exit, cause?: unknown): Promise<void> {
    if (this.status === 'dead' || this.status === 'stopping') return;
    this.status = 'stopping';
    if (this.behavior.terminate !== undefined) {
      try {
        await this.behavior.terminate(exit, this.state, this.ctx);
      } catch (error) {
        this.host.logger.warn('terminate threw', {
          pid: formatPid(this.pid),
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    // A kill may have finished the cell while terminate ran.
    if (this.status !== 'stopping') return;
    this.#finish(exit, cause);
  }

  #finish(exit: Exit, cause: unknown): void {
    this.status = 'dead';
    this.timers.clear();
    const error = new CohortError('PROCESS_EXITED', `process ${formatPid(this.pid)} exited (${exit.reason}${exit.message !== undefined ? `: ${exit.message}` : ''}) before replying`, {
      details: { pid: this.pid, reason: exit.reason, ...(exit.message !== undefined ? { message: exit.message } : {}) },
      cause,
    });
    const threwIn = cause === undefined ? undefined : this.#handling;
    for (const tag of this.owed) {
      if (tag !== threwIn) this.host.settle(tag, false, error);
      else {
        // The handler of this very call threw: the caller learns it was its call that crashed it.
        this.host.settle(tag, false, new CohortError('PROCESS_EXITED', `process ${formatPid(this.pid)} crashed while handling this call: ${exit.message ?? exit.reason}`, {
          details: { pid: this.pid, reason: exit.reason, handlerThrew: true, ...(exit.message !== undefined ? { message: exit.message } : {}) },
          cause,
        }));
      }
    }
    this.owed.clear();
    this.mailbox.drain();
    this.host.exited(this, exit);
    this.#exited();
  }
}

/** Who a monitor tells: a process (by a `$down` message) or a callback. */
export type MonitorTarget =
  | { readonly kind: 'process'; readonly watcher: Pid }
  | { readonly kind: 'callback'; readonly fn: (down: { ref: string; pid: Pid; reason: Exit['reason']; message?: string }) => void };
