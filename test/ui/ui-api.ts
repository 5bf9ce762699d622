import assert from 'node:assert/strict';
import { basic, fetchToken, USERS } from '../helpers/auth-berth.ts';
import { blobOf, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import type { RepositoryPage } from '../../registry/ui/repository-list.ts';

/** The spec's error body (or, on success, whatever the endpoint answers). */
export interface ErrorBody {
  errors: { code: string; message: string; detail?: { tags?: string[] } }[];
}

/** The web interface's JSON (README "Web interface") as its pages call it: same origin, the X-Berth-UI header. */
export class UiAPI {
  constructor(
    readonly url: string,
    readonly authorization?: string,
  ) {}

  async call(
    method: string,
    path: string,
    query: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: ErrorBody }> {
    const search = new URLSearchParams(query).toString();
    const response = await fetch(`${this.url}/api/v1/${path}${search ? `?${search}` : ''}`, {
      method,
      headers: { 'X-Berth-UI': '1', ...(this.authorization ? { Authorization: this.authorization } : {}), ...headers },
    });
    return { status: response.status, body: (await response.json()) as ErrorBody };
  }

  async get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    const { status, body } = await this.call('GET', path, query);
    if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
    return body as T;
  }

  /** Polls the repository list until the background figures are computed after `since`. */
  async figuresAfter(since: Date): Promise<RepositoryPage> {
    for (;;) {
      const page = await this.get<RepositoryPage>('repositories');
      if (page.figuresAt && new Date(page.figuresAt) >= since && !page.computing) return page;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** An SBOM-like artifact (distribution-spec "Pushing Manifests with Subject") referring to `subject` in `repository`. */
export async function pushReferrer(
  api: RegistryAPI,
  repository: string,
  subject: TestBlob,
  artifactType = 'application/vnd.example.sbom.v1+json',
): Promise<TestBlob> {
  const config = blobOf('{}');
  const layer = blobOf(JSON.stringify({ sbom: subject.digest.toString() }));
  for (const blob of [config, layer]) await api.pushBlob(repository, blob);
  const manifest = imageManifest(config, [layer], { subject, artifactType, configMediaType: 'application/vnd.oci.empty.v1+json' });
  const response = await api.pushManifest(repository, manifest.digest.toString(), manifest);
  if (response.status !== 201) throw new Error(`referrer push: ${response.status} ${await response.text()}`);
  return manifest;
}

/** An image (a config and one random layer) tagged `tags` in `repository`; `authorization` for a registry with auth. */
export async function pushImage(api: RegistryAPI, repository: string, tags: string[], authorization?: string): Promise<TestBlob> {
  const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
  const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBlob(2_000);
  for (const blob of [config, layer]) {
    const response = await api.request('POST', `/v2/${repository}/blobs/uploads/?digest=${blob.digest}`, {
      body: blob.bytes,
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(response.status, 201, `blob push to ${repository}`);
  }
  const manifest = imageManifest(config, [layer]);
  for (const tag of tags) {
    const response = await api.request('PUT', `/v2/${repository}/manifests/${tag}`, {
      body: manifest.bytes,
      headers: { ...headers, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(response.status, 201, `manifest push to ${repository}`);
  }
  return manifest;
}

/** pushImage into each repository with alice's rights (she may push team/**), as the auth mode wants them. */
export async function pushImages(url: string, mode: 'htpasswd' | 'token', repositories: string[], tags: string[]): Promise<void> {
  const api = new RegistryAPI(url);
  for (const repository of repositories) {
    const authorization = mode === 'token' ? `Bearer ${await fetchToken(url, [`repository:${repository}:pull,push`], 'alice')}` : basic('alice', USERS.alice);
    await pushImage(api, repository, tags, authorization);
  }
}
