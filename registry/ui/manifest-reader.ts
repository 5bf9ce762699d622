import type { Descriptor, Platform } from '../../oci/descriptor.ts';
import { platformString } from '../../oci/descriptor.ts';
import type { Digest } from '../../oci/digest.ts';
import { parseManifest, type Manifest } from '../../oci/manifest.ts';
import { unlessMissing } from '../../storage/driver.ts';
import type { Store } from '../../storage/store.ts';

/** Image configs larger than this are not opened for the pages (a real one is a few KiB). */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The parts of an image config (image-spec config.md) the image page shows. */
export interface ImageConfig {
  created?: string;
  author?: string;
  os?: string;
  architecture?: string;
  variant?: string;
  config?: {
    User?: string;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
  };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

/**
 * Manifests, configs and blob sizes read for one page, each once: a page naming the same layer in
 * ten images stats it once. Unreadable content is undefined, never an error: the page shows the rest.
 */
export class ManifestReader {
  private readonly manifests = new Map<string, Promise<Manifest | undefined>>();
  private readonly configs = new Map<string, Promise<ImageConfig | undefined>>();
  private readonly sizes = new Map<string, Promise<number | undefined>>();

  constructor(private readonly store: Store) {}

  manifest(digest: Digest): Promise<Manifest | undefined> {
    return once(this.manifests, digest, async () => {
      const bytes = await unlessMissing(this.store.blobs.getContent(digest));
      if (!bytes) return undefined;
      try {
        return parseManifest(bytes);
      } catch {
        return undefined;
      }
    });
  }

  config(descriptor: Descriptor): Promise<ImageConfig | undefined> {
    return once(this.configs, descriptor.digest, async () => {
      if (descriptor.size > MAX_CONFIG_BYTES) return undefined;
      const bytes = await unlessMissing(this.store.blobs.getContent(descriptor.digest));
      try {
        const json: unknown = bytes && JSON.parse(bytes.toString('utf8'));
        return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as ImageConfig) : undefined;
      } catch {
        return undefined;
      }
    });
  }

  /** The stored size, or undefined when storage lacks the blob. */
  size(digest: Digest): Promise<number | undefined> {
    return once(this.sizes, digest, async () => (await this.store.blobs.stat(digest))?.size);
  }

  /**
   * Bytes of the distinct blobs a manifest reaches, itself included, as ManifestGraph.reach counts an
   * image: walked here over this page's manifests, which the page reads anyway, not read again.
   */
  async totalBytes(digest: Digest): Promise<number> {
    const reached = new Map<string, Digest>();
    const visit = async (current: Digest): Promise<void> => {
      reached.set(current.toString(), current);
      const manifest = await this.manifest(current);
      if (!manifest) return;
      if (manifest.kind === 'index') {
        for (const child of manifest.manifests) if (!reached.has(child.digest.toString())) await visit(child.digest);
        return;
      }
      for (const blob of [manifest.config, ...manifest.layers]) reached.set(blob.digest.toString(), blob.digest);
    };
    await visit(digest);
    const sizes = await Promise.all([...reached.values()].map((blob) => this.size(blob)));
    return sizes.reduce<number>((total, size) => total + (size ?? 0), 0);
  }

  /** `os/arch[/variant]` of each platform: an index's children, or an image's config. */
  async platforms(manifest: Manifest): Promise<string[]> {
    if (manifest.kind === 'index') return manifest.manifests.flatMap((child) => (child.platform ? [platformString(child.platform)] : []));
    const config = await this.config(manifest.config);
    if (!config?.os || !config.architecture) return [];
    const platform: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    return [platformString(platform)];
  }
}

function once<T>(cache: Map<string, Promise<T>>, digest: Digest, read: () => Promise<T>): Promise<T> {
  const key = digest.toString();
  let found = cache.get(key);
  if (!found) {
    found = read();
    cache.set(key, found);
  }
  return found;
}
