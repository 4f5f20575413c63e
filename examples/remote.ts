/**
 * Remote processes, the global registry and process groups, on three nodes in one process: a chat
 * room spawned on another node and called from a third, found by a cluster-wide name, rooms on
 * every node in one group that a broadcast reaches, and what the others see when a node stops.
 *
 * Run it with `npx tsx examples/remote.ts`. On real machines each node is its own process with
 * its own host; the code is the same.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, defineBehavior, samePid, type DownEvent, type Pid, type ProcessRef } from '../src/index.js';

interface Room {
  readonly topic: string;
  readonly users: string[];
  readonly lines: string[];
}

/** A chat room: `join` replies with who is in it, `history` with what was said, `post` is a cast. */
const room = defineBehavior({
  init: (topic: string): Room => ({ topic, users: [], lines: [] }),
  handleCall: (msg: { type: 'join'; user: string } | { type: 'history' }, s: Room) => {
    if (msg.type === 'history') return [s.lines, s] as const;
    const users = [...s.users, msg.user];
    return [users, { ...s, users }] as const;
  },
  handleCast: (msg: { type: 'post'; user: string; text: string }, s: Room) => ({ ...s, lines: [...s.lines, `${msg.user}: ${msg.text}`] }),
  // Group broadcasts arrive as messages, like `node.send`.
  handleInfo: (msg: { type: 'announce'; text: string }, s: Room) => ({ ...s, lines: [...s.lines, `* ${msg.text}`] }),
});

/** Polls `check` every 10 ms, at most 300 times: names and groups replicate within milliseconds. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await delay(10);
  assert.ok(check(), `timed out waiting until ${what}`);
}
const nameOf = (pid: Pid) => pid.node.split('@')[0];

const secret = 'use a long random secret in production';
const a = await Node.start({ name: 'a', secret });
const b = await Node.start({ name: 'b', secret, seeds: [a.id] });
const c = await Node.start({ name: 'c', secret, seeds: [a.id] });
const nodes = [a, b, c];
// Another node can start only behaviors registered here by name: no code travels.
for (const node of nodes) node.behaviors.register('room', room);
await until(() => nodes.every((n) => n.members().filter((m) => m.status === 'alive').length === 3), 'the cluster formed');

// Remote spawn: a starts a room on b. Its ref works from every node, exactly as a local one.
const general = (await a.spawn('room', 'general', { on: b.id })) as ProcessRef<typeof room>;
console.log(`a spawned room 'general' on ${nameOf(general)}`);
assert.equal(general.node, b.id);
a.cast(general, { type: 'post', user: 'ada', text: 'hello from a' });
console.log(`c joins it: ${JSON.stringify(await c.call(general, { type: 'join', user: 'grace' }))}`);
const history = await a.call(general, { type: 'history' });
console.log(`a reads its history: ${JSON.stringify(history)}`);
assert.deepEqual(history, ['ada: hello from a']);

// Global registry: b names its room 'lobby' for the whole cluster; whereis reads a local table.
await b.registry.register('lobby', general);
const isLobby = (pid: Pid | undefined) => pid !== undefined && samePid(pid, general);
await until(() => nodes.every((n) => isLobby(n.registry.whereis('lobby'))), 'every node knows lobby');
const users = await c.call<typeof room>('lobby', { type: 'join', user: 'alan' });
console.log(`c calls 'lobby' by name: ${JSON.stringify(users)}`);
assert.deepEqual(users, ['grace', 'alan']);
// A taken name is refused (and the process spawned for it is stopped again).
await assert.rejects(a.spawn(room, 'impostor', { name: 'lobby', global: true }), { code: 'NAME_TAKEN' });
assert.equal(a.processCount(), 0);
console.log(`a cannot take 'lobby': NAME_TAKEN`);
const news = await c.spawn(room, 'news', { name: 'news', global: true });
await until(() => nodes.every((n) => n.registry.whereis('news') !== undefined), 'every node knows news');
console.log(`names seen from a: ${a.registry.names().join(', ')}`);

// Groups: each node adds its own room (join takes only local pids); members are read locally.
const unwatch = a.groups.watch('rooms', (e) => console.log(`a sees a ${e.type} in 'rooms': ${e.pids.map(nameOf).join(', ')}`));
const random = await a.spawn(room, 'random');
a.groups.join('rooms', random);
b.groups.join('rooms', general);
c.groups.join('rooms', news);
await until(() => nodes.every((n) => n.groups.members('rooms').length === 3), 'every node sees 3 rooms');
assert.deepEqual(b.groups.localMembers('rooms'), [general]);
// A broadcast reaches each member once, at its handleInfo.
const sent = a.groups.broadcast('rooms', { type: 'announce', text: 'maintenance at noon' });
console.log(`a broadcast to ${sent} rooms`);
assert.equal(sent, 3);
for (const pid of [random, general, news]) {
  // From a to one process, messages keep their order: the call comes after the broadcast.
  const lines = await a.call(pid, { type: 'history' });
  assert.equal(lines.at(-1), '* maintenance at noon');
}

// Monitors across nodes: when c stops, a's monitor on c's room fires with `noconnection`, and
// c's names and group members disappear everywhere else.
const downs: DownEvent[] = [];
a.monitor(news, (down) => {
  downs.push(down);
  console.log(`monitor: 'news' on ${nameOf(down.pid)} went down (${down.reason})`);
});
await c.stop();
await until(() => downs.length === 1, 'the monitor fired');
assert.equal(downs[0]?.reason, 'noconnection');
await until(() => [a, b].every((n) => n.registry.whereis('news') === undefined), "'news' is gone");
await until(() => [a, b].every((n) => n.groups.members('rooms').length === 2), "c's room left 'rooms'");
console.log(`after c stopped: names ${a.registry.names().join(', ')}; ${a.groups.members('rooms').length} rooms`);
assert.deepEqual(a.registry.names(), ['lobby']);

unwatch();
await b.stop();
await a.stop();
