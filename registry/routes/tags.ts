import { RegistryError } from '../errors.ts';
import { paginate } from '../pagination.ts';
import { sendJSON } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

async function listTags({ req, res, store, name }: RouteContext): Promise<void> {
  const tags = await store.repositories.listTags(name);
  if (!tags) throw new RegistryError('NAME_UNKNOWN', `repository ${name} is not known to this registry`);
  const page = paginate(tags, req, `/v2/${name}/tags/list`);
  sendJSON(res, 200, { name, tags: page.items }, page.link ? { Link: page.link } : {});
}

/** end-8a and end-8b: the tag list, whole or a page of it. */
export const tagsRoute: Route = {
  pattern: /^\/v2\/(?<name>.+)\/tags\/list$/,
  methods: { GET: { id: 'end-8', action: 'pull', handle: listTags } },
};
