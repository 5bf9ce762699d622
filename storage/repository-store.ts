import { Digest, isDigestAlgorithm } from '../oci/digest.ts';
import type { Manifest } from '../oci/manifest.ts';
import { isRepositoryName } from '../oci/reference.ts';
import type { BlobStore, OpenedBlob } from './blob-store.ts';
import { unlessMissing, type ByteRange, type Driver, type FileInfo } from './driver.ts';
import { ImageTimeStore } from './image-times.ts';
import { paths } from './paths.ts';

/**
 * A repository is a set of link files pointing into the shared blob store: `_layers` for blobs,
 * `_manifests/revisions` for manifests, `_manifests/tags` for tags (Distribution's layout).
 */
export class RepositoryStore {
  constructor(
    private readonly driver: Driver,
    private readonly blobs: BlobStore,
    private readonly times: ImageTimeStore = new ImageTimeStore(driver),
  ) {}

  private async readLink(path: string): Promise<Digest | undefined> {
    const content = await unlessMissing(this.driver.getContent(path));
    return content && Digest.tryParse(content.toString('utf8').trim());
  }

  private writeLink(path: string, digest: Digest): Promise<void> {
    return this.driver.putContent(path, digest.toString());
  }

  private async linkExists(path: string): Promise<boolean> {
    return (await this.driver.stat(path)) !== undefined;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.driver.list(paths.repository(name))).length > 0;
  }

  /** Links a stored blob into the repository, making it pullable there. */
  linkBlob(name: string, digest: Digest): Promise<void> {
    return this.writeLink(paths.layerLink(name, digest), digest);
  }

  /**
   * The blob's info if the repository holds it, as a layer or as a manifest (so any
   * content of the repository can be fetched by digest through the blob endpoint).
   */
  async blobInfo(name: string, digest: Digest): Promise<FileInfo | undefined> {
    // Both round trips at once: on S3 each costs a request, and a download waits for both.
    const [linked, info] = await Promise.all([this.holdsBlob(name, digest), this.blobs.stat(digest)]);
    return linked ? info : undefined;
  }

  /**
   * Opens a blob the repository holds for a client, with its bytes in the range `wanted` picks for
   * its size (BlobStore.open): undefined when the repository does not hold it or storage lacks it.
   */
  openBlob(name: string, digest: Digest, wanted?: (size: number) => ByteRange | undefined): Promise<OpenedBlob | undefined> {
    return this.blobs.open(digest, this.holdsBlob(name, digest), wanted);
  }

  /** Whether the repository links the blob, as a layer or as a manifest. */
  async holdsBlob(name: string, digest: Digest): Promise<boolean> {
    return (await this.linkExists(paths.layerLink(name, digest))) || this.linkExists(paths.revisionLink(name, digest));
  }

  /** Removes the repository's link to a blob; the bytes stay until garbage collection. */
  async unlinkBlob(name: string, digest: Digest): Promise<boolean> {
    if (!(await this.linkExists(paths.layerLink(name, digest)))) return false;
    await this.driver.delete(linkDir(paths.layerLink(name, digest)));
    return true;
  }

  async hasManifest(name: string, digest: Digest): Promise<boolean> {
    return this.linkExists(paths.revisionLink(name, digest));
  }

  /** The manifest's bytes, if the repository holds it. */
  async getManifest(name: string, digest: Digest): Promise<Buffer | undefined> {
    if (!(await this.hasManifest(name, digest))) return undefined;
    return unlessMissing(this.blobs.getContent(digest));
  }

  /**
   * Stores manifest bytes as a blob, then links the revision (with its push time), indexes it under its
   * subject and points `tags` at it, all at once: on S3 each write is a round trip.
   */
  async putManifest(name: string, digest: Digest, bytes: Buffer, manifest: Manifest, tags: string[] = []): Promise<void> {
    await this.blobs.putContent(digest, bytes);
    // The push time with the revision: every way a manifest is stored (a PUT, a mirror, a copy) records it.
    await Promise.all([
      this.writeLink(paths.revisionLink(name, digest), digest),
      this.times.recordPushed(name, digest),
      manifest.subject ? this.writeLink(paths.referrerLink(name, manifest.subject.digest, digest), digest) : undefined,
      ...tags.map((tag) => this.tag(name, tag, digest)),
    ]);
  }

  /** Deletes a manifest revision, every tag pointing at it, and its referrers-index entry. */
  async deleteManifest(name: string, digest: Digest, subject: Digest | undefined): Promise<boolean> {
    if (!(await this.hasManifest(name, digest))) return false;
    for (const tag of await this.listTagNames(name)) {
      if ((await this.resolveTag(name, tag))?.equals(digest)) await this.driver.delete(paths.tag(name, tag));
    }
    if (subject) await this.driver.delete(linkDir(paths.referrerLink(name, subject, digest)));
    await this.driver.delete(linkDir(paths.revisionLink(name, digest)));
    await this.times.forget(name, digest);
    return true;
  }

  async resolveTag(name: string, tag: string): Promise<Digest | undefined> {
    return this.readLink(paths.tagCurrentLink(name, tag));
  }

  /** Berth reads only the tag's `current` link; the index link is written alongside for Distribution, which reads both. */
  async tag(name: string, tag: string, digest: Digest): Promise<void> {
    await Promise.all([this.writeLink(paths.tagIndexLink(name, tag, digest), digest), this.writeLink(paths.tagCurrentLink(name, tag), digest)]);
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    // Read as a tag is resolved, where a shared cache (LinkCache) may hold it. A tag the list shows
    // whose `current` link is missing or not a digest (damaged, or half written by another tool) can be deleted too.
    const present = (await this.resolveTag(name, tag)) !== undefined || (await this.driver.list(paths.tag(name, tag))).length > 0;
    if (!present) return false;
    await this.driver.delete(paths.tag(name, tag));
    return true;
  }

  private listTagNames(name: string): Promise<string[]> {
    return this.driver.list(paths.tagsRoot(name));
  }

  /** Tags in ASCII order, or undefined when the repository does not exist. */
  async listTags(name: string): Promise<string[] | undefined> {
    const tags = await this.listTagNames(name);
    if (tags.length === 0 && !(await this.exists(name))) return undefined;
    return tags.sort(asciiOrder);
  }

  /** Each tag (in ASCII order) with the manifest it names now; a tag whose link is gone is left out. */
  async tagTargets(name: string): Promise<Map<string, Digest>> {
    const tags = (await this.listTags(name)) ?? [];
    const targets = await Promise.all(tags.map((tag) => this.resolveTag(name, tag)));
    const byTag = new Map<string, Digest>();
    tags.forEach((tag, i) => {
      if (targets[i]) byTag.set(tag, targets[i]);
    });
    return byTag;
  }

  /** Digests of the manifests in the repository whose `subject` is the given digest. */
  async referrers(name: string, subject: Digest): Promise<Digest[]> {
    const root = paths.referrersRoot(name, subject);
    const found: Digest[] = [];
    for (const algorithm of await this.driver.list(root)) {
      if (!isDigestAlgorithm(algorithm)) continue;
      for (const hex of await this.driver.list(`${root}/${algorithm}`)) {
        const digest = Digest.tryParse(`${algorithm}:${hex}`);
        if (digest && (await this.hasManifest(name, digest))) found.push(digest);
      }
    }
    return found;
  }

  private recentWalk?: CatalogWalk;

  /**
   * The catalog as listed by the walk under way, or by a recent one. A client paging through a
   * large catalog asks for each page within moments: one walk serves them all, however long it
   * took. Its pages go to the workers in turn, and each worker walks once: so a walk that took T
   * serves pages for T plus a couple of seconds after it ends, until the other worker's walk (as
   * long) is done. (Timed from its start, a walk longer than the window was repeated for every
   * page: ten pages of 10,000 repositories on s3rver took 70 s.) Not for gc, which needs now.
   */
  recentCatalog(): Promise<string[]> {
    const walk = this.recentWalk;
    if (walk && (walk.reusableUntil === undefined || Date.now() <= walk.reusableUntil)) return walk.names;
    const startedAt = Date.now();
    const names = this.catalog();
    const started: CatalogWalk = { names };
    this.recentWalk = started;
    names.then(
      () => {
        const endedAt = Date.now();
        started.reusableUntil = endedAt + (endedAt - startedAt) + CATALOG_REUSE_MS;
      },
      () => {
        if (this.recentWalk === started) this.recentWalk = undefined;
      },
    );
    return names;
  }

  /**
   * Every repository name in ASCII order. On an object store one delimiter listing finds them
   * all: a repository's own entries all start `<name>/_`, and no name has a `/_` of its own. On
   * disk, a walk for directories holding `_manifests` or `_layers` (as Distribution counts them).
   */
  async catalog(): Promise<string[]> {
    if (this.driver.listCommonPrefixes) {
      const names = await this.driver.listCommonPrefixes(paths.repositoriesRoot, '/_');
      return names.filter((name) => isRepositoryName(name)).sort(asciiOrder);
    }
    const names: string[] = [];
    const walk = async (prefix: string, dir: string): Promise<void> => {
      const children = await this.driver.list(dir);
      if (prefix && (children.includes('_manifests') || children.includes('_layers'))) names.push(prefix);
      await Promise.all(children.filter((child) => !child.startsWith('_')).map((child) => walk(prefix ? `${prefix}/${child}` : child, `${dir}/${child}`)));
    };
    await walk('', paths.repositoriesRoot);
    return names.sort(asciiOrder);
  }
}

/** A catalog walk, under way or done, and until when it may answer pages once done. */
interface CatalogWalk {
  names: Promise<string[]>;
  reusableUntil?: number;
}

/** How long past its own length a finished catalog walk still answers later pages. */
export const CATALOG_REUSE_MS = 2000;

/** The directory of a link file: deleting it leaves no empty digest directory behind. */
function linkDir(linkPath: string): string {
  return linkPath.slice(0, linkPath.lastIndexOf('/'));
}

/** Go's sort.Strings order, which the spec names for tag lists. */
export function asciiOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
