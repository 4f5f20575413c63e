/**
 * Compiles `src/` with tsc into a temporary directory, so benchmarks measure cohort as the
 * JavaScript users run rather than the TypeScript sources through tsx (whose esbuild `keepNames`
 * wraps every named closure creation in a `__name()` call and makes a call about 2× slower).
 *
 * The directory lives outside the repository (so linters and test runners never see the output),
 * with a `node_modules` link back to the repository's, so the compiled code resolves its
 * dependencies. Type errors do not stop the bench (tsc still emits), but they are reported on
 * stderr. The caller removes the directory with `cleanup` (or `removeSync` from a signal handler).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A compiled copy of `src/`. */
export interface CompiledSources {
  /** The compiled `index.js`. */
  readonly entry: string;
  /** Removes the temporary directory. */
  cleanup(): Promise<void>;
  /** Removes it synchronously, for `exit` and signal handlers. */
  removeSync(): void;
}

/** Compiles `<root>/src` (by `<root>/tsconfig.build.json`) and returns its entry point. */
export async function compileSources(root: string): Promise<CompiledSources> {
  const dir = await mkdtemp(join(tmpdir(), 'cohort-bench-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'junction');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    process.stderr.write('compiling src/ with tsc...\n');
    const outDir = join(dir, 'dist');
    const result = spawnSync(
      process.execPath,
      [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false', '--noEmitOnError', 'false'],
      { cwd: root, encoding: 'utf8' },
    );
    const entry = join(outDir, 'index.js');
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    if (!existsSync(entry)) throw new Error(`tsc did not produce ${entry}:\n${output}`);
    if (result.status !== 0) {
      process.stderr.write(`warning: tsc reported errors in src/; the bench goes on with what it emitted:\n${output.split('\n').slice(0, 10).join('\n')}\n`);
    }
    return { entry, cleanup, removeSync: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
