import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Response } from 'express';
import type { Digest } from '../oci/digest.ts';
import { RegistryError } from './errors.ts';

/** Sends a JSON body with an exact Content-Length (HEAD: headers only). */
export function sendJSON(res: Response, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Sends a response without a body. */
export function sendEmpty(res: Response, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Length': 0, ...headers });
  res.end();
}

export const blobLocation = (name: string, digest: Digest) => `/v2/${name}/blobs/${digest}`;
export const uploadLocation = (name: string, id: string) => `/v2/${name}/blobs/uploads/${id}`;
export const manifestLocation = (name: string, digest: Digest) => `/v2/${name}/manifests/${digest}`;

/** The `Range` header of upload responses: the inclusive range received so far. */
export function uploadRange(offset: number): string {
  return `0-${Math.max(offset - 1, 0)}`;
}

/**
 * Reads a whole (small) request body, refusing more than `limit` bytes with `tooLarge()`.
 * The stream is left open on refusal, so the error can still be answered.
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: () => RegistryError): Promise<Buffer> {
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd).pause();
      reject(tooLarge());
    };
    const onEnd = () => resolve(Buffer.concat(chunks, size));
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/** A query parameter given once, or undefined; repeated parameters are a client error. */
export function singleQuery(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw new RegistryError('UNSUPPORTED', `query parameter "${name}" must be given once`, { status: 400 });
}
