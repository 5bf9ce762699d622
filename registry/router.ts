import { isRepositoryName } from '../oci/reference.ts';
import { RegistryError } from './errors.ts';
import type { Method, Route, RouteMatch, RouteParams } from './route.ts';
import { baseRoute } from './routes/base.ts';
import { blobsRoute } from './routes/blobs.ts';
import { catalogRoute } from './routes/catalog.ts';
import { manifestsRoute } from './routes/manifests.ts';
import { referrersRoute } from './routes/referrers.ts';
import { tagsRoute } from './routes/tags.ts';
import { uploadRoute, uploadsRoute } from './routes/uploads.ts';

/**
 * Routes in match order. Repository names contain slashes, so each pattern captures the name
 * greedily before a fixed suffix, and the name is then checked against the spec's grammar.
 */
const ROUTES: Route[] = [baseRoute, catalogRoute, uploadsRoute, uploadRoute, blobsRoute, manifestsRoute, tagsRoute, referrersRoute];

function decode(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RegistryError('UNSUPPORTED', `malformed URL component "${value}"`, { status: 400 });
  }
}

/** Finds the endpoint for a request path, or throws the spec's 404/405/400 error. */
export function matchRoute(method: string, path: string): RouteMatch {
  for (const route of ROUTES) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    const groups = found.groups ?? {};
    const endpoint = route.methods[method as Method];
    if (!endpoint) {
      throw new RegistryError('UNSUPPORTED', `${method} is not supported on ${path}`, {
        headers: { Allow: Object.keys(route.methods).join(', ') },
      });
    }
    const params: RouteParams = {
      name: decode(groups.name),
      reference: decode(groups.reference),
      digest: decode(groups.digest),
      uploadId: decode(groups.uploadId),
    };
    if (params.name !== undefined && !isRepositoryName(params.name)) {
      throw new RegistryError('NAME_INVALID', `invalid repository name "${params.name}"`, { detail: { name: params.name } });
    }
    return { route, endpoint, params };
  }
  throw new RegistryError('NAME_UNKNOWN', `no API endpoint at ${path}`, { status: 404 });
}
