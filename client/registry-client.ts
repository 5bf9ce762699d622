import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Digest, DigestMismatchError } from '../oci/digest.ts';
import type { Descriptor } from '../oci/descriptor.ts';
import { parseManifest, type Manifest } from '../oci/manifest.ts';
import { bareMediaType, MANIFEST_ACCEPT, MediaType } from '../oci/media-types.ts';
import { DEFAULT_REGISTRY } from '../oci/reference.ts';
import { Authenticator } from './auth.ts';
import { connectionError } from './connection-errors.ts';
import type { Credentials } from './credentials.ts';
import { RegistryResponseError, retryAfterSeconds } from './errors.ts';
import type { Http, HttpRequest, HttpResponse } from './http.ts';
import { chooseOrigin } from './origin.ts';

export interface RegistryClientOptions {
  http: Http;
  /**
   * An insecure registry (docker's `insecure-registries`): its certificate is not verified, and
   * plain HTTP serves where it does not speak HTTPS (as it may on localhost and loopback addresses).
   */
  insecure?: boolean;
  credentials: () => Promise<Credentials | undefined>;
  /** Told which protocol the registry is reached with (`--verbose`). */
  log?: (line: string) => void;
}

/** A manifest as fetched: its exact bytes, parsed form, media type and digest. */
export interface FetchedManifest {
  bytes: Buffer;
  manifest: Manifest;
  mediaType: string;
  digest: Digest;
}

/** A blob body being received; `status` 206 means the server honoured the Range asked for. */
export interface BlobResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** Docker Hub's API lives at a different host than the name users write. */
function apiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? 'registry-1.docker.io' : registry;
}

/** Streams from a digest-named source are digest-checked here only when whole in memory. */
function checkDigest(expected: Digest, bytes: Buffer, source: string): void {
  const actual = Digest.of(bytes, expected.algorithm);
  if (!actual.equals(expected)) throw new DigestMismatchError(expected, actual, source);
}

/**
 * The distribution-spec API of one registry over HTTP: manifests, blobs, uploads, mounts, tags,
 * referrers and deletes, with the auth challenge answered on the way.
 */
export class RegistryClient {
  private readonly http: Http;
  private readonly auth: Authenticator;
  private origin?: Promise<string>;

  constructor(
    readonly registry: string,
    private readonly options: RegistryClientOptions,
  ) {
    this.http = options.insecure ? options.http.insecure() : options.http;
    this.auth = new Authenticator(this.http, options.credentials, registry);
  }

  /** `https://HOST` or, where allowed and HTTPS is not spoken, `http://HOST`; found out once. */
  private async url(path: string): Promise<URL> {
    this.origin ??= chooseOrigin(this.http, this.registry, apiHost(this.registry), {
      plainAllowed: Boolean(this.options.insecure) || LOOPBACK.test(this.registry),
      ...(this.options.log ? { log: this.options.log } : {}),
    });
    return new URL(path, await this.origin);
  }

  /** A request that reached nothing says so in the user's terms (not reachable, certificate not trusted). */
  private unreached(error: unknown, url: URL): unknown {
    return connectionError(error, this.registry, url.origin) ?? error;
  }

  /**
   * One request, answering a 401 challenge once. Bodies that are streams cannot be sent twice, so
   * callers send those only after an earlier request of the same scope authenticated.
   */
  async request(method: string, repository: string, target: string | URL, init: Omit<HttpRequest, 'method'> = {}): Promise<HttpResponse> {
    const url = typeof target === 'string' ? await this.url(target) : target;
    const send = (authorization: string | undefined) =>
      this.http.request(url, { ...init, method, headers: withAuthorization(init.headers, authorization) }).catch((error: unknown) => {
        throw this.unreached(error, url);
      });
    const sent = this.auth.current(repository);
    const response = await send(sent);
    const challenge = response.headers['www-authenticate'];
    const answered = response.statusCode === 401 && challenge ? await this.auth.answer(challenge, repository, sent) : undefined;
    return answered ? send(answered) : response;
  }

  private error(method: string, url: URL | string, repository: string, status: number, headers: IncomingHttpHeaders, body: Buffer): RegistryResponseError {
    const context = { registry: this.registry, repository, retryAfterSeconds: retryAfterSeconds(headers['retry-after']) };
    return RegistryResponseError.from(method, String(url), status, body, context);
  }

  private fail(method: string, repository: string, response: HttpResponse): never {
    throw this.error(method, response.requestUrl, repository, response.statusCode, response.headers, response.body);
  }

  /** `GET /v2/`: checks the registry answers and the credentials (if any) are accepted. */
  async ping(): Promise<void> {
    const response = await this.request('GET', '', '/v2/');
    if (response.statusCode !== 200) this.fail('GET', '', response);
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const response = await this.request('GET', repository, path, { headers: { accept: MANIFEST_ACCEPT } });
    if (response.statusCode !== 200) this.fail('GET', repository, response);
    const bytes = response.body;
    const contentType = response.headers['content-type'];
    const pinned = Digest.tryParse(reference);
    if (pinned) checkDigest(pinned, bytes, `${repository}@${reference}`);
    const manifest = parseManifest(bytes, contentType);
    return { bytes, manifest, mediaType: manifest.mediaType, digest: pinned ?? Digest.of(bytes) };
  }

  /** The descriptor a tag or digest resolves to, or undefined when the registry lacks it. */
  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const response = await this.request('HEAD', repository, path, { headers: { accept: MANIFEST_ACCEPT } });
    if (response.statusCode === 404) return undefined;
    if (response.statusCode !== 200) this.fail('HEAD', repository, response);
    const digest = Digest.tryParse(String(response.headers['docker-content-digest'] ?? '')) ?? Digest.tryParse(reference);
    if (!digest) return this.describe(await this.getManifest(repository, reference));
    return {
      mediaType: bareMediaType(response.headers['content-type']) ?? MediaType.ociManifest,
      digest,
      size: Number(response.headers['content-length'] ?? 0),
    };
  }

  private describe(fetched: FetchedManifest): Descriptor {
    return { mediaType: fetched.mediaType, digest: fetched.digest, size: fetched.bytes.length };
  }

  async putManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<void> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const response = await this.request('PUT', repository, path, { body: bytes, headers: { 'content-type': mediaType } });
    if (response.statusCode !== 201) this.fail('PUT', repository, response);
  }

  /**
   * Deletes by digest (the manifest, with every tag on it) or by tag (that tag only; the manifest
   * stays, as do its other tags).
   */
  async deleteManifest(repository: string, reference: string): Promise<void> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const response = await this.request('DELETE', repository, path);
    if (response.statusCode !== 202) this.fail('DELETE', repository, response);
  }

  async hasBlob(repository: string, digest: Digest): Promise<boolean> {
    const path = `/v2/${repository}/blobs/${digest}`;
    const response = await this.request('HEAD', repository, path);
    if (response.statusCode === 404) return false;
    if (response.statusCode !== 200) this.fail('HEAD', repository, response);
    return true;
  }

  /** Small blobs (configs), read whole and checked. */
  async getBlobBytes(repository: string, digest: Digest): Promise<Buffer> {
    const path = `/v2/${repository}/blobs/${digest}`;
    const response = await this.request('GET', repository, path);
    if (response.statusCode !== 200) this.fail('GET', repository, response);
    checkDigest(digest, response.body, `${repository}@${digest}`);
    return response.body;
  }

  /**
   * Opens a blob's body as a stream, from byte `offset` on (a `Range` request). The caller checks
   * `status`: 206 resumes at `offset`, 200 starts again from byte 0.
   */
  async openBlob(repository: string, digest: Digest, offset = 0): Promise<BlobResponse> {
    const url = await this.url(`/v2/${repository}/blobs/${digest}`);
    let authorization = this.auth.current(repository);
    for (let attempt = 0; ; attempt++) {
      const response = await this.http
        .stream(url, { headers: withAuthorization(offset > 0 ? { range: `bytes=${offset}-` } : {}, authorization), retry: false })
        .catch((error: unknown) => {
          throw this.unreached(error, url);
        });
      const challenge = response.headers['www-authenticate'];
      const answered =
        response.statusCode === 401 && attempt === 0 && typeof challenge === 'string'
          ? await this.auth.answer(challenge, repository, authorization)
          : undefined;
      if (answered) {
        response.body.destroy();
        authorization = answered;
        continue;
      }
      if (response.statusCode === 200 || response.statusCode === 206) return { status: response.statusCode, headers: response.headers, body: response.body };
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(chunk as Buffer);
      throw this.error('GET', url, repository, response.statusCode, response.headers, Buffer.concat(chunks));
    }
  }

  /** Cross-repository mount: true when the registry linked the blob, false when it wants an upload. */
  async mountBlob(repository: string, digest: Digest, from: string): Promise<boolean> {
    const path = `/v2/${repository}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`;
    const response = await this.request('POST', repository, path);
    if (response.statusCode === 201) return true;
    if (response.statusCode === 202) {
      await this.cancelUpload(repository, this.location(response));
      return false;
    }
    return this.fail('POST', repository, response);
  }

  private location(response: HttpResponse): URL {
    const location = response.headers.location;
    if (!location) throw new Error(`${response.url}: ${response.statusCode} without a Location`);
    return new URL(location, response.url);
  }

  /** Starts an upload session (POST) and returns its location. */
  async startUpload(repository: string): Promise<URL> {
    const path = `/v2/${repository}/blobs/uploads/`;
    const response = await this.request('POST', repository, path);
    if (response.statusCode !== 202) this.fail('POST', repository, response);
    return this.location(response);
  }

  private async cancelUpload(repository: string, location: URL): Promise<void> {
    await this.request('DELETE', repository, location).catch(() => undefined);
  }

  /**
   * Uploads a small blob in one request (POST with `digest`, end-4b); a registry that opens a
   * session instead (Distribution) gets the bytes in the closing PUT.
   */
  async uploadSmall(repository: string, digest: Digest, bytes: Buffer): Promise<void> {
    const path = `/v2/${repository}/blobs/uploads/?digest=${digest}`;
    const headers = { 'content-type': 'application/octet-stream' };
    const response = await this.request('POST', repository, path, { body: bytes, headers });
    if (response.statusCode === 201) return;
    if (response.statusCode !== 202) this.fail('POST', repository, response);
    await this.finishUpload(repository, this.location(response), digest, bytes);
  }

  /** The closing PUT of an upload, with the last bytes if any; `_state` and other parameters kept. */
  async finishUpload(repository: string, location: URL, digest: Digest, body?: Buffer): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest.toString());
    const response = await this.request('PUT', repository, url, {
      ...(body ? { body } : {}),
      headers: { 'content-type': 'application/octet-stream', ...(body ? {} : { 'content-length': '0' }) },
    });
    if (response.statusCode !== 201) this.fail('PUT', repository, response);
  }

  /**
   * How many bytes an upload session holds (its `Range: 0-N` header) and where to continue it
   * (Distribution moves the session's `_state` along with every response).
   */
  async uploadStatus(repository: string, location: URL): Promise<{ offset: number; location: URL }> {
    const response = await this.request('GET', repository, location);
    if (response.statusCode !== 204 && response.statusCode !== 200) this.fail('GET', repository, response);
    const range = /^(?:bytes=)?0-(\d+)$/.exec(String(response.headers.range ?? ''));
    return { offset: range ? Number(range[1]) + 1 : 0, location: response.headers.location ? this.location(response) : location };
  }

  /**
   * Sends a stream of bytes to an upload session in one PATCH starting at `offset`, returning the
   * session's next location. Not retried here: the caller resumes from the registry's offset.
   */
  async patchUpload(repository: string, location: URL, body: Readable, offset: number, length?: number): Promise<URL> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (length !== undefined) {
      headers['content-length'] = String(length);
      if (length > 0) headers['content-range'] = `${offset}-${offset + length - 1}`;
    }
    const response = await this.request('PATCH', repository, location, { body, headers, retry: false });
    if (response.statusCode !== 202 && response.statusCode !== 204) this.fail('PATCH', repository, response);
    return this.location(response);
  }

  /** Every tag of a repository, following `Link` pagination. */
  async tags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (next) {
      const response = await this.request('GET', repository, next);
      if (response.statusCode !== 200) this.fail('GET', repository, response);
      tags.push(...((JSON.parse(response.body.toString('utf8')) as { tags?: string[] | null }).tags ?? []));
      next = /<([^>]+)>;\s*rel="?next"?/.exec(String(response.headers.link ?? ''))?.[1];
    }
    return tags;
  }

  /**
   * Manifests whose subject is `digest` (end-12a), or the referrers tag schema's index
   * (`sha256-<hex>`) when the registry has no referrers API.
   */
  async referrers(repository: string, digest: Digest, artifactType?: string): Promise<Descriptor[]> {
    const filter = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const path = `/v2/${repository}/referrers/${digest}${filter}`;
    const response = await this.request('GET', repository, path, { headers: { accept: MediaType.ociIndex } });
    let index: Manifest | undefined;
    if (response.statusCode === 200) {
      index = parseManifest(response.body, MediaType.ociIndex);
    } else if (response.statusCode === 404) {
      const fallback = await this.headManifest(repository, `${digest.algorithm}-${digest.hex}`);
      if (fallback) index = (await this.getManifest(repository, fallback.digest.toString())).manifest;
    } else {
      this.fail('GET', repository, response);
    }
    const found = index?.kind === 'index' ? index.manifests : [];
    return artifactType ? found.filter((d) => d.artifactType === artifactType) : found;
  }
}

function withAuthorization(headers: Record<string, string> = {}, authorization: string | undefined): Record<string, string> {
  return authorization ? { ...headers, authorization } : headers;
}
