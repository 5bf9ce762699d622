import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RequestOutcome } from '../metrics/http-metrics.ts';
import type { RouteMatch } from '../route.ts';
import type { EventAction } from './config.ts';
import type { EventTarget, RegistryEvent } from './event.ts';

/** Names this process in `source.instanceID`: each worker sends its own events. */
const INSTANCE_ID = randomUUID();
/** `source.addr`: read once, not with a system call per event. */
const HOST = hostname();
const BLOB_TYPE = 'application/octet-stream';
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function header(value: number | string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value[0] : String(value);
}

function sizeOf(value: number | string | string[] | undefined): number | undefined {
  const size = Number(header(value) ?? Number.NaN);
  return Number.isInteger(size) && size >= 0 ? size : undefined;
}

/** The action a finished request amounts to, and what it was about; undefined for most requests. */
function classify({ req, res }: RequestOutcome, match: RouteMatch): { action: EventAction; target: Omit<EventTarget, 'repository'> } | undefined {
  const status = res.statusCode;
  const digest = header(res.getHeader('docker-content-digest'));
  const reference = match.params.reference;
  const tag = reference && !DIGEST.test(reference) ? reference : undefined;
  switch (`${match.endpoint.id} ${req.method} ${status}`) {
    case 'end-2 GET 200':
    case 'end-2 GET 307':
      return { action: 'pull', target: { mediaType: BLOB_TYPE, digest, size: sizeOf(res.getHeader('content-length')) } };
    case 'end-3 GET 200':
      return { action: 'pull', target: { mediaType: header(res.getHeader('content-type')), digest, size: sizeOf(res.getHeader('content-length')), tag } };
    case 'end-4 POST 201': {
      // 201 to a POST is a mount, or a blob pushed whole in one request; 202 only starts an upload.
      const from = typeof req.query.from === 'string' ? req.query.from : undefined;
      if (req.query.mount !== undefined) return { action: 'mount', target: { mediaType: BLOB_TYPE, digest, ...(from ? { fromRepository: from } : {}) } };
      return { action: 'push', target: { mediaType: BLOB_TYPE, digest, size: sizeOf(req.headers['content-length']) } };
    }
    case 'end-6 PUT 201':
      // Chunks may have come in PATCHes before: the route says the size of what it stored.
      return { action: 'push', target: { mediaType: BLOB_TYPE, digest, size: res.locals.blobSize as number | undefined } };
    case 'end-7 PUT 201':
      return { action: 'push', target: { mediaType: header(req.headers['content-type']), digest, size: sizeOf(req.headers['content-length']), tag } };
    case 'end-9 DELETE 202':
      return { action: 'delete', target: tag ? { tag } : { digest: digest ?? reference } };
    case 'end-10 DELETE 202':
      return { action: 'delete', target: { digest: digest ?? match.params.digest } };
    default:
      return undefined;
  }
}

/** A delete made outside the distribution API (the web interface's): the route says what went, as the spec's routes say it by their match. */
interface Deletion {
  repository: string;
  target: Pick<EventTarget, 'tag' | 'digest'>;
}

/** Records on the response that this request deleted a tag or a manifest, for the webhooks' delete event. */
export function recordDeletion(res: RequestOutcome['res'], deletion: Deletion): void {
  res.locals.deletion = deletion;
}

/**
 * The event a request made, from what the request observer already holds (the route matched, the
 * status, the headers), so no handler knows about notifications. Only completed responses count:
 * a pull cut off halfway pulled nothing.
 */
export function deriveEvent(outcome: RequestOutcome, requestId: string): RegistryEvent | undefined {
  const { req, res } = outcome;
  if (!res.writableFinished) return undefined;
  const match = res.locals.match as RouteMatch | undefined;
  const deletion = res.locals.deletion as Deletion | undefined;
  const repository = deletion?.repository ?? match?.params.name;
  const found: ReturnType<typeof classify> = deletion
    ? { action: 'delete', target: deletion.target }
    : match?.params.name
      ? classify(outcome, match)
      : undefined;
  if (!found || !repository) return undefined;
  const host = req.headers.host;
  const { target } = found;
  const kind = target.mediaType === BLOB_TYPE || match?.endpoint.id === 'end-10' ? 'blobs' : 'manifests';
  const url = host && target.digest ? `${req.protocol}://${host}/v2/${repository}/${kind}/${target.digest}` : undefined;
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    action: found.action,
    target: { ...target, ...(target.size !== undefined ? { length: target.size } : {}), repository, ...(url ? { url } : {}) },
    request: { id: requestId, addr: req.socket?.remoteAddress, host, method: req.method, useragent: req.headers['user-agent'] },
    actor: { name: res.locals.user as string | undefined },
    source: { addr: HOST, instanceID: INSTANCE_ID },
  };
}
