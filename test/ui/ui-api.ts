import { blobOf, imageManifest, type TestBlob } from '../helpers/content.ts';
import type { RegistryAPI } from '../helpers/registry-api.ts';
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
