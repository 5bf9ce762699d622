import { paginate } from '../pagination.ts';
import { sendJSON } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

async function listRepositories({ req, res, store, mayPull }: RouteContext): Promise<void> {
  const visible = (await store.repositories.recentCatalog()).filter((name) => mayPull(name));
  const page = paginate(visible, req, '/v2/_catalog');
  sendJSON(res, 200, { repositories: page.items }, page.link ? { Link: page.link } : {});
}

/** `/v2/_catalog` (Docker Registry HTTP API v2), paginated like tag lists. */
export const catalogRoute: Route = {
  pattern: /^\/v2\/_catalog$/,
  methods: { GET: { id: 'catalog', action: 'catalog', handle: listRepositories } },
};
