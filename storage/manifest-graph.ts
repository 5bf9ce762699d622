import { Digest } from '../oci/digest.ts';
import { declaredMediaType, parseManifest } from '../oci/manifest.ts';
import type { BlobStore } from './blob-store.ts';
import { unlessMissing } from './driver.ts';

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
 * The roles and media types of a manifest's references in order: images built alike (a config and
 * N layers of one type) share one.
 */
interface Shape {
  roles: Reference['role'][];
  mediaTypes: string[];
}

/**
 * A cached manifest as little as it can be (issue 29: the graph of 80,000 manifests was 60 MB):
 * shared digest strings, a shared shape, no object per reference. `node()` rebuilds the full form.
 */
interface CompactNode {
  mediaType: string;
  keys: string[];
  shape: Shape;
  subject?: string;
}

/**
 * The graph of manifests over the blob store, read lazily and cached (content-addressed, so a
 * node never changes). Unparseable or missing manifests are leaves: they reach only themselves.
 */
export class ManifestGraph {
  /** A read in flight, then what it found (null: no such blob); the promise is not kept once settled. */
  private readonly nodes = new Map<string, CompactNode | null | Promise<CompactNode | null>>();
  /** One string per distinct digest, shared by the nodes, the marks and gc's table of stored blobs. */
  private readonly keys = new Map<string, string>();
  private readonly mediaTypes = new Map<string, string>();
  private readonly shapes = new Map<string, Shape>();

  /**
   * `cachedNodes` bounds the cache, least recently used out first, for a caller that reaches each
   * manifest about once (the analysis): held whole, the nodes of a large registry are most of its
   * memory. gc marks up to three times and keeps them all.
   */
  constructor(
    private readonly blobs: BlobStore,
    private readonly cachedNodes = Infinity,
  ) {}

  /** The graph's own copy of a digest string: holders of many digests keep one string for each. */
  key(digest: Digest): string {
    const text = `${digest.algorithm}:${digest.hex}`;
    const known = this.keys.get(text);
    if (known !== undefined) return known;
    // One flat string of one byte per character. A template makes a pair of strings (flattened into a
    // third when first compared), and join, once optimised, made two bytes per character: 160 bytes
    // a digest instead of 88 (heap snapshots of analyze, issue 29).
    const key = Buffer.from(text, 'latin1').toString('latin1');
    this.keys.set(key, key);
    return key;
  }

  async node(digest: Digest): Promise<ManifestNode | undefined> {
    const node = await this.compact(this.key(digest));
    if (!node) return undefined;
    const references = node.keys.map((key, i): Reference => ({ digest: Digest.parse(key), mediaType: node.shape.mediaTypes[i]!, role: node.shape.roles[i]! }));
    return { mediaType: node.mediaType, references, ...(node.subject ? { subject: Digest.parse(node.subject) } : {}) };
  }

  private compact(key: string): CompactNode | null | Promise<CompactNode | null> {
    const known = this.nodes.get(key);
    if (known !== undefined) {
      if (this.cachedNodes !== Infinity) this.remember(key, known);
      return known;
    }
    const reading = this.read(key).then(
      (node) => {
        // Unless evicted while read: a bounded cache stays bounded.
        if (this.nodes.has(key)) this.nodes.set(key, node);
        return node;
      },
      (error: unknown) => {
        // A failed read (storage away for a moment) is not remembered: the next one asks again. Only
        // this read's entry: one started after it was evicted is another's.
        if (this.nodes.get(key) === reading) this.nodes.delete(key);
        throw error;
      },
    );
    this.remember(key, reading);
    return reading;
  }

  /** Caches a node as the most recently used one. */
  private remember(key: string, node: CompactNode | null | Promise<CompactNode | null>): void {
    this.nodes.delete(key);
    this.nodes.set(key, node);
    if (this.nodes.size > this.cachedNodes) this.nodes.delete(this.nodes.keys().next().value!);
  }

  private async read(key: string): Promise<CompactNode | null> {
    const bytes = await unlessMissing(this.blobs.getContent(Digest.parse(key)));
    if (!bytes) return null;
    const { mediaType, references, subject } = edges(bytes);
    return {
      mediaType: this.sharedType(mediaType),
      keys: references.map((ref) => this.key(ref.digest)),
      shape: this.sharedShape(references),
      ...(subject ? { subject: this.key(subject) } : {}),
    };
  }

  private sharedType(mediaType: string): string {
    const known = this.mediaTypes.get(mediaType);
    if (known !== undefined) return known;
    this.mediaTypes.set(mediaType, mediaType);
    return mediaType;
  }

  private sharedShape(references: Reference[]): Shape {
    const signature = references.map((ref) => `${ref.role} ${ref.mediaType}`).join('\n');
    const known = this.shapes.get(signature);
    if (known) return known;
    const shape = { roles: references.map((ref) => ref.role), mediaTypes: references.map((ref) => this.sharedType(ref.mediaType)) };
    this.shapes.set(signature, shape);
    return shape;
  }

  /** Everything a manifest reaches: itself, its config and layers, and for an index all its children reach. */
  async reach(root: Digest): Promise<Reach> {
    const reached: Reach = new Map();
    const visit = async (key: string): Promise<void> => {
      const node = await this.compact(key);
      reached.set(key, node?.mediaType ?? 'application/octet-stream');
      if (!node) return;
      for (const [i, child] of node.keys.entries()) {
        if (reached.has(child)) continue;
        if (node.shape.roles[i] === 'manifest') await visit(child);
        else reached.set(child, node.shape.mediaTypes[i]!);
      }
    };
    await visit(this.key(root));
    return reached;
  }
}

const SCHEMA1_LAYER = 'application/vnd.docker.container.image.rootfs.diff+x-gtar';

/**
 * The media type and references of manifest bytes, parsed once; Docker schema1 (found in old
 * registry:2 roots) lists `fsLayers`.
 */
function edges(bytes: Buffer): ManifestNode {
  try {
    // Read without a Content-Type, the parsed media type is the declared one or the shape's, as declaredMediaType says.
    const manifest = parseManifest(bytes);
    const references: Reference[] =
      manifest.kind === 'index'
        ? manifest.manifests.map((d) => ({ digest: d.digest, mediaType: d.mediaType, role: 'manifest' }))
        : [
            { digest: manifest.config.digest, mediaType: manifest.config.mediaType, role: 'config' },
            ...manifest.layers.map((d): Reference => ({ digest: d.digest, mediaType: d.mediaType, role: 'layer' })),
          ];
    return { mediaType: manifest.mediaType, references, ...(manifest.subject ? { subject: manifest.subject.digest } : {}) };
  } catch {
    return { mediaType: declaredMediaType(bytes), references: schema1Layers(bytes) };
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
