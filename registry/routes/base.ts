import { sendJSON } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

async function apiVersion({ res }: RouteContext): Promise<void> {
  sendJSON(res, 200, {});
}

/** end-1: the registry implements the distribution API. */
export const baseRoute: Route = {
  pattern: /^\/v2\/?$/,
  methods: {
    GET: { id: 'end-1', action: 'pull', handle: apiVersion },
    HEAD: { id: 'end-1', action: 'pull', handle: apiVersion },
  },
};
