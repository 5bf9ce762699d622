import type { TestBlob } from './content.ts';
import { MediaType } from '../../oci/media-types.ts';

/** Thin fetch wrappers over the distribution API, for tests that drive a registry by hand. */
export class RegistryAPI {
  constructor(readonly url: string) {}

  /** `path` may come straight from a Location header: a missing one fails the test here. */
  request(method: string, path: string | null, init: { body?: Uint8Array | string; headers?: Record<string, string> } = {}): Promise<Response> {
    if (path === null) throw new Error(`${method}: the previous response had no Location`);
    const target = path.startsWith('http') ? path : `${this.url}${path}`;
    return fetch(target, { method, body: init.body as BodyInit | undefined, headers: init.headers, redirect: 'manual' });
  }

  /** Pushes a blob with a single POST (end-4b) and checks it was created. */
  async pushBlob(name: string, blob: TestBlob): Promise<void> {
    const response = await this.request('POST', `/v2/${name}/blobs/uploads/?digest=${blob.digest}`, {
      body: blob.bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    if (response.status !== 201) throw new Error(`push of ${blob.digest} to ${name}: ${response.status} ${await response.text()}`);
  }

  async pushManifest(name: string, reference: string, manifest: TestBlob, mediaType: string = MediaType.ociManifest): Promise<Response> {
    return this.request('PUT', `/v2/${name}/manifests/${reference}`, { body: manifest.bytes, headers: { 'Content-Type': mediaType } });
  }

  /** The `errors[].code` values of an error response. */
  static async errorCodes(response: Response): Promise<string[]> {
    const body = (await response.json()) as { errors: { code: string }[] };
    return body.errors.map((error) => error.code);
  }
}
