#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { berthVersion } from './version.ts';

type Register = (program: Command) => void;

/**
 * One module per subcommand under cli/commands/, loaded only when its command runs: a
 * `berth pull` in CI should not pay for loading the registry server or the layer scanner.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./commands/serve.ts')).registerServe,
  pull: async () => (await import('./commands/pull.ts')).registerPull,
  push: async () => (await import('./commands/push.ts')).registerPush,
  copy: async () => (await import('./commands/copy.ts')).registerCopy,
  tags: async () => (await import('./commands/tags.ts')).registerTags,
  inspect: async () => (await import('./commands/inspect.ts')).registerInspect,
  delete: async () => (await import('./commands/delete.ts')).registerDelete,
  login: async () => (await import('./commands/login.ts')).registerLogin,
  gc: async () => (await import('./commands/gc.ts')).registerGc,
  analyze: async () => (await import('./commands/analyze.ts')).registerAnalyze,
  retention: async () => (await import('./commands/retention.ts')).registerRetention,
  conformance: async () => (await import('./commands/conformance.ts')).registerConformance,
  user: async () => (await import('./commands/user.ts')).registerUser,
};

/** The `berth` command with the named subcommand, or all of them (for help and errors). */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('berth')
    .description('Berth: an OCI container registry and a pull/push client')
    .showHelpAfterError()
    .version(berthVersion())
    .exitOverride();
  const load = command !== undefined ? COMMANDS[command] : undefined;
  for (const register of await Promise.all(load ? [load()] : Object.values(COMMANDS).map((loader) => loader()))) register(program);
  return program;
}

try {
  await (await buildProgram(process.argv[2])).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : error.exitCode);
  console.error(`berth: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
