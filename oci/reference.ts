import { Digest, DigestParseError } from './digest.ts';

/** distribution-spec "Pulling manifests": the `<name>` and tag grammars. */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Clients cap host + "/" + name at 255 characters; Berth caps the name alone there. */
const MAX_NAME_LENGTH = 255;

export class ReferenceParseError extends Error {}

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

/** The `<tag-or-digest>` of a manifest URL. */
export type ManifestReference = { tag: string; digest?: undefined } | { digest: Digest; tag?: undefined };

/** Parses `<tag-or-digest>`: a digest if it contains ':', a tag otherwise. */
export function parseManifestReference(text: string): ManifestReference {
  if (text.includes(':')) return { digest: Digest.parse(text) };
  if (!isTag(text)) throw new ReferenceParseError(`invalid tag "${text}"`);
  return { tag: text };
}

export const DEFAULT_REGISTRY = 'docker.io';
const DEFAULT_TAG = 'latest';

/** A full image reference: `host[:port]/name[:tag][@digest]`, as clients write it. */
export class Reference {
  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly tag?: string,
    readonly digest?: Digest,
  ) {}

  /**
   * Parses with the usual defaults: no registry means Docker Hub (and `library/` for
   * one-component names); no tag and no digest means `latest`.
   */
  static parse(text: string): Reference {
    let rest = text;
    let digest: Digest | undefined;
    const at = rest.indexOf('@');
    if (at >= 0) {
      try {
        digest = Digest.parse(rest.slice(at + 1));
      } catch (error) {
        throw new ReferenceParseError(`invalid reference "${text}": ${(error as DigestParseError).message}`);
      }
      rest = rest.slice(0, at);
    }
    let tag: string | undefined;
    const colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
      if (!isTag(tag)) throw new ReferenceParseError(`invalid reference "${text}": bad tag "${tag}"`);
    }
    const slash = rest.indexOf('/');
    const first = slash >= 0 ? rest.slice(0, slash) : '';
    const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
    let registry = hasHost ? first : DEFAULT_REGISTRY;
    let repository = hasHost ? rest.slice(slash + 1) : rest;
    if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
    if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
    if (!isRepositoryName(repository)) throw new ReferenceParseError(`invalid reference "${text}": bad repository name "${repository}"`);
    return new Reference(registry, repository, tag ?? (digest ? undefined : DEFAULT_TAG), digest);
  }

  /** What goes in a manifest URL: the digest when pinned, else the tag. */
  get manifestReference(): string {
    return this.digest?.toString() ?? this.tag ?? DEFAULT_TAG;
  }

  withDigest(digest: Digest): Reference {
    return new Reference(this.registry, this.repository, this.tag, digest);
  }

  toString(): string {
    return `${this.registry}/${this.repository}${this.tag ? `:${this.tag}` : ''}${this.digest ? `@${this.digest}` : ''}`;
  }
}
