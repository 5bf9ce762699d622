import type { Request, Response } from 'express';
import { Digest } from '../../oci/digest.ts';
import { parseManifestReference, type ManifestReference } from '../../oci/reference.ts';
import type { Store } from '../../storage/store.ts';
import type { MirrorSection } from '../config/mirror-schema.ts';
import { sendEmpty } from '../responses.ts';
import { BlobFetches } from './blob-fetches.ts';
import { FetchLocks } from './fetch-locks.ts';
import { MirrorRouting, type MirrorTarget } from './routing.ts';
import { TagChecks } from './tag-checks.ts';
import { Upstream } from './upstream.ts';
import { isNotFound, isUpstreamFault, staleWarning, upstreamError } from './upstream-failure.ts';

/**
 * The pull-through cache: before a pull of a mirrored repository reaches its route, the content it
 * asks for is brought into the store (or found fresh there), so the routes answer it as any other
 * content, and catalog, analyze and gc see it as such.
 */
export class Mirror {
  readonly routing: MirrorRouting;
  private readonly checks: TagChecks;
  private readonly blobs: BlobFetches;
  /** Manifest fills under way in this process, by repository and reference: concurrent pulls share one. */
  private readonly manifestFills = new Map<string, Promise<string | undefined>>();

  constructor(
    section: MirrorSection,
    private readonly store: Store,
  ) {
    this.routing = new MirrorRouting(section.upstreams.map((settings) => new Upstream(settings)));
    this.checks = new TagChecks(store);
    this.blobs = new BlobFetches(store, new FetchLocks(store.driver.location));
  }

  /**
   * Makes the manifest the reference names current in the store. When the upstream fails and a
   * copy is held, the copy is served with a Warning; with none, the client gets the upstream's error.
   */
  async fillManifest(target: MirrorTarget, referenceText: string, res: Response): Promise<void> {
    let reference: ManifestReference;
    try {
      reference = parseManifestReference(referenceText);
    } catch {
      // The route refuses it in the spec's terms.
      return;
    }
    const key = `${target.local}:${referenceText}`;
    let fill = this.manifestFills.get(key);
    if (!fill) {
      fill = reference.digest ? this.fillDigest(target, reference.digest) : this.fillTag(target, reference.tag);
      this.manifestFills.set(key, fill);
      const forget = () => this.manifestFills.delete(key);
      fill.then(forget, forget);
    }
    const warning = await fill.catch((error: unknown) => {
      throw isUpstreamFault(error) ? upstreamError(target.upstream, error) : error;
    });
    if (warning) res.setHeader('Warning', warning);
  }

  /** A manifest pinned by digest never changes: held, it is served without asking upstream. */
  private async fillDigest(target: MirrorTarget, digest: Digest): Promise<undefined> {
    if (!(await this.store.repositories.hasManifest(target.local, digest))) await this.fetchManifest(target, digest.toString());
    return undefined;
  }

  /** Resolves to the Warning to serve the cached copy with, if the upstream could not confirm it. */
  private async fillTag(target: MirrorTarget, tag: string): Promise<string | undefined> {
    const { upstream, remote, local } = target;
    const [cached, fresh] = await Promise.all([this.store.repositories.resolveTag(local, tag), this.checks.fresh(local, tag, upstream.tagTtlMs)]);
    if (cached && fresh) return undefined;
    try {
      // Nothing held: one GET. Held: a HEAD, which Docker Hub does not count as a pull, and which mostly finds the tag unmoved.
      let current = cached ? (await upstream.headManifest(remote, tag))?.digest : await this.fetchManifest(target, tag);
      if (cached && current && !current.equals(cached) && !(await this.store.repositories.hasManifest(local, current))) {
        current = await this.fetchManifest(target, current.toString());
      }
      // Gone upstream: the route answers from what is here, as for any repository.
      if (current) await this.checks.confirm(local, tag, current);
      return undefined;
    } catch (error) {
      if (cached && isUpstreamFault(error)) return staleWarning(upstream, error);
      throw error;
    }
  }

  /** Stores the upstream's manifest bytes as served (checked against the reference when it is a digest), without a tag: its digest, or undefined when the upstream has none. */
  private async fetchManifest(target: MirrorTarget, reference: string): Promise<Digest | undefined> {
    const fetched = await target.upstream.getManifest(target.remote, reference).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (fetched) await this.store.repositories.putManifest(target.local, fetched.digest, fetched.bytes, fetched.manifest);
    return fetched?.digest;
  }

  /**
   * Makes the blob available to the route; a GET that fetched it is answered here as it streams
   * ('answered'), as is a HEAD for a blob not held (from the upstream's HEAD, nothing fetched).
   */
  async fillBlob(target: MirrorTarget, digestText: string, req: Request, res: Response): Promise<'answered' | 'stored'> {
    const digest = Digest.tryParse(digestText);
    // Linked and stored: a link alone may be a fetch committing right now (the store links before it moves the bytes in).
    if (!digest || (await this.store.repositories.blobInfo(target.local, digest))) return 'stored';
    const { upstream, remote, local } = target;
    try {
      if (await this.store.blobs.stat(digest)) {
        // Stored for another repository: a digest is no right to its content, the upstream's word is.
        if ((await upstream.blobSize(remote, digest)) !== undefined) await this.store.repositories.linkBlob(local, digest);
        return 'stored';
      }
      if (req.method === 'HEAD') {
        const size = await upstream.blobSize(remote, digest);
        if (size === undefined) return 'stored';
        sendEmpty(res, 200, { 'Docker-Content-Digest': `${digest}`, 'Content-Type': 'application/octet-stream', 'Content-Length': size });
        return 'answered';
      }
      // A range is served by the route once the whole blob is stored.
      const client = req.method === 'GET' && req.headers.range === undefined ? res : undefined;
      return (await this.blobs.fill(target, digest, client)) === 'sent' ? 'answered' : 'stored';
    } catch (error) {
      if (isNotFound(error)) return 'stored';
      throw isUpstreamFault(error) ? upstreamError(upstream, error) : error;
    }
  }
}
