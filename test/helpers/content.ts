/** Test content builders: the conformance runner's, so tests and runner push alike. */
export { contentOf as blobOf, imageIndex, imageManifest, randomContent as randomBlob, type Content as TestBlob } from '../../conformance/content.ts';
