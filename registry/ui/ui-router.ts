import { join } from 'node:path';
import express, { type Request, type Response } from 'express';
import type { ImmutableTagsRule } from '../../analysis/retention-policy.ts';
import { Digest } from '../../oci/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { isRepositoryName, isTag } from '../../oci/reference.ts';
import type { Store } from '../../storage/store.ts';
import type { AuthServices } from '../auth/load-auth.ts';
import type { UiSettings } from '../config/ui-schema.ts';
import { RegistryError } from '../errors.ts';
import { checkDelete } from '../immutable-tags.ts';
import { recordDeletion } from '../notifications/derive-event.ts';
import { sendJSON, singleQuery } from '../responses.ts';
import { assetsDirectory } from './assets.ts';
import { FigureCache } from './figure-cache.ts';
import { viewImage } from './image-view.ts';
import { listRepositories } from './repository-list.ts';
import { viewRepository } from './repository-view.ts';
import { viewStorage } from './storage-view.ts';
import { checkSameOrigin, refuse, uiCaller, type UiCaller } from './ui-caller.ts';

export interface UiOptions {
  store: Store;
  auth?: AuthServices;
  immutableTags: readonly ImmutableTagsRule[];
  settings: UiSettings;
  log: (message: string) => void;
}

/** Pages load nothing from elsewhere and run no inline script; no other site may frame them (a delete button). */
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

const MAX_PAGE = 1000;

/**
 * The web interface (README "Web interface"): the pages at `/` and `/ui/…`, and the JSON they read
 * under `/api/v1/`, authorised by the same access rules as the distribution API.
 */
export function uiRouter(options: UiOptions): express.Router {
  const { store, auth } = options;
  const figures = new FigureCache(store, options.settings.refreshMs, options.log);
  const assets = assetsDirectory();
  const router = express.Router();
  /** Who calls, also named on the response for the request log and the delete events (a caller refused included). */
  const caller = async (req: Request, res: Response): Promise<UiCaller> => {
    const who = await uiCaller(auth, req);
    res.locals.user = who.user;
    return who;
  };
  const json = (res: Response, body: unknown) => sendJSON(res, 200, body, { 'Cache-Control': 'no-store' });

  router.get('/', (_req, res) => res.set(PAGE_HEADERS).sendFile(join(assets, 'index.html')));
  // A file not there falls through to the app's 404 (a read error of `send` would be a 500).
  router.use('/ui', express.static(assets, { index: false, redirect: false, setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff') }));

  router.get('/api/v1/session', async (req, res) => {
    const who = await caller(req, res);
    json(res, { auth: auth?.config.mode ?? 'none', user: who.user ?? null, mayList: who.mayList, isAdmin: who.isAdmin });
  });

  router.get('/api/v1/repositories', async (req, res) => {
    const who = await caller(req, res);
    if (!who.mayList) throw refuse(who, 'list the repositories');
    const last = singleQuery(req.query.last, 'last');
    json(
      res,
      await listRepositories(store, figures, who, { q: singleQuery(req.query.q, 'q') ?? '', n: pageSize(req, 50), ...(last !== undefined ? { last } : {}) }),
    );
  });

  router.get('/api/v1/repository', async (req, res) => {
    const { name, who } = await pullable(req, res);
    const last = singleQuery(req.query.last, 'last');
    const view = await viewRepository(store, name, { n: pageSize(req, 100), ...(last !== undefined ? { last } : {}) });
    json(res, { ...view, mayDelete: who.may(name, 'delete') });
  });

  router.get('/api/v1/image', async (req, res) => {
    const { name, who } = await pullable(req, res);
    json(res, { ...(await viewImage(store, figures.current(), who, name, digestParameter(req))), mayDelete: who.may(name, 'delete') });
  });

  router.get('/api/v1/storage', async (req, res) => {
    await admin(req, res);
    json(res, viewStorage(figures.current(), figures.computing, figures.lastDeepScan(), figures.deepScanning));
  });

  router.post('/api/v1/storage/deep-scan', async (req, res) => {
    checkSameOrigin(req);
    await admin(req, res);
    figures.startDeepScan();
    sendJSON(res, 202, { deepScanning: true });
  });

  router.delete('/api/v1/tag', async (req, res) => {
    checkSameOrigin(req);
    const name = await deletable(req, res);
    const tag = singleQuery(req.query.tag, 'tag') ?? '';
    if (!isTag(tag)) throw new RegistryError('MANIFEST_INVALID', `invalid tag "${tag}"`, { status: 400, detail: { tag } });
    await checkDelete(options.immutableTags, store, name, { tag });
    if (!(await store.repositories.deleteTag(name, tag)))
      throw new RegistryError('MANIFEST_UNKNOWN', `tag ${name}:${tag} is not known`, { detail: { name, tag } });
    figures.invalidate();
    recordDeletion(res, { repository: name, target: { tag } });
    json(res, { deleted: { repository: name, tag } });
  });

  router.delete('/api/v1/manifest', async (req, res) => {
    checkSameOrigin(req);
    const name = await deletable(req, res);
    const digest = digestParameter(req);
    const confirmed = (singleQuery(req.query.tags, 'tags') ?? '').split(',').filter(Boolean).sort();
    const naming = [...(await store.repositories.tagTargets(name))].filter(([, target]) => target.equals(digest)).map(([tag]) => tag);
    // The tags go with the manifest: the caller must have been shown exactly these, not a list a push has since changed.
    if (naming.join(',') !== confirmed.join(',')) {
      throw new RegistryError('DENIED', `deleting ${name}@${digest} also deletes the tags ${naming.join(', ') || '(none)'}: confirm exactly those`, {
        status: 409,
        detail: { tags: naming },
      });
    }
    const manifest = await store.repositories.getManifest(name, digest);
    if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository ${name}`, { detail: { name, digest: `${digest}` } });
    await checkDelete(options.immutableTags, store, name, { digest });
    await store.repositories.deleteManifest(name, digest, subjectOf(manifest));
    figures.invalidate();
    recordDeletion(res, { repository: name, target: { digest: digest.toString() } });
    json(res, { deleted: { repository: name, digest: digest.toString(), tags: naming } });
  });

  async function pullable(req: Request, res: Response): Promise<{ name: string; who: UiCaller }> {
    const name = nameParameter(req);
    const who = await caller(req, res);
    if (!who.may(name, 'pull')) throw refuse(who, `pull from ${name}`);
    return { name, who };
  }

  async function deletable(req: Request, res: Response): Promise<string> {
    const name = nameParameter(req);
    const who = await caller(req, res);
    if (!who.may(name, 'delete')) throw refuse(who, `delete from ${name}`);
    return name;
  }

  async function admin(req: Request, res: Response): Promise<void> {
    const who = await caller(req, res);
    if (!who.isAdmin) throw refuse(who, 'see the storage of every repository');
  }

  return router;
}

function nameParameter(req: Request): string {
  const name = singleQuery(req.query.name, 'name') ?? '';
  if (!isRepositoryName(name)) throw new RegistryError('NAME_INVALID', `invalid repository name "${name}"`, { detail: { name } });
  return name;
}

function digestParameter(req: Request): Digest {
  return Digest.parse(singleQuery(req.query.digest, 'digest') ?? '');
}

function pageSize(req: Request, fallback: number): number {
  const text = singleQuery(req.query.n, 'n');
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE) {
    throw new RegistryError('UNSUPPORTED', `n must be a whole number from 1 to ${MAX_PAGE}, not "${text}"`, { status: 400 });
  }
  return Number(text);
}

/** The subject of stored manifest bytes, whose referrers-index entry goes with the manifest. */
function subjectOf(bytes: Buffer): Digest | undefined {
  try {
    return parseManifest(bytes).subject?.digest;
  } catch {
    return undefined;
  }
}
