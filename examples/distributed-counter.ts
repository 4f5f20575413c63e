/**
 * A counter that survives the loss of its node, on three nodes in one process. The counter is a
 * child of a distributed supervisor; clients on the two other nodes increment it with calls and
 * monitor it. When its node stops, the supervisor starts it again on a survivor, with empty state;
 * each client's monitor fires, the client finds the new instance, monitors it and reports its own
 * total there, and the counter is back at exactly the number of increments it acknowledged.
 *
 * The state is a grow-only counter: one total per client, and the value is their sum. A report is
 * idempotent (the counter keeps the larger total), so one sent twice changes nothing.
 *
 * A node that stops hands its distributed children over: it stops them (reason `shutdown`) before
 * it leaves, so monitors elsewhere see `shutdown`. A node that crashes or is cut off is seen as
 * `noconnection` instead. The clients recover the same way whatever the reason.
 *
 * Run it with `npx tsx examples/distributed-counter.ts`. On real machines each node is its own
 * process with its own host; the code is the same.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, defineBehavior, samePid, type DistributedSupervisor, type DownEvent, type MonitorHandle, type ProcessRef } from '../src/index.js';

type Totals = Readonly<Record<string, number>>;
const sum = (totals: Totals) => Object.values(totals).reduce((a, b) => a + b, 0);

/**
 * The counter. Every call replies with the caller's total and the value: `add` counts one for the
 * client, `report` keeps the larger of the client's two totals, `read` changes nothing.
 */
const counter = defineBehavior({
  init: (): Totals => ({}),
  handleCall: (msg: { type: 'add' | 'read'; client: string } | { type: 'report'; client: string; total: number }, totals: Totals) => {
    const had = totals[msg.client] ?? 0;
    const mine = msg.type === 'add' ? had + 1 : msg.type === 'report' ? Math.max(had, msg.total) : had;
    const next = mine === had ? totals : { ...totals, [msg.client]: mine };
    return [{ mine, value: sum(next) }, next] as const;
  },
});
type Counter = ProcessRef<typeof counter>;

/** Polls `check` every 10 ms, at most 500 times. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await delay(10);
  assert.ok(check(), `timed out waiting until ${what}`);
}
const nameOf = (id: string | undefined) => id?.split('@')[0];

const id = 'counter:visits';

/**
 * A client on one node: it keeps the total the counter acknowledged to it, and monitors the
 * instance it talks to. When that one goes down, it waits (bounded) for the supervisor to run the
 * counter again, monitors the new instance and reports its total there.
 */
class Client {
  /** What the counter last acknowledged to this client. */
  total = 0;
  ref: Counter | undefined;
  readonly downs: DownEvent[] = [];
  /** The recovery started by the last down, with the value the counter read after the report. */
  recovered: Promise<number> | undefined;
  #monitor: MonitorHandle | undefined;

  constructor(
    readonly name: string,
    readonly node: Node,
    readonly sup: DistributedSupervisor,
  ) {}

  /** Monitors the instance the supervisor reports now. */
  follow(): void {
    const ref = this.sup.whereis<typeof counter>(id);
    assert.ok(ref !== undefined, `${this.name} finds no counter`);
    this.ref = ref;
    this.#monitor = this.node.monitor(ref, (down) => {
      this.downs.push(down);
      this.recovered = this.#recover(down.pid);
    });
  }

  /** Adds one; resolves with the value the counter acknowledged. */
  async add(): Promise<number> {
    const { mine, value } = await this.node.call(this.ref!, { type: 'add', client: this.name });
    this.total = mine;
    return value;
  }

  async read(): Promise<number> {
    return (await this.node.call(this.ref!, { type: 'read', client: this.name })).value;
  }

  async report(): Promise<number> {
    return (await this.node.call(this.ref!, { type: 'report', client: this.name, total: this.total })).value;
  }

  close(): void {
    if (this.#monitor !== undefined) this.node.demonitor(this.#monitor);
  }

  async #recover(gone: Counter): Promise<number> {
    await until(() => {
      const now = this.sup.whereis(id);
      return now !== undefined && !samePid(now, gone);
    }, `${this.name} sees the counter run again`);
    this.follow();
    return this.report();
  }
}

const secret = 'use a long random secret in production';
const a = await Node.start({ name: 'a', secret });
const b = await Node.start({ name: 'b', secret, seeds: [a.id] });
const c = await Node.start({ name: 'c', secret, seeds: [a.id] });
const nodes = [a, b, c];
// Whichever member runs the counter starts it by name: no code travels.
for (const node of nodes) node.behaviors.register('counter', counter);
await until(() => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === 3), 'the cluster formed');

// Every node takes part in the supervisor; the counter goes to the ring owner of its id.
const sups = await Promise.all(nodes.map((n) => n.distributedSupervisor('counters')));
await until(() => sups.every((s) => s.members().length === 3), 'every member sees the others');
const started = await sups[0]!.startChild({ id, behavior: 'counter' });
assert.equal(started.node, sups[0]!.nodeFor(id));
const home = nodes.find((n) => n.id === started.node)!;
console.log(`the counter runs on ${nameOf(home.id)}`);

// The clients live on the two other nodes.
const others = nodes.filter((n) => n !== home);
const clients = ['ada', 'grace'].map((name, i) => new Client(name, others[i]!, sups[nodes.indexOf(others[i]!)]!));
await until(() => clients.every((client) => client.sup.whereis(id) !== undefined), 'the clients know where the counter runs');
for (const client of clients) client.follow();

// Each increment is a call, acknowledged with the new value.
for (const [client, times] of [
  [clients[0]!, 3],
  [clients[1]!, 4],
] as const) {
  const values: number[] = [];
  for (let i = 0; i < times; i++) values.push(await client.add());
  console.log(`${client.name} on ${nameOf(client.node.id)} adds ${times}: the counter answers ${values.join(', ')}`);
}
const acknowledged = () => clients.reduce((n, client) => n + client.total, 0);
assert.equal(acknowledged(), 7);
assert.equal(await clients[0]!.read(), 7);

// The counter's node stops; each client's monitor fires.
console.log(`${nameOf(home.id)} stops`);
await home.stop();
await until(() => clients.every((client) => client.downs.length === 1), 'every client saw the counter go down');
for (const client of clients) console.log(`${client.name}'s monitor fires: the counter on ${nameOf(client.downs[0]!.pid.node)} went down (${client.downs[0]!.reason})`);
// Stopped, not cut off: the node handed its child over before it left.
assert.ok(clients.every((client) => client.downs[0]!.reason === 'shutdown'));

// The supervisor runs the counter again on a survivor; the clients follow it and report.
const after = await Promise.all(clients.map((client) => client.recovered!));
const now = clients[0]!.ref!;
assert.ok(clients.every((client) => samePid(client.ref!, now)) && now.node !== home.id);
console.log(`the counter runs again on ${nameOf(now.node)}, from empty: ${clients.map((cl, i) => `${cl.name} reports ${cl.total} (it reads ${after[i]})`).join(', ')}`);
// The first report found it empty; the last one brought it back to 7.
assert.ok(clients.some((cl, i) => after[i] === cl.total));
assert.equal(Math.max(...after), 7);

// Back at exactly the increments it acknowledged; a report sent again changes nothing.
assert.equal(await clients[1]!.report(), 7);
const value = await clients[0]!.read();
console.log(`value after recovery: ${value} (${clients.map((cl) => `${cl.name} ${cl.total}`).join(' + ')})`);
assert.equal(value, acknowledged());
assert.equal(value, 7);

// And it counts on.
console.log(`${clients[1]!.name} adds 1: the counter answers ${await clients[1]!.add()}`);
assert.equal(await clients[0]!.read(), 8);

for (const client of clients) client.close();
await Promise.all(others.map((n) => n.stop()));
