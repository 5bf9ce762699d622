import { platformString } from '../../oci/descriptor.ts';
import type { Digest } from '../../oci/digest.ts';
import type { Store } from '../../storage/store.ts';
import { RegistryError } from '../errors.ts';
import type { Figures } from './figure-cache.ts';
import { ManifestReader, type ImageConfig } from './manifest-reader.ts';
import { summarize, type ManifestSummary } from './manifest-summary.ts';
import type { UiCaller } from './ui-caller.ts';

/** An image that reaches a layer too, as the layer's sharing lists it. */
export interface SharingImage {
  repository: string;
  digest: string;
  tags: string[];
}

export interface LayerView {
  digest: string;
  mediaType: string;
  size: number;
  /** Other tagged images reaching this layer, in repositories the caller may pull; null until the figures are computed. */
  sharedWith: SharingImage[] | null;
  /** How many such images there are in all (the list stops at MAX_SHARING). */
  sharedWithCount: number;
  /** Distinct repositories among them. */
  sharedRepositories: number;
}

export interface ImageView extends ManifestSummary {
  repository: string;
  tags: string[];
  subject?: string;
  /** An index's platforms. */
  manifests?: (ManifestSummary & { platform?: string })[];
  config?: { digest: string; size: number; content?: ImageConfig };
  layers?: LayerView[];
  referrers: ManifestSummary[];
  /** When the sharing figures were computed, if they have been. */
  figuresAt?: string;
}

const MAX_SHARING = 50;

/** An image page: a manifest or an index of a repository, with its layers' sharing from the background figures. */
export async function viewImage(store: Store, figures: Figures | undefined, caller: UiCaller, name: string, digest: Digest): Promise<ImageView> {
  if (!(await store.repositories.hasManifest(name, digest))) {
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository ${name}`, { detail: { name, digest: digest.toString() } });
  }
  const reader = new ManifestReader(store);
  const [summary, manifest, targets, referrers] = await Promise.all([
    summarize(store, reader, name, digest),
    reader.manifest(digest),
    store.repositories.tagTargets(name),
    store.repositories.referrers(name, digest),
  ]);
  const view: ImageView = {
    ...summary,
    repository: name,
    tags: [...targets].filter(([, target]) => target.equals(digest)).map(([tag]) => tag),
    referrers: await Promise.all(referrers.map((referrer) => summarize(store, reader, name, referrer))),
    ...(manifest?.subject ? { subject: manifest.subject.digest.toString() } : {}),
    ...(figures ? { figuresAt: figures.at.toISOString() } : {}),
  };
  if (manifest?.kind === 'index') {
    view.manifests = await Promise.all(
      manifest.manifests.map(async (child) => ({
        ...(await summarize(store, reader, name, child.digest)),
        ...(child.platform ? { platform: platformString(child.platform) } : {}),
      })),
    );
  } else if (manifest?.kind === 'image') {
    const [content, configSize] = await Promise.all([reader.config(manifest.config), reader.size(manifest.config.digest)]);
    view.config = { digest: manifest.config.digest.toString(), size: configSize ?? manifest.config.size, ...(content ? { content } : {}) };
    view.layers = await Promise.all(
      manifest.layers.map(async (layer) => ({
        digest: layer.digest.toString(),
        mediaType: layer.mediaType,
        size: (await reader.size(layer.digest)) ?? layer.size,
        ...sharing(figures, caller, layer.digest.toString(), name, digest.toString()),
      })),
    );
  }
  return view;
}

/** The other images reaching a blob, as far as the caller may see them. */
function sharing(
  figures: Figures | undefined,
  caller: UiCaller,
  blob: string,
  repository: string,
  image: string,
): Pick<LayerView, 'sharedWith' | 'sharedWithCount' | 'sharedRepositories'> {
  if (!figures) return { sharedWith: null, sharedWithCount: 0, sharedRepositories: 0 };
  const others = (figures.users.get(blob) ?? [])
    .map((index) => figures.report.images[index]!)
    .filter((other) => !(other.repository === repository && other.digest === image) && caller.may(other.repository, 'pull'));
  return {
    sharedWith: others.slice(0, MAX_SHARING).map(({ repository, digest, tags }) => ({ repository, digest, tags })),
    sharedWithCount: others.length,
    sharedRepositories: new Set(others.map((other) => other.repository)).size,
  };
}
