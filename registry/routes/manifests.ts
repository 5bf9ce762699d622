import { Digest, DigestParseError } from '../../oci/digest.ts';
import type { Descriptor } from '../../oci/descriptor.ts';
import { declaredMediaType, parseManifest, referencedDescriptors, type Manifest } from '../../oci/manifest.ts';
import { MANIFEST_TYPES } from '../../oci/media-types.ts';
import { isTag, parseManifestReference, ReferenceParseError, type ManifestReference } from '../../oci/reference.ts';
import { unlessMissing } from '../../storage/driver.ts';
import { RegistryError, type ErrorEntry } from '../errors.ts';
import { checkDelete, checkTagMoves } from '../immutable-tags.ts';
import type { CachedManifest } from '../manifest-cache.ts';
import { manifestLocation, readBody, sendEmpty } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

/** distribution-spec "Pushing Manifests": registries should accept at least 4 MB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function reference(context: RouteContext): ManifestReference {
  return parseManifestReference(context.params.reference!);
}

function manifestUnknown(context: RouteContext): RegistryError {
  return new RegistryError('MANIFEST_UNKNOWN', `manifest ${context.params.reference} is not in repository ${context.name}`);
}

/**
 * The reference of a read or a delete: one that cannot name any manifest names a missing one,
 * so it is MANIFEST_UNKNOWN (the official suite's `.INVALID_MANIFEST_NAME`); only a PUT refuses it as invalid.
 */
function existingReference(context: RouteContext): ManifestReference {
  try {
    return reference(context);
  } catch (error) {
    if (error instanceof ReferenceParseError || error instanceof DigestParseError) throw manifestUnknown(context);
    throw error;
  }
}

async function resolve(context: RouteContext, ref: ManifestReference): Promise<Digest> {
  const digest = ref.digest ?? (await context.store.repositories.resolveTag(context.name, ref.tag));
  if (!digest) throw manifestUnknown(context);
  return digest;
}

/**
 * Reads a manifest of the repository, from the cache when another request already parsed it. One a
 * tag names is in the repository: a tag is written with its revision and deleted before it
 * (RepositoryStore), so only a manifest asked for by digest has its revision link checked.
 */
async function loadManifest(context: RouteContext, digest: Digest, byTag = false): Promise<CachedManifest | undefined> {
  const { store, name, manifests } = context;
  const cached = manifests.get(digest);
  if (cached) return byTag || (await store.repositories.hasManifest(name, digest)) ? cached : undefined;
  const bytes = byTag ? await unlessMissing(store.blobs.getContent(digest)) : await store.repositories.getManifest(name, digest);
  if (!bytes) return undefined;
  const entry = { bytes, mediaType: declaredMediaType(bytes) };
  manifests.set(digest, entry);
  return entry;
}

async function getManifest(context: RouteContext): Promise<void> {
  const { req, res } = context;
  const ref = existingReference(context);
  const digest = await resolve(context, ref);
  const manifest = await loadManifest(context, digest, ref.tag !== undefined);
  if (!manifest) throw manifestUnknown(context);
  // In the background, and at most one write an hour per manifest (storage/image-times.ts): never a pull's wait.
  if (req.method === 'GET') context.store.times.notePulled(context.name, digest);
  res.writeHead(200, {
    'Content-Type': manifest.mediaType,
    'Content-Length': manifest.bytes.length,
    'Docker-Content-Digest': `${digest}`,
    ETag: `"${digest}"`,
  });
  res.end(req.method === 'HEAD' ? undefined : manifest.bytes);
}

/** Tags to set: the reference when it is a tag, plus every `?tag=` (end-7b). */
function tagsToSet(context: RouteContext, ref: ManifestReference): string[] {
  const query = context.req.query.tag;
  const extra = query === undefined ? [] : Array.isArray(query) ? query : [query];
  const tags = [...(ref.tag ? [ref.tag] : []), ...extra.map(String)];
  const invalid = tags.find((tag) => !isTag(tag));
  if (invalid !== undefined) throw new RegistryError('MANIFEST_INVALID', `invalid tag "${invalid}"`);
  return [...new Set(tags)];
}

/** The descriptors a manifest's push must find stored: those without external `urls`. */
function storedReferences(manifest: Manifest) {
  return referencedDescriptors(manifest).filter((descriptor) => !descriptor.urls?.length);
}

/**
 * What the repository holds against each reference that a manifest's push must find stored:
 * MANIFEST_BLOB_UNKNOWN for a blob or child manifest it lacks, MANIFEST_INVALID for one stored with
 * another size (every later pull would fail its size check) or for an index's child declared a
 * manifest that is a plain blob. Checked all at once: on S3 each is a round trip, and one after
 * another they added up.
 */
async function referenceErrors(context: RouteContext, manifest: Manifest): Promise<ErrorEntry[]> {
  const errors = await Promise.all(storedReferences(manifest).map((descriptor) => referenceError(context, manifest, descriptor)));
  return errors.filter((error) => error !== undefined);
}

async function referenceError(context: RouteContext, manifest: Manifest, descriptor: Descriptor): Promise<ErrorEntry | undefined> {
  const { store, name } = context;
  // image-index.md: `manifests` "contains a list of manifests"; a child of a type unknown here may be any content.
  const mustBeManifest = manifest.kind === 'index' && MANIFEST_TYPES.includes(descriptor.mediaType);
  // A size this process knows is the size (a digest's content never changes); whether the blob is
  // still stored is looked at once the revision is written (ensureStillStored).
  const [linked, size] = await Promise.all([
    mustBeManifest ? store.repositories.hasManifest(name, descriptor.digest) : store.repositories.holdsBlob(name, descriptor.digest),
    store.blobs.knownSize(descriptor.digest) ?? store.blobs.size(descriptor.digest),
  ]);
  const what = `${descriptor.mediaType} ${descriptor.digest}`;
  const detail = { digest: `${descriptor.digest}` };
  if (!linked && mustBeManifest && (await store.repositories.holdsBlob(name, descriptor.digest)) && size !== undefined) {
    return { code: 'MANIFEST_INVALID', message: `${what} is a blob of repository ${name}, not a manifest`, detail };
  }
  if (!linked || size === undefined) return { code: 'MANIFEST_BLOB_UNKNOWN', message: `${what} is not in repository ${name}`, detail };
  if (size !== descriptor.size) {
    return { code: 'MANIFEST_INVALID', message: `${what} declares size ${descriptor.size}, but the stored content has ${size} bytes`, detail };
  }
  return undefined;
}

/**
 * A garbage collection running concurrently may have taken a blob since validation. Its last mark
 * sees every revision written before it; one written later is checked here (storage/gc/gc.ts). A
 * push that finds a blob gone removes the manifest with the tags naming it: it cannot be pulled
 * whole, whether this push stored it or an earlier one did.
 */
async function ensureStillStored(context: RouteContext, digest: Digest, manifest: Manifest): Promise<void> {
  const { store, name } = context;
  const descriptors = storedReferences(manifest);
  const stored = await Promise.all(descriptors.map((descriptor) => store.blobs.stat(descriptor.digest)));
  const gone = descriptors.find((_, index) => !stored[index]);
  if (!gone) return;
  await store.repositories.deleteManifest(name, digest, manifest.subject?.digest);
  throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `${gone.mediaType} ${gone.digest} was removed while the manifest was pushed`, {
    detail: { digest: `${gone.digest}` },
  });
}

async function putManifest(context: RouteContext): Promise<void> {
  const { req, res, store, name } = context;
  const ref = reference(context);
  const tags = tagsToSet(context, ref);
  const bytes = await readBody(
    req,
    MAX_MANIFEST_BYTES,
    () => new RegistryError('MANIFEST_INVALID', `manifests are limited to ${MAX_MANIFEST_BYTES} bytes`, { status: 413 }),
  );
  const manifest = parseManifest(bytes, req.headers['content-type'], 'push');
  const digest = Digest.of(bytes, ref.digest?.algorithm ?? 'sha256');
  if (ref.digest && !ref.digest.equals(digest)) {
    throw new RegistryError('DIGEST_INVALID', `manifest digest is ${digest}, not ${ref.digest}`);
  }
  await checkTagMoves(context.immutableTags, store, name, tags, digest);
  const [first, ...more] = await referenceErrors(context, manifest);
  if (first) throw new RegistryError(first.code, first.message, { detail: first.detail, more });
  await store.repositories.putManifest(name, digest, bytes, manifest, tags);
  await ensureStillStored(context, digest, manifest);
  context.manifests.set(digest, { bytes, mediaType: manifest.mediaType });
  sendEmpty(res, 201, {
    Location: manifestLocation(name, digest),
    'Docker-Content-Digest': `${digest}`,
    ...(tags.length ? { 'OCI-Tag': tags.join(', ') } : {}),
    ...(manifest.subject ? { 'OCI-Subject': `${manifest.subject.digest}` } : {}),
  });
}

async function deleteManifest(context: RouteContext): Promise<void> {
  const { res, store, name } = context;
  const ref = existingReference(context);
  if (ref.tag !== undefined) {
    await checkDelete(context.immutableTags, store, name, { tag: ref.tag });
    if (!(await store.repositories.deleteTag(name, ref.tag))) throw manifestUnknown(context);
    sendEmpty(res, 202);
    return;
  }
  const existing = await loadManifest(context, ref.digest);
  if (!existing) throw manifestUnknown(context);
  await checkDelete(context.immutableTags, store, name, { digest: ref.digest });
  await store.repositories.deleteManifest(name, ref.digest, subjectOf(existing.bytes));
  sendEmpty(res, 202, { 'Docker-Content-Digest': `${ref.digest}` });
}

/** The subject of stored manifest bytes, if they parse and have one. */
function subjectOf(bytes: Buffer): Digest | undefined {
  try {
    return parseManifest(bytes).subject?.digest;
  } catch {
    return undefined;
  }
}

/** end-3 (GET/HEAD), end-7a/7b (PUT, multi-tag), end-9 (DELETE tag or manifest). */
export const manifestsRoute: Route = {
  pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
  methods: {
    GET: { id: 'end-3', action: 'pull', handle: getManifest },
    HEAD: { id: 'end-3', action: 'pull', handle: getManifest },
    PUT: { id: 'end-7', action: 'push', handle: putManifest },
    DELETE: { id: 'end-9', action: 'delete', handle: deleteManifest },
  },
};
