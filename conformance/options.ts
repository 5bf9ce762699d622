/** Settings of a conformance run: the official suite's environment variables, or flags. */
export interface ConformanceOptions {
  /** The registry's base URL, e.g. http://127.0.0.1:5000 (OCI_ROOT_URL). */
  rootURL: string;
  /** Repository the checks push to (OCI_NAMESPACE). */
  namespace: string;
  /** Second repository for cross-repository mounts (OCI_CROSSMOUNT_NAMESPACE). */
  crossmountNamespace: string;
  username?: string;
  password?: string;
  workflows: Record<Workflow, boolean>;
  /** true: automatic mount (no `from`) must give 201; false: must give 202; undefined: either. */
  automaticCrossmount?: boolean;
  /** Delete manifests before the blobs they reference (OCI_DELETE_MANIFEST_BEFORE_BLOBS). */
  deleteManifestBeforeBlobs: boolean;
  /** Run only checks whose id or title contains this text (case-insensitive). */
  only?: string;
}

export const WORKFLOWS = ['pull', 'push', 'content discovery', 'content management'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

export class UsageError extends Error {}

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UsageError(`${name} must be true or false, not "${value}"`);
}

/** Options from the official suite's variables; any workflow not enabled means all run. */
export function optionsFromEnv(env: NodeJS.ProcessEnv, overrides: Partial<ConformanceOptions> = {}): ConformanceOptions {
  const enabled = {
    pull: flag(env.OCI_TEST_PULL, 'OCI_TEST_PULL'),
    push: flag(env.OCI_TEST_PUSH, 'OCI_TEST_PUSH'),
    'content discovery': flag(env.OCI_TEST_CONTENT_DISCOVERY, 'OCI_TEST_CONTENT_DISCOVERY'),
    'content management': flag(env.OCI_TEST_CONTENT_MANAGEMENT, 'OCI_TEST_CONTENT_MANAGEMENT'),
  };
  const any = Object.values(enabled).some(Boolean);
  const workflows = Object.fromEntries(WORKFLOWS.map((w) => [w, any ? enabled[w] === true : true])) as Record<Workflow, boolean>;
  const rootURL = overrides.rootURL ?? env.OCI_ROOT_URL;
  if (!rootURL) throw new UsageError('a registry URL is required (argument or OCI_ROOT_URL)');
  let parsed: URL;
  try {
    parsed = new URL(rootURL);
  } catch {
    throw new UsageError(`"${rootURL}" is not a URL`);
  }
  if (!/^https?:$/.test(parsed.protocol)) throw new UsageError(`"${rootURL}" must be an http or https URL`);
  return {
    rootURL: parsed.origin,
    namespace: env.OCI_NAMESPACE || 'conformance/test',
    crossmountNamespace: env.OCI_CROSSMOUNT_NAMESPACE || 'conformance/crossmount',
    username: env.OCI_USERNAME || undefined,
    password: env.OCI_PASSWORD || undefined,
    workflows,
    automaticCrossmount: flag(env.OCI_AUTOMATIC_CROSSMOUNT, 'OCI_AUTOMATIC_CROSSMOUNT'),
    deleteManifestBeforeBlobs: flag(env.OCI_DELETE_MANIFEST_BEFORE_BLOBS, 'OCI_DELETE_MANIFEST_BEFORE_BLOBS') ?? true,
    ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)),
  };
}
