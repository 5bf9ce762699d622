import { MediaType } from '../../../oci/media-types.ts';
import { CheckFailure, describe, type CheckContext } from '../../check.ts';
import { contentOf, imageIndex, imageManifest, randomContent, type Content } from '../../content.ts';
import type { Exchange } from '../../http.ts';
import { namespace as repo, pushBlob, pushManifest } from '../../operations.ts';

export const SBOM_TYPE = 'application/vnd.conformance.sbom.v1';
export const SIGNATURE_CONFIG_TYPE = 'application/vnd.conformance.signature.config.v1+json';
export const BUNDLE_TYPE = 'application/vnd.conformance.bundle.v1';

/** A manifest or index pushed with a subject, and what the referrers list must say of it. */
export interface Referrer {
  content: Content;
  mediaType: string;
  /** Its artifactType, or else its config's mediaType (end-12a). */
  artifactType: string;
  annotations: Record<string, string>;
  subject: Content;
  /** The PUT that pushed it, judged by the OCI-Subject check and read by the referrers checks. */
  put: Exchange;
}

export interface DiscoveryState {
  config: Content;
  subject: Content;
  /** The referrers of `subject`: some pushed before it, some after, one of them an index. */
  referrers: Referrer[];
  /** A referrer of a manifest never pushed: registries must accept subjects they lack. */
  orphan: Referrer;
  missingSubject: Content;
  tags: string[];
}

export const state = (context: CheckContext) => context.state.get('content discovery') as DiscoveryState;

type Draft = Omit<Referrer, 'put'>;

/** An image manifest over the empty config, pointing at `subject`. */
function manifestReferrer(config: Content, subject: Content, kind: string, type: { artifactType?: string; configMediaType?: string }): Draft {
  const annotations = { 'org.conformance.kind': kind };
  return {
    content: imageManifest(config, [], { subject, annotations, ...type }),
    mediaType: MediaType.ociManifest,
    artifactType: type.artifactType ?? type.configMediaType ?? MediaType.ociConfig,
    annotations,
    subject,
  };
}

async function pushReferrer(context: CheckContext, draft: Draft): Promise<Referrer> {
  const put = await pushManifest(context, repo(context), `${draft.content.digest}`, draft.content, draft.mediaType);
  return { ...draft, put };
}

/**
 * Pushes ten tags of one subject manifest and its referrers: an artifactType one and a typed-config
 * one before the subject exists, an index over them (a referrer too) and a signature after it, and
 * one to a subject never pushed. The referrer PUTs are kept, not judged, here: checks judge them.
 */
export async function setUpDiscovery(context: CheckContext): Promise<DiscoveryState> {
  const config = contentOf('{}');
  await pushBlob(context, repo(context), config);
  const run = randomContent(8).digest.hex;
  const subject = imageManifest(config, [], { annotations: { run } });
  const missingSubject = imageManifest(config, [], { annotations: { never: 'pushed', run } });
  const sbom = await pushReferrer(context, manifestReferrer(config, subject, 'sbom', { artifactType: SBOM_TYPE }));
  const typedConfig = await pushReferrer(context, manifestReferrer(config, subject, 'typed config', { configMediaType: SBOM_TYPE }));
  const bundleAnnotations = { 'org.conformance.kind': 'bundle' };
  const bundle = await pushReferrer(context, {
    content: imageIndex([{ manifest: sbom.content }, { manifest: typedConfig.content }], {
      subject,
      artifactType: BUNDLE_TYPE,
      annotations: bundleAnnotations,
    }),
    mediaType: MediaType.ociIndex,
    artifactType: BUNDLE_TYPE,
    annotations: bundleAnnotations,
    subject,
  });
  // Ten tags: a registry that does not sort cannot pass the order checks by luck.
  const tags = Array.from({ length: 10 }, (_, i) => `discovery-${String.fromCharCode(97 + i)}`);
  for (const tag of tags) {
    const put = await pushManifest(context, repo(context), tag, subject);
    if (put.status !== 201) throw new CheckFailure(`setup: could not tag ${tag}: ${describe(put)}`);
  }
  const signature = await pushReferrer(context, manifestReferrer(config, subject, 'signature', { configMediaType: SIGNATURE_CONFIG_TYPE }));
  const orphan = await pushReferrer(context, manifestReferrer(config, missingSubject, 'orphan', { artifactType: SBOM_TYPE }));
  return { config, subject, referrers: [sbom, typedConfig, bundle, signature], orphan, missingSubject, tags };
}
