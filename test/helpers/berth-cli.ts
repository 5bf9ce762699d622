import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const BERTH_CLI = join(import.meta.dirname, '../../cli/main.ts');

/** Runs `berth ARGS` with `input` on stdin; resolves with its exit code and output. */
export function runBerth(args: string[], input = '', env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', BERTH_CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}
