/**
 * A chat across three nodes in one process: a room spawned on another node and called from a
 * third; a cluster-wide name, `lobby`, that any node calls it by (and that nobody else can take);
 * the rooms of every node in one group that an announcement reaches; and what the others see when
 * a node stops: a monitor fires with `noconnection` and that node's names and rooms disappear.
 *
 * Run it with `npx tsx examples/chat.ts`. On real machines each node is its own process with its
 * own host; the code is the same.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, defineBehavior, samePid, type DownEvent, type Pid } from '../src/index.js';

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

// ada, on a, opens the room 'general' on b. Its ref works from every node, exactly as a local one:
// she posts from a, grace joins from c.
const general = await a.spawn<typeof room>('room', 'general', { on: b.id });
console.log(`a opened the room 'general' on ${nameOf(general)}`);
assert.equal(general.node, b.id);
a.cast(general, { type: 'post', user: 'ada', text: 'hello from a' });
console.log(`c joins it: ${JSON.stringify(await c.call(general, { type: 'join', user: 'grace' }))}`);
const history = await a.call(general, { type: 'history' });
console.log(`a reads its history: ${JSON.stringify(history)}`);
assert.deepEqual(history, ['ada: hello from a']);

// b names the room 'lobby' for the whole cluster; whereis reads a local table. alan, on c, finds
// it by that name, joins and posts.
await b.registry.register('lobby', general);
const isLobby = (pid: Pid | undefined) => pid !== undefined && samePid(pid, general);
await until(() => nodes.every((n) => isLobby(n.registry.whereis('lobby'))), 'every node knows lobby');
const users = await c.call<typeof room>('lobby', { type: 'join', user: 'alan' });
console.log(`c calls 'lobby' by name: ${JSON.stringify(users)}`);
assert.deepEqual(users, ['grace', 'alan']);
c.cast<typeof room>('lobby', { type: 'post', user: 'alan', text: 'hi all' });
// From one node to one process, messages keep their order: the post comes before this call.
const read = await c.call<typeof room>('lobby', { type: 'history' });
console.log(`c reads 'lobby': ${JSON.stringify(read)}`);
assert.deepEqual(read, ['ada: hello from a', 'alan: hi all']);
// A taken name is refused (and the process spawned for it is stopped again).
await assert.rejects(a.spawn(room, 'impostor', { name: 'lobby', global: true }), { code: 'NAME_TAKEN' });
assert.equal(a.processCount(), 0);
console.log(`a cannot open another room as 'lobby': NAME_TAKEN`);
// c opens 'news' under a cluster-wide name of its own.
const news = await c.spawn(room, 'news', { name: 'news', global: true });
await until(() => nodes.every((n) => n.registry.whereis('news') !== undefined), 'every node knows news');
console.log(`names seen from a: ${a.registry.names().join(', ')}`);

// Every room is in the group 'rooms': each node adds its own (join takes only local pids), and
// members are read locally.
const unwatch = a.groups.watch('rooms', (e) => console.log(`a sees a ${e.type} in 'rooms': ${e.pids.map(nameOf).join(', ')}`));
const random = await a.spawn(room, 'random');
a.groups.join('rooms', random);
b.groups.join('rooms', general);
c.groups.join('rooms', news);
await until(() => nodes.every((n) => n.groups.members('rooms').length === 3), 'every node sees 3 rooms');
assert.deepEqual(b.groups.localMembers('rooms'), [general]);
// An announcement to the group reaches each room once, at its handleInfo.
const sent = a.groups.broadcast('rooms', { type: 'announce', text: 'maintenance at noon' });
console.log(`a announces to ${sent} rooms`);
assert.equal(sent, 3);
for (const pid of [random, general, news]) {
  // From a to one process, messages keep their order: the call comes after the broadcast.
  const lines = await a.call(pid, { type: 'history' });
  assert.equal(lines.at(-1), '* maintenance at noon');
}
const said = await a.call(general, { type: 'history' });
console.log(`'general' so far: ${JSON.stringify(said)}`);
assert.deepEqual(said, ['ada: hello from a', 'alan: hi all', '* maintenance at noon']);

// Monitors across nodes: when c stops, a's monitor on c's room fires with `noconnection`, and
// c's names and rooms disappear everywhere else.
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

// A monitor on a room that is already closed fires at once, with `noproc`.
unwatch();
await a.stopProcess(random);
let closed: DownEvent | undefined;
a.monitor(random, (down) => (closed = down));
await until(() => closed !== undefined, 'the monitor on the closed room fired');
console.log(`a monitors 'random' after closing it: ${closed?.reason}`);
assert.equal(closed?.reason, 'noproc');

await b.stop();
await a.stop();
