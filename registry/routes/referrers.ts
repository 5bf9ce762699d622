import { Digest } from '../../oci/digest.ts';
import { descriptorJSON } from '../../oci/descriptor.ts';
import { parseManifest, referrerArtifactType } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { sendJSON, singleQuery } from '../responses.ts';
import type { Route, RouteContext } from '../route.ts';

async function listReferrers({ req, res, store, name, params }: RouteContext): Promise<void> {
  const subject = Digest.parse(params.digest!);
  const artifactType = singleQuery(req.query.artifactType, 'artifactType');
  const manifests = [];
  for (const digest of await store.repositories.referrers(name, subject)) {
    const bytes = await store.repositories.getManifest(name, digest);
    if (!bytes) continue;
    const manifest = parseManifest(bytes);
    const type = referrerArtifactType(manifest);
    if (artifactType !== undefined && type !== artifactType) continue;
    manifests.push(
      descriptorJSON({
        mediaType: manifest.mediaType,
        digest,
        size: bytes.length,
        ...(type ? { artifactType: type } : {}),
        ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
      }),
    );
  }
  sendJSON(
    res,
    200,
    { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests },
    { 'Content-Type': MediaType.ociIndex, ...(artifactType !== undefined ? { 'OCI-Filters-Applied': 'artifactType' } : {}) },
  );
}

/** end-12a/12b: manifests whose subject is the digest, optionally filtered by artifactType. */
export const referrersRoute: Route = {
  pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/,
  methods: { GET: { id: 'end-12', action: 'pull', handle: listReferrers } },
};
