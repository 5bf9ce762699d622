import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Whether someone sits at standard input to be asked (not a pipe or a file). */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY);
}

/** Where a hidden answer's echo goes: readline writes what is typed to its output, and nobody may see it. */
const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() });

/**
 * Asks on the terminal and resolves with the line typed. The question goes to stderr (stdout may
 * be a pipe); without `echo` the terminal is in raw mode and nothing typed is shown. Ctrl-C and
 * Ctrl-D cancel with an error.
 */
export function ask(question: string, { echo }: { echo: boolean }): Promise<string> {
  const lines = createInterface({ input: process.stdin, output: echo ? process.stderr : nowhere, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    lines.once('SIGINT', () => lines.close());
    lines.once('close', () => {
      if (!echo) process.stderr.write('\n');
      if (!answered) reject(new Error('cancelled: no answer given'));
    });
    // Raw mode is on once the interface exists: the question shows only when typing no longer echoes.
    if (echo) {
      lines.setPrompt(question);
      lines.prompt();
    } else {
      process.stderr.write(question);
    }
    lines.once('line', (line) => {
      answered = true;
      resolve(line);
      lines.close();
    });
  });
}

/** The first line of standard input, without its line break (`--password-stdin`, a pipe). */
export async function readStdinLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split(/\r?\n/)[0] ?? '';
}

/**
 * A password, never empty: asked without echo on a terminal (twice with `confirm`, as passwd
 * does), else the first line of standard input.
 */
export async function readPassword(question: string, { confirm = false }: { confirm?: boolean } = {}): Promise<string> {
  if (!canPrompt()) {
    const line = await readStdinLine();
    if (!line) throw new Error('no password on standard input');
    return line;
  }
  const password = await ask(question, { echo: false });
  if (!password) throw new Error('no password given');
  if (confirm && (await ask('Retype it: ', { echo: false })) !== password) throw new Error('the two passwords differ');
  return password;
}
