import type { Request, Response } from 'express';
import type { ImmutableTagsRule } from '../analysis/retention-policy.ts';
import type { Store } from '../storage/store.ts';
import type { ManifestCache } from './manifest-cache.ts';

/** What a request asks of a repository, as token scopes name it (auth-scope.md). */
export type Action = 'pull' | 'push' | 'delete' | 'catalog';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Path parameters captured by a route, already decoded; `name` is validated. */
export interface RouteParams {
  name?: string;
  reference?: string;
  digest?: string;
  uploadId?: string;
}

export interface RouteContext {
  req: Request;
  res: Response;
  store: Store;
  manifests: ManifestCache;
  params: RouteParams;
  /** The repository name; routes without one never read it. */
  name: string;
  /** Whether the caller may pull from another repository (cross-repository mount). */
  mayPull(repository: string): boolean;
  /** Tags no push may move and no delete may remove (config `retention.immutableTags`). */
  immutableTags: readonly ImmutableTagsRule[];
}

export interface Endpoint {
  /** The spec's endpoint id (end-N), for logs and errors. */
  id: string;
  action: Action;
  handle(context: RouteContext): Promise<void>;
}

/** One URL shape of the API and the endpoints it serves per method. */
export interface Route {
  pattern: RegExp;
  methods: Partial<Record<Method, Endpoint>>;
}

/** What the router found for a request; later middleware (auth) and the handler read it. */
export interface RouteMatch {
  route: Route;
  endpoint: Endpoint;
  params: RouteParams;
}
