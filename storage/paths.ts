import type { Digest } from '../oci/digest.ts';

/**
 * Distribution's storage layout (design.md §2), so a registry:2 root is served in place.
 * Every name and tag reaching here was validated by the spec's grammars (oci/reference.ts),
 * which admit no `.`-only segment: no path can leave the root.
 */
const ROOT = 'docker/registry/v2';

export const paths = {
  /** Everything Berth (and Distribution) keeps lives below this. */
  root: ROOT,
  blobsRoot: `${ROOT}/blobs`,
  repositoriesRoot: `${ROOT}/repositories`,

  blobData: (digest: Digest) => `${ROOT}/blobs/${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}/data`,
  blobDir: (digest: Digest) => `${ROOT}/blobs/${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}`,

  repository: (name: string) => `${ROOT}/repositories/${name}`,
  layerLink: (name: string, digest: Digest) => `${ROOT}/repositories/${name}/_layers/${digest.algorithm}/${digest.hex}/link`,
  layersRoot: (name: string) => `${ROOT}/repositories/${name}/_layers`,

  manifestsRoot: (name: string) => `${ROOT}/repositories/${name}/_manifests`,
  revisionsRoot: (name: string) => `${ROOT}/repositories/${name}/_manifests/revisions`,
  revisionLink: (name: string, digest: Digest) => `${ROOT}/repositories/${name}/_manifests/revisions/${digest.algorithm}/${digest.hex}/link`,
  tagsRoot: (name: string) => `${ROOT}/repositories/${name}/_manifests/tags`,
  tag: (name: string, tag: string) => `${ROOT}/repositories/${name}/_manifests/tags/${tag}`,
  tagCurrentLink: (name: string, tag: string) => `${ROOT}/repositories/${name}/_manifests/tags/${tag}/current/link`,
  tagIndexLink: (name: string, tag: string, digest: Digest) =>
    `${ROOT}/repositories/${name}/_manifests/tags/${tag}/index/${digest.algorithm}/${digest.hex}/link`,

  uploadsRoot: (name: string) => `${ROOT}/repositories/${name}/_uploads`,
  upload: (name: string, id: string) => `${ROOT}/repositories/${name}/_uploads/${id}`,
  uploadData: (name: string, id: string) => `${ROOT}/repositories/${name}/_uploads/${id}/data`,
  /** Whether `path` is an upload's data (`…/_uploads/<id>/data`): the one kind of object `Driver.append` writes. */
  isUploadData: (path: string) => /(?:^|\/)_uploads\/[^/]+\/data$/.test(path),
  uploadStartedAt: (name: string, id: string) => `${ROOT}/repositories/${name}/_uploads/${id}/startedat`,
  /** Berth's own upload state (the digest algorithm); Distribution ignores the extra file. */
  uploadState: (name: string, id: string) => `${ROOT}/repositories/${name}/_uploads/${id}/berth-upload.json`,

  /** Berth's referrers index: one link per manifest whose `subject` is the given digest. */
  referrersRoot: (name: string, subject: Digest) => `${ROOT}/repositories/${name}/_berth/referrers/${subject.algorithm}/${subject.hex}`,
  referrerLink: (name: string, subject: Digest, referrer: Digest) =>
    `${ROOT}/repositories/${name}/_berth/referrers/${subject.algorithm}/${subject.hex}/${referrer.algorithm}/${referrer.hex}/link`,

  /**
   * Berth's push and last-pull times of a manifest in a repository (design.md §8 Retention): one small
   * file each, holding an ISO date, beside the referrers index. Distribution ignores `_berth`.
   */
  pushedAt: (name: string, digest: Digest) => `${ROOT}/repositories/${name}/_berth/times/${digest.algorithm}/${digest.hex}/pushedat`,
  pulledAt: (name: string, digest: Digest) => `${ROOT}/repositories/${name}/_berth/times/${digest.algorithm}/${digest.hex}/pulledat`,
  imageTimes: (name: string, digest: Digest) => `${ROOT}/repositories/${name}/_berth/times/${digest.algorithm}/${digest.hex}`,

  /** A lease that one process of all replicas holds at a time (storage/lease.ts). */
  lease: (name: string) => `${ROOT}/_berth/leases/${name}`,
  /** Retention's shared state: the last plan, the last run, and one record per run. */
  retentionLastPlan: `${ROOT}/_berth/retention/last-plan.json`,
  retentionLastRun: `${ROOT}/_berth/retention/last-run.json`,
  retentionRuns: `${ROOT}/_berth/retention/runs`,

  /**
   * Where the fs driver writes a file before renaming it into place: one directory to look in for
   * the leftovers of writes a killed process never finished, not the whole tree (issue 29).
   */
  staging: `${ROOT}/_berth/staging`,
  /** Where garbage collection parks a blob it is about to delete, so a push racing it can be undone. */
  gcQuarantineRoot: `${ROOT}/_berth/gc-quarantine`,
  gcQuarantine: (digest: Digest) => `${ROOT}/_berth/gc-quarantine/${digest.algorithm}/${digest.hex}`,
};
