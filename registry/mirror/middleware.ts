import type { NextFunction, Request, Response } from 'express';
import type { Store } from '../../storage/store.ts';
import type { MirrorSection } from '../config/mirror-schema.ts';
import { RegistryError } from '../errors.ts';
import { singleQuery } from '../responses.ts';
import type { RouteMatch } from '../route.ts';
import { Mirror } from './mirror.ts';
import type { MirrorTarget } from './routing.ts';

type Middleware = (req: Request, res: Response, next: NextFunction) => Promise<void> | void;

/** The mirror's two steps around auth (registry/app.ts). */
export interface MirrorLayer {
  /**
   * Before auth: a mirrored repository's name becomes its name in the store
   * (`docker.io/library/alpine` for `alpine`, `library/alpine?ns=docker.io` and the prefixed name
   * alike), so the access rules and the routes see that one name.
   */
  route: Middleware;
  /** After auth: pushes and deletes refused, pulls given the content they ask for. */
  fill: Middleware;
}

export function mirrorLayer(section: MirrorSection, store: Store): MirrorLayer {
  const mirror = new Mirror(section, store);
  return {
    route(req, res, next) {
      const match = res.locals.match as RouteMatch | undefined;
      const name = match?.params.name;
      const target = name === undefined ? undefined : mirror.routing.route(name, singleQuery(req.query.ns, 'ns'));
      if (match && target) {
        match.params.name = target.local;
        res.locals.mirrorTarget = target;
      }
      next();
    },
    async fill(req, res, next) {
      const target = res.locals.mirrorTarget as MirrorTarget | undefined;
      const match = res.locals.match as RouteMatch | undefined;
      if (!target || !match) return next();
      if (match.endpoint.action !== 'pull') {
        throw new RegistryError('UNSUPPORTED', `${target.local} mirrors ${target.upstream.name}: it takes no pushes or deletes`, {
          detail: { name: target.local },
        });
      }
      if (match.endpoint.id === 'end-3') await mirror.fillManifest(target, match.params.reference!, res);
      if (match.endpoint.id === 'end-2' && (await mirror.fillBlob(target, match.params.digest!, req, res)) === 'answered') return;
      next();
    },
  };
}
