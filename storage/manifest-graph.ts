import { Digest } from '../oci/digest.ts';
import { declaredMediaType, parseManifest } from '../oci/manifest.ts';
import type { BlobStore } from './blob-store.ts';
import { PathNotFoundError } from './driver.ts';

/** What one blob a manifest references is, for reports. */
export interface Reference {
  digest: Digest;
  mediaType: string;
  /** An index's child manifest (followed), an image's config, or one of its layers. */
  role: 'manifest' | 'config' | 'layer';
}

/** A stored manifest's outgoing edges. */
export interface ManifestNode {
  mediaType: string;
  references: Reference[];
  subject?: Digest;
}

/** What an image reaches: digest string → media type, each blob once. */
export type Reach = Map<string, string>;

/**
 * The graph of manifests over the blob store, read lazily and cached (content-addressed, so a
 * node never changes). Unparseable or missing manifests are leaves: they reach only themselves.
 */
export class ManifestGraph {
  private readonly nodes = new Map<string, Promise<ManifestNode | undefined>>();
  /**
   * One object per distinct digest and media type across every node: thousands of images naming the
   * same shared layers hold one copy of each (issue 29: a quarter of the memory of a gc run).
   */
  private readonly digests = new Map<string, Digest>();
  private readonly mediaTypes = new Map<string, string>();

  constructor(private readonly blobs: BlobStore) {}

  node(digest: Digest): Promise<ManifestNode | undefined> {
    const key = digest.toString();
    let node = this.nodes.get(key);
    if (!node) {
      node = this.read(digest);
      this.nodes.set(key, node);
    }
    return node;
  }

  private async read(digest: Digest): Promise<ManifestNode | undefined> {
    let bytes: Buffer;
    try {
      bytes = await this.blobs.getContent(digest);
    } catch (error) {
      if (error instanceof PathNotFoundError) return undefined;
      throw error;
    }
    const { references, subject } = edges(bytes);
    return {
      mediaType: this.sharedType(declaredMediaType(bytes)),
      references: references.map((ref) => ({ ...ref, digest: this.sharedDigest(ref.digest), mediaType: this.sharedType(ref.mediaType) })),
      ...(subject ? { subject } : {}),
    };
  }

  private sharedDigest(digest: Digest): Digest {
    const known = this.digests.get(digest.toString());
    if (known) return known;
    this.digests.set(digest.toString(), digest);
    return digest;
  }

  private sharedType(mediaType: string): string {
    const known = this.mediaTypes.get(mediaType);
    if (known !== undefined) return known;
    this.mediaTypes.set(mediaType, mediaType);
    return mediaType;
  }

  /** Everything a manifest reaches: itself, its config and layers, and for an index all its children reach. */
  async reach(root: Digest): Promise<Reach> {
    const reached: Reach = new Map();
    const visit = async (digest: Digest): Promise<void> => {
      const node = await this.node(digest);
      reached.set(digest.toString(), node?.mediaType ?? 'application/octet-stream');
      for (const ref of node?.references ?? []) {
        if (reached.has(ref.digest.toString())) continue;
        if (ref.role === 'manifest') await visit(ref.digest);
        else reached.set(ref.digest.toString(), ref.mediaType);
      }
    };
    await visit(root);
    return reached;
  }
}

const SCHEMA1_LAYER = 'application/vnd.docker.container.image.rootfs.diff+x-gtar';

/** The references of manifest bytes; Docker schema1 (found in old registry:2 roots) lists `fsLayers`. */
function edges(bytes: Buffer): Omit<ManifestNode, 'mediaType'> {
  try {
    const manifest = parseManifest(bytes);
    const references: Reference[] =
      manifest.kind === 'index'
        ? manifest.manifests.map((d) => ({ digest: d.digest, mediaType: d.mediaType, role: 'manifest' }))
        : [
            { digest: manifest.config.digest, mediaType: manifest.config.mediaType, role: 'config' },
            ...manifest.layers.map((d): Reference => ({ digest: d.digest, mediaType: d.mediaType, role: 'layer' })),
          ];
    return { references, ...(manifest.subject ? { subject: manifest.subject.digest } : {}) };
  } catch {
    return { references: schema1Layers(bytes) };
  }
}

function schema1Layers(bytes: Buffer): Reference[] {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { fsLayers?: { blobSum?: unknown }[] };
    return (json.fsLayers ?? []).flatMap(({ blobSum }) => {
      const digest = typeof blobSum === 'string' ? Digest.tryParse(blobSum) : undefined;
      return digest ? [{ digest, mediaType: SCHEMA1_LAYER, role: 'layer' as const }] : [];
    });
  } catch {
    return [];
  }
}
