import { homedir } from 'node:os';
import { join } from 'node:path';

export const TOKEN_KEY_FILE = 'berth-token-key.pem';

/** A path segment made of a bucket name or prefix part, safe whatever it holds (no `..`, no separators). */
function segment(part: string): string {
  return part === '.' || part === '..' ? part.replaceAll('.', '%2E') : encodeURIComponent(part);
}

/**
 * Where the built-in token issuer keeps its signing key unless `auth.token.key` says: beside the
 * data it guards, not in whatever directory the server was started from (where it was written
 * before, unignored by git). On disk that is the storage root, outside Distribution's tree; a
 * bucket is no place for a private key, so for S3 it is the local state directory
 * (`$XDG_STATE_HOME/berth/BUCKET/PREFIX`, by default under `~/.local/state`).
 */
export function defaultTokenKey(storage: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!storage.startsWith('s3://')) return join(storage, TOKEN_KEY_FILE);
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const parts = storage.slice('s3://'.length).split('/').filter(Boolean).map(segment);
  return join(state, 'berth', ...parts, TOKEN_KEY_FILE);
}
