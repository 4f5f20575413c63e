/**
 * `npm run demo`: a cluster of three Node.js processes on this machine, one of them killed.
 *
 * It starts three application nodes (`examples/demo/node.ts`, each its own process) and joins them
 * from this process as the `edge` node. The application nodes run one session per user under a
 * distributed supervisor (placed on a hash ring of the nodes) and expose an `app` service; the
 * edge logs users in and sends them page views through a balancer, from 8 concurrent clients.
 * Then it kills (SIGKILL) the node that runs the most sessions, in the middle of the traffic.
 *
 * The live view shows what each node sees of the cluster, where each session runs, the calls each
 * node answers, the calls that failed over to another node, and the killed node's sessions
 * coming back on the survivors. It ends by itself after about 12 seconds, stops every process it
 * started, and checks that no call was lost. On a terminal the view redraws in place; otherwise
 * (or with NO_COLOR) it prints plain lines.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { Node, isCohortError, serviceRef, type NodeId } from '../src/index.js';
import type { DemoNodeConfig, DemoReport } from './demo/node.js';

const NAMES = ['alpha', 'bravo', 'charlie'] as const;
const USERS = ['ada', 'alan', 'bob', 'cy', 'dan', 'eve', 'fay', 'gus', 'ivy', 'joe', 'kim', 'lea'];
const CLIENTS = 8;
const TRAFFIC_BEFORE_KILL_MS = 3_000;
const TRAFFIC_AFTER_RECOVERY_MS = 3_000;

// --- output ------------------------------------------------------------------------------------

const live = process.stdout.isTTY === true && (process.env.NO_COLOR ?? '') === '' && process.env.CI === undefined;
const paint = (code: number) => (text: string) => (live ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint(1);
const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);
const cyan = paint(36);

const t0 = Date.now();
const clock = (at = Date.now()) => `${((at - t0) / 1000).toFixed(1).padStart(5)} s`;
const short = (id: NodeId) => id.split('@')[0]!;
const count = (n: number) => n.toLocaleString('en-US');

/** Pads or cuts `text` to `width` characters, then colours it (colour codes take no columns). */
function cell(text: string, width: number, colour: (s: string) => string = (s) => s): string {
  const fitted = text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
  return colour(fitted);
}

/** Cuts a coloured line to `columns` visible characters, so that no line wraps and the redraw stays in place. */
function fit(line: string, columns: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      out += line.slice(i, end + 1);
      i = end;
    } else if (visible < columns) {
      out += line[i];
      visible++;
    }
  }
  return out;
}

// --- the application nodes -----------------------------------------------------------------

interface AppNode {
  readonly name: string;
  readonly child: ChildProcess;
  id: NodeId | undefined;
  members: readonly { readonly id: NodeId; readonly status: string }[];
  sessions: readonly string[];
  killed: boolean;
  exited: boolean;
  stderr: string;
}

const secret = randomBytes(24).toString('base64url');
const nodeScript = fileURLToPath(new URL('./demo/node.ts', import.meta.url));
const events: string[] = [];
const apps: AppNode[] = [];

/** Every process this demo started is killed when it exits, however it exits. */
const killAll = () => apps.forEach((a) => !a.exited && a.child.kill('SIGKILL'));
process.on('exit', () => {
  killAll();
  if (live) process.stdout.write('\x1b[?25h');
});
process.on('SIGINT', () => process.exit(130));

let logging = false;
function log(text: string, at = Date.now()): void {
  const line = `${dim(clock(at))}  ${text}`;
  events.push(line);
  if (!live && logging) console.log(line);
}

function startApp(name: string, seed: NodeId): AppNode {
  const config: DemoNodeConfig = { name, secret, seeds: [seed] };
  const child = spawn(process.execPath, ['--import', 'tsx', nodeScript], {
    env: { ...process.env, COHORT_DEMO: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const app: AppNode = { name, child, id: undefined, members: [], sessions: [], killed: false, exited: false, stderr: '' };
  child.stderr!.on('data', (chunk: Buffer) => (app.stderr += chunk.toString('utf8')));
  child.on('exit', () => (app.exited = true));
  child.on('message', (r: DemoReport) => {
    if (r.type === 'ready') app.id = r.id;
    else if (r.type === 'status') {
      app.members = r.members;
      app.sessions = r.sessions;
    } else if (!app.killed) {
      const user = r.text.startsWith('runs session:') ? r.text.slice('runs session:'.length) : undefined;
      if (user !== undefined && orphans.includes(user)) lastOrphanAt = Math.max(lastOrphanAt, r.at);
      // Where the sessions start at first shows in the table; after a kill, each restart is news.
      if (user === undefined || orphans.length > 0) log(`${bold(name)} ${r.text}`, r.at);
    }
  });
  return app;
}

/** Waits until `check` holds, polling every 20 ms for at most `ms`. */
async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      const errors = apps.filter((a) => a.stderr !== '').map((a) => `--- ${a.name} stderr:\n${a.stderr}`);
      assert.fail(`timed out after ${ms} ms waiting until ${what}${errors.length > 0 ? `\n${errors.join('\n')}` : ''}`);
    }
    await delay(20);
  }
}

// --- the edge: traffic through a balancer ------------------------------------------------------

const app = serviceRef<{
  login: (user: string) => Promise<{ user: string; sessionOn: string }>;
  view: (user: string, page: string) => Promise<{ user: string; views: number; servedBy: string; sessionOn: string }>;
}>('app');

const edge = await Node.start({ name: 'edge', secret });
edge.on('suspect', (e) => log(`${bold('edge')} suspects ${short(e.node)}`));
edge.on('nodeDown', (e) => log(`${bold('edge')} declares ${short(e.node)} down (${e.reason})`));

interface Answer {
  readonly at: number;
  readonly by: string;
  readonly ms: number;
}
const answers: Answer[] = []; // the last second of answers, for the rates and the p99
const answeredBy = new Map<string, number>();
let answered = 0;
let failed = 0;
const failures: string[] = [];
const failedOverBy = new Map<NodeId, number>();
let phase = `starting ${NAMES.length} nodes`;
/** The sessions of the killed node, when it was killed, and when the last of them ran again. */
let orphans: string[] = [];
let killedAt = 0;
let lastOrphanAt = 0;
/** Sessions that came back on a survivor after their node was killed. */
const recovered = new Set<string>();

const lb = edge.balancer(app, { algorithm: 'least-connections', timeoutMs: 10_000 });
const failedOver = () => {
  for (const s of lb.stats()) failedOverBy.set(s.node, Math.max(failedOverBy.get(s.node) ?? 0, s.failures));
  return [...failedOverBy.values()].reduce((a, b) => a + b, 0);
};

let traffic = true;
async function client(n: number): Promise<void> {
  for (let i = 0; traffic && i < 100_000; i++) {
    const user = USERS[(n * 7 + i) % USERS.length]!;
    const started = performance.now();
    try {
      const r = await lb.call('view', [user, `/page/${i % 10}`]);
      answered++;
      answeredBy.set(r.servedBy, (answeredBy.get(r.servedBy) ?? 0) + 1);
      answers.push({ at: Date.now(), by: r.servedBy, ms: performance.now() - started });
    } catch (error) {
      failed++;
      failures.push(isCohortError(error) ? `${error.code}: ${error.message}` : String(error));
    }
    await delay(10); // a client thinks between pages, so the machine stays responsive
  }
}

// --- the view ----------------------------------------------------------------------------------

const LOG_LINES = 12;
let drawn = 0;

function frame(): string[] {
  const now = Date.now();
  while (answers.length > 0 && answers[0]!.at < now - 1_000) answers.shift();
  const lines = [`${bold('cohort demo')}  ${dim(clock(now))}  ${phase}`, ''];
  lines.push(dim(`  ${cell('node', 8)}${cell('pid', 7)}${cell('sees', 25)}${cell('sessions (on a hash ring)', 36)}${'calls/s'.padStart(8)}${'answered'.padStart(9)}`));
  const everyone = [edge.id, ...apps.map((a) => a.id)].filter((id): id is NodeId => id !== undefined);
  for (const a of apps) {
    const name = cell(a.name, 8, bold);
    const pid = cell(String(a.child.pid ?? ''), 7, dim);
    const sees = a.killed
      ? cell('killed', 25, red)
      : everyone
          .map((id) => {
            const m = a.members.find((x) => x.id === id);
            const label = short(id);
            if (m?.status === 'alive') return green(label);
            if (m?.status === 'suspect') return yellow(label);
            return dim('·'.repeat(label.length));
          })
          .join(' ') + ' '.repeat(Math.max(0, 25 - everyone.map(short).join(' ').length));
    const sessions = cell(a.killed ? '' : a.sessions.map((s) => (recovered.has(s) ? `${s}*` : s)).join(' '), 36, cyan);
    const rate = answers.filter((x) => x.by === a.name).length;
    lines.push(`  ${name}${pid}${sees}${sessions}${String(rate).padStart(8)}${count(answeredBy.get(a.name) ?? 0).padStart(9)}`);
  }
  const running = new Set(apps.filter((a) => !a.killed).flatMap((a) => a.sessions));
  const ms = answers.map((x) => x.ms).sort((a, b) => a - b);
  const p99 = ms.length === 0 ? '-' : `${ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))]!.toFixed(0)} ms`;
  lines.push('');
  lines.push(
    `  ${cell('edge', 8, bold)}${running.size} of ${USERS.length} sessions running · ${count(answered)} calls answered · ` +
      `${(failed === 0 ? green : red)(`${failed} failed`)} · ${yellow(`${failedOver()} failed over`)} · p99 ${p99}`,
  );
  lines.push(dim(recovered.size > 0 ? '  * came back on a survivor after its node was killed · p99 over the last second' : '  p99 over the last second'));
  lines.push('', dim('  what happened'));
  for (const e of events.slice(-LOG_LINES)) lines.push(`  ${e}`);
  return lines;
}

/** Redraws the view in place (terminal), or prints it whole (`print`, for logs and pipes). */
function draw(print = false): void {
  const lines = frame();
  if (live) {
    const columns = process.stdout.columns ?? 100;
    let out = drawn > 0 ? `\x1b[${drawn}F` : '';
    for (const line of lines) out += `\x1b[2K${fit(line, columns - 1)}\n`;
    for (let i = lines.length; i < drawn; i++) out += '\x1b[2K\n';
    process.stdout.write(out);
    drawn = Math.max(drawn, lines.length);
  } else if (print) {
    console.log(`\n${lines.slice(0, lines.indexOf(dim('  what happened')) - 1).join('\n')}\n`);
  }
}

// --- the story ---------------------------------------------------------------------------------

if (live) process.stdout.write('\x1b[?25l');
const painter = setInterval(draw, 100);
console.log(live ? '' : `cohort demo: ${NAMES.length} nodes in their own processes, plus this one as the edge\n`);

logging = true;
for (const name of NAMES) apps.push(startApp(name, edge.id));
log(`started ${NAMES.map((n) => bold(n)).join(', ')} as child processes; this process is ${bold(short(edge.id))}`);
await until(() => apps.every((a) => a.id !== undefined), 'every node is listening', 30_000);
await until(
  () => apps.every((a) => a.members.filter((m) => m.status === 'alive').length === NAMES.length + 1) && lb.nodes().length === NAMES.length,
  'every node sees the others and the app service on each',
);
log(`the cluster formed: every node sees ${NAMES.length + 1} members and ${NAMES.length} providers of 'app'`);

phase = `logging in ${USERS.length} users`;
const logins = await Promise.all(USERS.map((user) => lb.call('login', [user])));
await until(() => apps.reduce((n, a) => n + a.sessions.length, 0) === USERS.length, 'every session runs');
log(`${USERS.length} sessions started, each on the ring owner of its id: ${NAMES.map((n) => `${n} ${logins.filter((l) => l.sessionOn === n).length}`).join(', ')}`);
draw(true);

phase = `${CLIENTS} clients browsing through a least-connections balancer`;
log(phase);
const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
await delay(TRAFFIC_BEFORE_KILL_MS);
draw(true);

// The victim: the node with the most sessions (placement depends on the ports the nodes got).
const victim = apps.reduce((a, b) => (b.sessions.length > a.sessions.length ? b : a));
orphans = [...victim.sessions];
const survivors = apps.filter((a) => a !== victim);
killedAt = Date.now();
victim.killed = true;
victim.child.kill('SIGKILL');
phase = red(`${victim.name} killed`) + ` · its ${orphans.length} sessions must come back on ${survivors.map((a) => a.name).join(' and ')}`;
log(red(`killed ${bold(victim.name)} (SIGKILL, pid ${victim.child.pid}) with ${orphans.length} sessions: ${orphans.join(', ')}`), killedAt);

const runningOnce = () => {
  const all = survivors.flatMap((a) => a.sessions);
  return all.length === USERS.length && new Set(all).size === USERS.length;
};
await until(runningOnce, `the ${orphans.length} sessions of ${victim.name} run again on the survivors`);
for (const s of orphans) recovered.add(s);
const recoveryMs = lastOrphanAt - killedAt;
phase = green(`recovered`) + ` · ${victim.name}'s sessions run again on ${survivors.map((a) => `${a.name} (${orphans.filter((s) => a.sessions.includes(s)).length})`).join(' and ')}`;
log(green(`all ${USERS.length} sessions run, each once; the last of ${victim.name}'s started again ${recoveryMs} ms after the kill`), lastOrphanAt);
await delay(TRAFFIC_AFTER_RECOVERY_MS);

// --- the end -----------------------------------------------------------------------------------

phase = 'stopping';
traffic = false;
await Promise.all(clients);
const total = answered;
const overs = failedOver();
draw(true);
clearInterval(painter);
draw();
logging = false;
for (const a of survivors) a.child.send({ type: 'stop' });
await until(() => survivors.every((a) => a.exited), 'the survivors stopped', 20_000);
await edge.stop();
if (live) process.stdout.write('\x1b[?25h');

console.log(
  `\n${bold('done')} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${count(total)} calls, ${failed === 0 ? green('every one answered') : red(`${failed} failed`)}; ` +
    `${overs} failed over to another node when ${victim.name} died; its ${orphans.length} sessions ran again on the survivors ` +
    `${recoveryMs} ms after the kill (a session restarted elsewhere starts fresh: state that must survive a crash belongs in a store or a handoff); ` +
    `every process stopped.`,
);
assert.deepEqual(failures, [], 'no call may be lost');
assert.ok(total > 0 && answeredBy.size === NAMES.length, 'every node answered calls');
assert.ok(survivors.every((a) => a.exited) && victim.exited, 'every process stopped');
