import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { readCredentials, type Credentials } from '../../client/credentials.ts';
import { RegistryResponseError, retryAfterSeconds } from '../../client/errors.ts';
import { createHttp } from '../../client/http.ts';
import { RegistryClient, type FetchedManifest } from '../../client/registry-client.ts';
import type { Descriptor } from '../../oci/descriptor.ts';
import { DigestMismatchError, type Digest } from '../../oci/digest.ts';
import type { UpstreamSection } from '../config/mirror-schema.ts';
import { UpstreamFault } from './upstream-failure.ts';

/** A blob body on its way from the upstream, with the length it declared (undefined when sent chunked). */
export interface UpstreamBlob {
  size?: number;
  body: Readable;
}

const DOCKER_HUB_HOSTS = new Set(['registry-1.docker.io', 'index.docker.io', 'docker.io']);

/**
 * One registry Berth mirrors, spoken to through `client/` (the mirror is its client): Basic or the
 * token flow with the upstream's own credentials. A client's Authorization never comes here.
 */
export class Upstream {
  readonly name: string;
  readonly isDefault: boolean;
  readonly repositories: readonly string[] | undefined;
  readonly tagTtlMs: number;
  /** Docker Hub keeps official images under `library/`, and clients leave it out. */
  readonly isDockerHub: boolean;
  private readonly host: string;
  private client: RegistryClient;

  constructor(
    private readonly settings: UpstreamSection,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.name = settings.name;
    this.isDefault = settings.default;
    this.repositories = settings.repositories;
    this.tagTtlMs = settings.tagTtl;
    const url = new URL(settings.url);
    this.host = url.host;
    this.isDockerHub = settings.name === 'docker.io' || DOCKER_HUB_HOSTS.has(url.hostname);
    this.client = this.connect();
  }

  private connect(): RegistryClient {
    // No retries: a client waiting on a pull is better served from the cache at once; it retries itself.
    const http = createHttp({ idleTimeoutMs: this.settings.timeout, retries: 0 });
    return new RegistryClient(this.host, { http, insecure: new URL(this.settings.url).protocol === 'http:', credentials: () => this.credentials() });
  }

  /** From the file, the environment variable it names, or else docker's config.json for the upstream's host. */
  private async credentials(): Promise<Credentials | undefined> {
    const { username, password, passwordEnv } = this.settings;
    const secret = password ?? (passwordEnv ? this.env[passwordEnv] : undefined);
    if (username && secret) return { username, password: secret };
    return readCredentials(this.isDockerHub ? 'docker.io' : this.host);
  }

  /**
   * Runs `call` on the client. A failure that reached no answer is an UpstreamFault, and the next
   * call starts with a new client, which finds out the upstream's protocol again (a client keeps
   * its first look-up, failed or not).
   */
  private async use<T>(call: (client: RegistryClient) => Promise<T>): Promise<T> {
    const client = this.client;
    try {
      return await call(client);
    } catch (error) {
      if (error instanceof RegistryResponseError || error instanceof DigestMismatchError) throw error;
      if (this.client === client) this.client = this.connect();
      throw new UpstreamFault(error);
    }
  }

  headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    return this.use((client) => client.headManifest(repository, reference));
  }

  /** The manifest's bytes exactly as served, checked against the reference when it is a digest. */
  getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    return this.use((client) => client.getManifest(repository, reference));
  }

  /** The blob's size, or undefined when the upstream does not have it in `repository`. */
  async blobSize(repository: string, digest: Digest): Promise<number | undefined> {
    const response = await this.use((client) => client.request('HEAD', repository, `/v2/${repository}/blobs/${digest}`));
    if (response.statusCode === 404) return undefined;
    if (response.statusCode !== 200) {
      const context = { registry: this.name, repository, retryAfterSeconds: retryAfterSeconds(response.headers['retry-after']) };
      throw RegistryResponseError.from('HEAD', response.url, response.statusCode, undefined, context);
    }
    return declaredLength(response.headers);
  }

  async openBlob(repository: string, digest: Digest): Promise<UpstreamBlob> {
    const { headers, body } = await this.use((client) => client.openBlob(repository, digest));
    return { size: declaredLength(headers), body };
  }
}

function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const length = Number(headers['content-length'] ?? Number.NaN);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
