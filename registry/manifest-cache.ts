import type { Digest } from '../oci/digest.ts';

/** A manifest as served: its bytes and the media type its content declares. */
export interface CachedManifest {
  bytes: Buffer;
  mediaType: string;
}

/**
 * Manifest bytes by digest. Content-addressed entries never go stale, so replicas need no
 * coordination; whether a repository still holds a manifest is always checked in storage.
 */
export class ManifestCache {
  private readonly entries = new Map<string, CachedManifest>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(digest: Digest): CachedManifest | undefined {
    return this.entries.get(digest.toString());
  }

  set(digest: Digest, entry: CachedManifest): void {
    if (entry.bytes.length > this.maxBytes / 8 || this.entries.has(digest.toString())) return;
    while (this.bytes + entry.bytes.length > this.maxBytes) {
      const oldest = this.entries.entries().next().value;
      if (!oldest) break;
      this.entries.delete(oldest[0]);
      this.bytes -= oldest[1].bytes.length;
    }
    this.entries.set(digest.toString(), entry);
    this.bytes += entry.bytes.length;
  }
}
