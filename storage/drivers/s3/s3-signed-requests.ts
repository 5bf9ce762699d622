import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { buffer } from 'node:stream/consumers';
import type { FileInfo } from '../../driver.ts';
import { parseKeyPage, type KeyPage } from './key-page.ts';

/** SHA-256 of an empty body, which GET and HEAD requests sign. */
const EMPTY_BODY_SHA256 = createHash('sha256').digest('hex');
const TIMEOUT_MS = 30_000;

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** The SDK's data as node:crypto takes it: a string, or the bytes viewed without a copy. */
function hashInput(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** The signer's hash, from node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', hashInput(secret));
  }

  update(data: SourceData): void {
    this.hash.update(hashInput(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** What a quick read found; undefined means it could not tell, and the SDK is asked. */
export type Found<T> = { found: T } | 'missing' | undefined;

/** Percent-encoded the way SigV4 expects: everything but unreserved characters. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A key as a path: every segment encoded, slashes kept. */
function encodeKey(key: string): string {
  return key.split('/').map(encode).join('/');
}

/** A response's body, or undefined where it broke off or came short of its Content-Length. */
async function wholeBody(response: IncomingMessage): Promise<Buffer | undefined> {
  const body = await buffer(response).catch(() => undefined);
  const expected = response.headers['content-length'];
  return body && (expected === undefined || Number(expected) === body.length) ? body : undefined;
}

/**
 * Requests Berth signs itself, with the SDK's SigV4 signer but without the SDK's client: HEADs, GETs
 * and PUTs of small objects (links, tags, sizes, manifests) and listings on kept-alive connections,
 * and presigned blob URLs. Through the SDK each cost about 1.6–2 ms of CPU, here 0.4 and 0.05, and a burst of
 * blob HEADs on S3 was held by that CPU; a listing costs 0.5–0.7 ms here against 0.9–1.3. The bucket's address is the SDK's own (endpoint, path
 * style, region), read once from a URL it presigns. Any answer but 200 or 404, and any failure, is
 * left to the SDK (undefined), which knows S3's errors and retries.
 */
export class SignedRequests {
  private readonly signer: SignatureV4;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  private base: Promise<URL | undefined> | undefined;
  /** Set once the server answered a listing with a body that is not one: each listing would cost two requests. */
  private listingsUnread = false;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {
    this.signer = new SignatureV4({
      credentials: client.config.credentials,
      region: client.config.region,
      service: 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** The URL the SDK addresses the bucket's keys under, ending in a slash; asked again after a failure (credentials not yet there, say). */
  private bucketURL(): Promise<URL | undefined> {
    this.base ??= getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: 'k' })).then(
      (signed) => {
        const url = new URL(signed);
        url.search = '';
        url.pathname = url.pathname.slice(0, -1);
        return url.pathname.endsWith('/') ? url : undefined;
      },
      () => {
        this.base = undefined;
        return undefined;
      },
    );
    return this.base;
  }

  /** Where `key` is, once the bucket's address is known. */
  private async urlOf(key: string): Promise<URL | undefined> {
    const base = await this.bucketURL();
    return base && new URL(encodeKey(key), base);
  }

  /** The bucket's own URL, which ListObjectsV2 is asked at, with `query`. */
  private async listURL(query: Record<string, string>): Promise<URL | undefined> {
    const base = await this.bucketURL();
    if (!base) return undefined;
    const url = new URL(base);
    // Path style names the bucket as the path's one segment: `/bucket`, as the SDK asks it.
    if (url.pathname !== '/') url.pathname = url.pathname.slice(0, -1);
    url.search = Object.entries(query)
      .map(([name, value]) => `${encode(name)}=${encode(value)}`)
      .join('&');
    return url;
  }

  /** One ListObjectsV2 page of the keys under `prefix`, from `token` on. */
  async list(prefix: string, delimiter: string | undefined, token: string | undefined): Promise<KeyPage | undefined> {
    if (this.listingsUnread) return undefined;
    const query = { 'list-type': '2', prefix, ...(delimiter ? { delimiter } : {}), ...(token ? { 'continuation-token': token } : {}) };
    const response = await this.send('GET', await this.listURL(query));
    if (response === 'missing' || response === undefined) return undefined;
    const body = await wholeBody(response);
    if (!body) return undefined;
    const page = parseKeyPage(body.toString('utf8'));
    if (!page) this.listingsUnread = true;
    return page;
  }

  async head(key: string): Promise<Found<FileInfo>> {
    const response = await this.send('HEAD', await this.urlOf(key));
    if (response === 'missing' || response === undefined) return response;
    response.resume();
    const size = Number(response.headers['content-length']);
    if (!Number.isSafeInteger(size)) return undefined;
    const modified = new Date(response.headers['last-modified'] ?? 0);
    return { found: { size, modified: Number.isNaN(modified.getTime()) ? new Date(0) : modified } };
  }

  async get(key: string): Promise<Found<Buffer>> {
    const response = await this.send('GET', await this.urlOf(key));
    if (response === 'missing' || response === undefined) return response;
    const body = await wholeBody(response);
    return body && { found: body };
  }

  /**
   * Writes a small object (a link, a tag, a manifest: a push writes five); false leaves it to the SDK.
   * A PUT sent twice writes the same bytes twice, so the SDK may send again what failed here.
   */
  async put(key: string, content: Buffer): Promise<boolean> {
    const response = await this.send('PUT', await this.urlOf(key), content);
    if (response === 'missing' || response === undefined) return false;
    response.resume();
    return true;
  }

  /** A URL that GETs `key` for `seconds`, without further credentials. */
  async presignedGet(key: string, seconds: number): Promise<string | undefined> {
    const url = await this.urlOf(key);
    if (!url) return undefined;
    const signed = await this.signer
      .presign(
        // S3 signs presigned URLs over an unsigned payload; the signer carries that into the query.
        {
          method: 'GET',
          protocol: url.protocol,
          hostname: url.hostname,
          path: url.pathname,
          query: {},
          headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { expiresIn: seconds },
      )
      .catch(() => undefined);
    if (!signed) return undefined;
    const query = Object.entries(signed.query ?? {}).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
    return `${url.origin}${url.pathname}?${query.join('&')}`;
  }

  /** The response to a signed request, once its head is in: 200 to be read, 'missing' for a 404, else undefined. */
  private async send(method: 'GET' | 'HEAD' | 'PUT', url: URL | undefined, body?: Buffer): Promise<IncomingMessage | 'missing' | undefined> {
    if (!url) return undefined;
    const signed = await this.signer
      .sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: {
          host: url.host,
          'x-amz-content-sha256': body ? createHash('sha256').update(body).digest('hex') : EMPTY_BODY_SHA256,
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
      })
      .catch(() => undefined);
    if (!signed) return undefined;
    const secure = url.protocol === 'https:';
    return new Promise((resolve) => {
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        { method, headers: signed.headers, agent: secure ? this.agents.https : this.agents.http, timeout: TIMEOUT_MS },
        (response) => {
          if (response.statusCode === 200) return resolve(response);
          response.resume();
          resolve(response.statusCode === 404 ? 'missing' : undefined);
        },
      );
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(undefined));
      request.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
