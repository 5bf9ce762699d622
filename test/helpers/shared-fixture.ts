import { blobOf, imageIndex, imageManifest, randomBlob, type TestBlob } from './content.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { RegistryAPI } from './registry-api.ts';

/** The bytes of `blobs` together. */
export const totalSize = (blobs: Iterable<TestBlob>): number => [...blobs].reduce((total, blob) => total + blob.bytes.length, 0);
export const byDigest = (blobs: TestBlob[]): Map<string, TestBlob> => new Map(blobs.map((blob) => [blob.digest.toString(), blob]));

/** One tagged image as the fixture knows it: every blob it reaches, each once. */
export interface FixtureImage {
  repository: string;
  tags: string[];
  manifest: TestBlob;
  reaches: TestBlob[];
}

export interface SharedFixture {
  images: FixtureImage[];
  /** Every blob stored, referenced or not. */
  stored: TestBlob[];
  /** Blobs nothing references: what gc frees. */
  garbage: TestBlob[];
  /** An untagged manifest (and its own layer): kept unless gc deletes untagged manifests. */
  untagged: { repository: string; manifest: TestBlob; reaches: TestBlob[] };
}

/** POST then PUT (end-4a, end-6): what every registry, Distribution included, accepts. */
async function pushBlob(api: RegistryAPI, name: string, blob: TestBlob): Promise<void> {
  const location = (await api.request('POST', `/v2/${name}/blobs/uploads/`)).headers.get('location');
  const separator = location?.includes('?') ? '&' : '?';
  const response = await api.request('PUT', location && `${location}${separator}digest=${blob.digest}`, {
    body: blob.bytes,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (response.status !== 201) throw new Error(`push of ${blob.digest} to ${name}: ${response.status}`);
}

function config(label: string): TestBlob {
  return blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { label } }, rootfs: { type: 'layers', diff_ids: [] } }));
}

/**
 * Several images sharing a base and a library layer, a two-platform index, an image alone in its
 * repository, an untagged manifest and an unreferenced blob, pushed through the distribution API.
 */
export async function pushSharedFixture(api: RegistryAPI): Promise<SharedFixture> {
  const base = randomBlob(10_000);
  const lib = randomBlob(5_000);
  const images: FixtureImage[] = [];
  const stored = new Map<string, TestBlob>();

  const pushImage = async (repository: string, tags: string[], layers: TestBlob[], label: string): Promise<TestBlob[]> => {
    const cfg = config(label);
    for (const blob of [cfg, ...layers]) {
      await pushBlob(api, repository, blob);
      stored.set(blob.digest.toString(), blob);
    }
    const manifest = imageManifest(cfg, layers);
    const [first, ...more] = tags.length ? tags : [manifest.digest.toString()];
    const query = more.map((tag) => `tag=${tag}`).join('&');
    const response = await api.pushManifest(repository, `${first}${query ? `?${query}` : ''}`, manifest);
    if (response.status !== 201) throw new Error(`manifest push to ${repository}: ${response.status}`);
    stored.set(manifest.digest.toString(), manifest);
    if (tags.length) images.push({ repository, tags, manifest, reaches: [manifest, cfg, ...layers] });
    return [manifest, cfg, ...layers];
  };

  const a1 = randomBlob(3_000);
  await pushImage('app1', ['v1'], [base, lib, a1], 'app1 v1');
  await pushImage('app1', ['v2', 'latest'], [base, lib, a1, randomBlob(2_000)], 'app1 v2');
  await pushImage('app2', ['v1'], [base, lib, randomBlob(4_000)], 'app2 v1');
  await pushImage('solo', ['only'], [randomBlob(7_000)], 'solo');

  const amd64 = await pushImage('multi', [], [base, randomBlob(1_500)], 'multi amd64');
  const arm64 = await pushImage('multi', [], [base, randomBlob(2_500)], 'multi arm64');
  const index = imageIndex([
    { manifest: amd64[0]!, platform: { os: 'linux', architecture: 'amd64' } },
    { manifest: arm64[0]!, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  const indexResponse = await api.pushManifest('multi', '1.0', index, MediaType.ociIndex);
  if (indexResponse.status !== 201) throw new Error(`index push: ${indexResponse.status}`);
  stored.set(index.digest.toString(), index);
  const indexReaches = new Map([...amd64, ...arm64, index].map((blob) => [blob.digest.toString(), blob]));
  images.push({ repository: 'multi', tags: ['1.0'], manifest: index, reaches: [...indexReaches.values()] });

  const untaggedReaches = await pushImage('app2', [], [base, randomBlob(900)], 'app2 untagged');
  const junk = randomBlob(1_234);
  await pushBlob(api, 'junk', junk);
  stored.set(junk.digest.toString(), junk);
  return {
    images,
    stored: [...stored.values()],
    garbage: [junk],
    untagged: { repository: 'app2', manifest: untaggedReaches[0]!, reaches: untaggedReaches },
  };
}

/** The README's accounting rules, computed straight from what the fixture pushed. */
export function expectedFigures(fixture: SharedFixture) {
  const repositories = [...new Set(fixture.images.map((image) => image.repository))].sort();
  const blobsOf = (name: string) => byDigest(fixture.images.filter((image) => image.repository === name).flatMap((image) => image.reaches));
  const perRepository = repositories.map((name) => {
    const own = blobsOf(name);
    const others = byDigest(repositories.filter((other) => other !== name).flatMap((other) => [...blobsOf(other).values()]));
    const unique = [...own.values()].filter((blob) => !others.has(blob.digest.toString()));
    const images = fixture.images.filter((image) => image.repository === name);
    return {
      name,
      images: images.length,
      logicalBytes: images.reduce((total, image) => total + totalSize(image.reaches), 0),
      uniqueBytes: totalSize(unique),
      sharedBytes: totalSize(own.values()) - totalSize(unique),
    };
  });
  const physicalBytes = totalSize(fixture.stored);
  const logicalBytes = perRepository.reduce((total, repository) => total + repository.logicalBytes, 0);
  return { physicalBytes, logicalBytes, dedupRatio: logicalBytes / physicalBytes, unreferencedBytes: totalSize(fixture.garbage), repositories: perRepository };
}
