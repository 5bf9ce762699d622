#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAnalyze } from './commands/analyze.ts';
import { registerConformance } from './commands/conformance.ts';
import { registerGc } from './commands/gc.ts';
import { registerPull } from './commands/pull.ts';
import { registerPush } from './commands/push.ts';
import { registerCopy } from './commands/copy.ts';
import { registerTags } from './commands/tags.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerDelete } from './commands/delete.ts';
import { registerLogin } from './commands/login.ts';
import { registerServe } from './commands/serve.ts';
import { registerUser } from './commands/user.ts';

/** The `berth` command: one module per subcommand under cli/commands/. */
export function buildProgram(): Command {
  const program = new Command('berth')
    .description('Berth: an OCI container registry and a pull/push client')
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  registerAnalyze(program);
  registerGc(program);
  registerConformance(program);
  registerPull(program);
  registerPush(program);
  registerCopy(program);
  registerTags(program);
  registerInspect(program);
  registerDelete(program);
  registerLogin(program);
  registerUser(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : error.exitCode);
  console.error(`berth: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
