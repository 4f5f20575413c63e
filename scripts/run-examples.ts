/**
 * `npm run examples`: runs every `examples/*.ts` as its own Node.js process and reports pass or fail.
 *
 * Each example asserts its own expectations and exits 0 when they hold. An example fails when it
 * exits non-zero, is killed by a signal, or runs past the timeout (it is then killed). The output of
 * a failing example is printed; the script exits 1 when any example failed.
 *
 * It also checks that README.md quotes `examples/counter.ts` verbatim in a ```ts block, so the
 * README's first example is always one that runs.
 *
 * Usage: `npm run examples [-- name ...]` (names filter by file name, e.g. `counter`).
 * Environment: EXAMPLE_TIMEOUT_MS (default 30000).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = join(root, 'examples');
const timeoutMs = Number(process.env.EXAMPLE_TIMEOUT_MS ?? 30_000);
if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
  console.error(`EXAMPLE_TIMEOUT_MS must be a positive number of milliseconds, got ${JSON.stringify(process.env.EXAMPLE_TIMEOUT_MS)}`);
  process.exit(2);
}

interface Outcome {
  readonly file: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly why: string;
  readonly output: string;
}

function run(file: string): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      // No colour, so failure output stays readable in CI logs; no stdin, so nothing can wait on it.
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (ok: boolean, why: string) => {
      clearTimeout(timer);
      resolve({ file, ok, ms: performance.now() - t0, why, output: Buffer.concat(chunks).toString('utf8') });
    };
    child.on('error', (error) => finish(false, `could not start: ${error.message}`));
    child.on('close', (code, signal) => {
      if (timedOut) finish(false, `timed out after ${timeoutMs} ms (killed)`);
      else if (signal !== null) finish(false, `killed by ${signal}`);
      else if (code !== 0) finish(false, `exit code ${code}`);
      else finish(true, 'exit code 0');
    });
  });
}

const filters = process.argv.slice(2);
const files = (await readdir(examplesDir))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .filter((f) => filters.length === 0 || filters.some((name) => f.includes(name)))
  .sort()
  .map((f) => join(examplesDir, f));

if (files.length === 0) {
  console.error(`no examples found in ${relative(root, examplesDir)}${filters.length > 0 ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

console.log(`running ${files.length} examples (timeout ${timeoutMs} ms each)\n`);
const outcomes: Outcome[] = [];
for (const file of files) {
  const outcome = await run(file);
  outcomes.push(outcome);
  const name = relative(root, file).padEnd(32);
  console.log(`${outcome.ok ? 'PASS' : 'FAIL'}  ${name} ${outcome.ms.toFixed(0).padStart(6)} ms  ${outcome.ok ? '' : outcome.why}`);
  if (!outcome.ok) {
    const output = outcome.output.trimEnd();
    console.log(output.length === 0 ? '      | (no output)' : output.split('\n').map((line) => `      | ${line}`).join('\n'));
  }
}

/** Every `.ts` file under `dir`, as paths. */
async function tsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

/**
 * The README's code lines that no example contains. A snippet is an excerpt: `// ...` lines mark
 * cuts, comment lines and trailing `// comments` may annotate (e.g. with the output), and every
 * other line must be a line of some file under examples/ (compared without indentation).
 */
function snippetLinesNotInExamples(readme: string, sources: readonly string[]): string[] {
  const withoutComment = (line: string) => line.replace(/\s+\/\/ .*$/, '');
  const known = new Set(sources.flatMap((source) => source.split('\n').flatMap((line) => [line.trim(), withoutComment(line.trim())])));
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.split('\n').map((line) => line.trim()))
    .filter((line) => line !== '' && !line.startsWith('//') && !known.has(line) && !known.has(withoutComment(line)));
}

// The README's first example must be examples/counter.ts, verbatim, and every other snippet an
// excerpt of an example, so that every line of code the README shows is one that runs.
if (filters.length === 0) {
  const t0 = performance.now();
  const counter = (await readFile(join(examplesDir, 'counter.ts'), 'utf8')).trimEnd();
  const readme = await readFile(join(root, 'README.md'), 'utf8').catch(() => '');
  const ok = readme.includes(`\`\`\`ts\n${counter}\n\`\`\``);
  const why = ok ? '' : 'README.md does not quote examples/counter.ts verbatim in a ```ts block; copy the file into it';
  outcomes.push({ file: 'README.md', ok, ms: performance.now() - t0, why, output: '' });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${'README.md quotes counter.ts'.padEnd(32)} ${'-'.padStart(6)}     ${why}`);

  const sources = await Promise.all((await tsFiles(examplesDir)).map((f) => readFile(f, 'utf8')));
  const missing = snippetLinesNotInExamples(readme, sources);
  const excerpts = missing.length === 0;
  const whyNot = excerpts ? '' : `README.md shows ${missing.length} line(s) of code that no example contains`;
  outcomes.push({ file: 'README.md', ok: excerpts, ms: 0, why: whyNot, output: missing.join('\n') });
  console.log(`${excerpts ? 'PASS' : 'FAIL'}  ${'README.md snippets are excerpts'.padEnd(32)} ${'-'.padStart(6)}     ${whyNot}`);
  if (!excerpts) console.log(missing.map((line) => `      | ${line}`).join('\n'));
}

const failed = outcomes.filter((o) => !o.ok);
console.log(`\n${outcomes.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length > 0 ? 1 : 0;
