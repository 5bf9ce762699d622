import { spawn } from 'node:child_process';
import { BERTH_CLI } from './berth-cli.ts';

/** One step of a conversation: wait until the output so far matches `expect`, then type `type`. */
export interface Exchange {
  expect: RegExp;
  type: string;
}

const quoted = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `berth ARGS` on a pseudo-terminal (util-linux `script`), as someone at a terminal would:
 * its standard input is a terminal whose echo the program controls. Resolves with the exit code and
 * everything the terminal showed, which includes whatever was echoed of what was typed.
 */
export function berthOnTerminal(
  args: string[],
  conversation: Exchange[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, '--import', 'tsx', BERTH_CLI, ...args].map(quoted).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const steps = [...conversation];
  const onOutput = (chunk: Buffer) => {
    screen += chunk.toString();
    while (steps[0] && steps[0].expect.test(screen)) child.stdin.write(steps.shift()!.type);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')} on a terminal did not finish; the screen:\n${screen}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ code, screen });
    });
  });
}
