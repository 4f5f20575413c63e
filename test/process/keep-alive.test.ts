import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../helpers/await-timeout-script.ts', import.meta.url));

function run(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr });
    });
  });
}

describe('keep-alive — awaited deadlines', () => {
  it('a script that awaits a call that is never answered gets TIMEOUT instead of exiting early', async () => {
    const { code, stdout, stderr } = await run();
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n')).toEqual(['call: TIMEOUT', 'sleep: done', 'stopped']);
    expect(code).toBe(0);
  });
});
