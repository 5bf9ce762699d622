import { readCredentials } from '../client/credentials.ts';
import { RegistryConnectionError, RegistryResponseError, accessFor } from '../client/errors.ts';

/** A failed command as the user reads it: what went wrong, and what to do about it when we can tell. */
export interface Failure {
  error: string;
  hint?: string;
  status?: number;
  codes?: string[];
}

/** Commands whose every step needs both rights on the target, whichever request was refused. */
const WRITES = new Set(['push', 'copy']);

/** What a refusal means for this user: not logged in, refused credentials, or a user without the right. */
async function accessHint(error: RegistryResponseError, command: string): Promise<string | undefined> {
  const { registry, repository } = error.context;
  if (registry === undefined) return undefined;
  const credentials = await readCredentials(registry).catch(() => undefined);
  if (!credentials) return `not logged in to ${registry}: run \`berth login ${registry}\``;
  if (error.status === 401) return `the credentials stored for ${registry} (user ${credentials.username}) were refused: run \`berth login ${registry}\` again`;
  const right = repository ? `${accessFor(error.method)} rights on ${repository}${WRITES.has(command) ? ` (a ${command} needs pull and push)` : ''}` : 'access';
  return `logged in to ${registry} as ${credentials.username}, who lacks ${right}: ask for them, or \`berth login ${registry}\` as another user`;
}

function connectionHint(error: RegistryConnectionError): string | undefined {
  if (error.kind === 'untrusted') return 'trust its CA with NODE_EXTRA_CA_CERTS=ca.pem, or skip verification with --insecure';
  return error.code === 'ECONNREFUSED' ? 'is the registry running, and on that port?' : undefined;
}

/** Explains a failure of `command`; `login` gets no hint to log in, its refusal is the answer. */
export async function explainFailure(error: unknown, command: string): Promise<Failure> {
  const failure: Failure = { error: error instanceof Error ? error.message : String(error) };
  let hint: string | undefined;
  if (error instanceof RegistryResponseError) {
    Object.assign(failure, { status: error.status, codes: error.codes });
    if ((error.status === 401 || error.status === 403) && command !== 'login') hint = await accessHint(error, command);
  } else if (error instanceof RegistryConnectionError) {
    hint = connectionHint(error);
  }
  return hint ? { ...failure, hint } : failure;
}

/** One JSON document on stdout for a pipeline, or the message and its hint on stderr. */
export function printFailure(failure: Failure, json: boolean): void {
  if (json) console.log(JSON.stringify(failure, null, 2));
  else console.error(`berth: ${failure.error}${failure.hint ? `\nhint: ${failure.hint}` : ''}`);
}
