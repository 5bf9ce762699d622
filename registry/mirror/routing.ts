import { matchesAny } from '../../analysis/glob.ts';
import { isRepositoryName } from '../../oci/reference.ts';
import type { Upstream } from './upstream.ts';

/** Where a mirrored repository's content comes from, and where it is kept. */
export interface MirrorTarget {
  upstream: Upstream;
  /** The repository's name upstream: `library/alpine`. */
  remote: string;
  /** The repository in Berth's store: `docker.io/library/alpine`, however the client named it. */
  local: string;
}

/**
 * Which upstream a repository name belongs to, as clients send names: a path prefix
 * (`docker.io/library/alpine`: podman, CRI-O, skopeo), containerd's `?ns=docker.io` on the bare
 * name, or the default upstream for a bare name (Docker's `registry-mirrors`). A name matching
 * none, or outside its upstream's `repositories`, is an ordinary repository of Berth's.
 */
export class MirrorRouting {
  private readonly byName: Map<string, Upstream>;
  private readonly fallback: Upstream | undefined;

  constructor(upstreams: readonly Upstream[]) {
    this.byName = new Map(upstreams.map((upstream) => [upstream.name, upstream]));
    this.fallback = upstreams.find((upstream) => upstream.isDefault);
  }

  route(name: string, ns: string | undefined): MirrorTarget | undefined {
    const slash = name.indexOf('/');
    const prefixed = slash > 0 ? this.byName.get(name.slice(0, slash)) : undefined;
    if (prefixed) return this.target(prefixed, name.slice(slash + 1));
    // A namespace named but not configured is another registry's: not this mirror's to answer.
    if (ns !== undefined) {
      const named = this.byName.get(ns);
      return named && this.target(named, name);
    }
    return this.fallback && this.target(this.fallback, name);
  }

  private target(upstream: Upstream, name: string): MirrorTarget | undefined {
    const remote = upstream.isDockerHub && !name.includes('/') ? `library/${name}` : name;
    if (upstream.repositories && !matchesAny(upstream.repositories, remote)) return undefined;
    const local = `${upstream.name}/${remote}`;
    return isRepositoryName(local) ? { upstream, remote, local } : undefined;
  }
}
