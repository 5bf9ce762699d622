/**
 * Every distribution-spec endpoint over real HTTP, success and error paths.
 * Section names refer to ../shared/specs/distribution-spec-main/spec.md.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Digest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { paths } from '../../storage/paths.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageIndex, imageManifest, randomBlob } from '../helpers/content.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';

let berth: RunningBerth;
let api: RegistryAPI;
const codes = RegistryAPI.errorCodes;

before(async () => {
  berth = await startBerth();
  api = new RegistryAPI(berth.url);
});
after(() => berth.stop());

describe('end-1 API version check', () => {
  it('answers 200 with the Docker-Distribution-API-Version header', async () => {
    const response = await api.request('GET', '/v2/');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });
});

describe('end-2 / end-4b blobs: single POST, GET, HEAD, Range', () => {
  const blob = randomBlob(5000);
  before(() => api.pushBlob('blobs/app', blob));

  it('GET returns the bytes with Docker-Content-Digest', async () => {
    const response = await api.request('GET', `/v2/blobs/app/blobs/${blob.digest}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('docker-content-digest'), `${blob.digest}`);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), blob.bytes);
  });

  it('HEAD gives Content-Length and digest, no body ("Checking if content exists")', async () => {
    const response = await api.request('HEAD', `/v2/blobs/app/blobs/${blob.digest}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-length'), '5000');
    assert.equal(response.headers.get('docker-content-digest'), `${blob.digest}`);
  });

  it('honours Range with 206 and answers 416 outside the blob (RFC 9110 §14)', async () => {
    const partial = await api.request('GET', `/v2/blobs/app/blobs/${blob.digest}`, { headers: { Range: 'bytes=100-199' } });
    assert.equal(partial.status, 206);
    assert.equal(partial.headers.get('content-range'), 'bytes 100-199/5000');
    assert.deepEqual(Buffer.from(await partial.arrayBuffer()), blob.bytes.subarray(100, 200));
    const suffix = await api.request('GET', `/v2/blobs/app/blobs/${blob.digest}`, { headers: { Range: 'bytes=-10' } });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), blob.bytes.subarray(4990));
    const outside = await api.request('GET', `/v2/blobs/app/blobs/${blob.digest}`, { headers: { Range: 'bytes=6000-' } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), 'bytes */5000');
  });

  it('answers 404 BLOB_UNKNOWN for an unknown blob and for a blob of another repository', async () => {
    const unknown = await api.request('GET', `/v2/blobs/app/blobs/${randomBlob().digest}`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await codes(unknown), ['BLOB_UNKNOWN']);
    const elsewhere = await api.request('GET', `/v2/blobs/other/blobs/${blob.digest}`);
    assert.equal(elsewhere.status, 404);
  });

  it('answers 400 DIGEST_INVALID for a malformed or unsupported digest', async () => {
    for (const bad of ['sha256:xyz', 'md5:d41d8cd98f00b204e9800998ecf8427e', 'nonsense']) {
      const response = await api.request('GET', `/v2/blobs/app/blobs/${bad}`);
      assert.equal(response.status, 400, bad);
      assert.deepEqual(await codes(response), ['DIGEST_INVALID']);
    }
  });

  it('refuses a single POST whose bytes do not match the digest, storing nothing', async () => {
    const claimed = randomBlob();
    const response = await api.request('POST', `/v2/blobs/app/blobs/uploads/?digest=${claimed.digest}`, { body: randomBlob().bytes });
    assert.equal(response.status, 400);
    assert.deepEqual(await codes(response), ['DIGEST_INVALID']);
    assert.equal((await api.request('HEAD', `/v2/blobs/app/blobs/${claimed.digest}`)).status, 404);
  });

  it('stores sha512 content under its sha512 digest ("Pushing blobs")', async () => {
    const bytes = randomBlob().bytes;
    const digest = Digest.of(bytes, 'sha512');
    const push = await api.request('POST', `/v2/blobs/app/blobs/uploads/?digest=${digest}`, { body: bytes });
    assert.equal(push.status, 201);
    const response = await api.request('GET', `/v2/blobs/app/blobs/${digest}`);
    assert.equal(response.headers.get('docker-content-digest'), `${digest}`);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
  });
});

describe('end-4a / end-5 / end-6 / end-13 / end-14 upload sessions', () => {
  const start = async (name = 'uploads/app', query = '') => {
    const response = await api.request('POST', `/v2/${name}/blobs/uploads/${query}`, { headers: { 'Content-Length': '0' } });
    assert.equal(response.status, 202);
    const location = response.headers.get('location');
    assert.ok(location?.includes('/blobs/uploads/'), `Location: ${location}`);
    return location;
  };

  it('POST then PUT with the whole blob (end-4a, end-6)', async () => {
    const blob = randomBlob(3000);
    const location = await start();
    const put = await api.request('PUT', `${location}?digest=${blob.digest}`, { body: blob.bytes });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('location'), `/v2/uploads/app/blobs/${blob.digest}`);
    assert.equal(put.headers.get('docker-content-digest'), `${blob.digest}`);
  });

  it('chunks with Content-Range, 416 out of order, status, final chunk on PUT (end-5, end-13)', async () => {
    const blob = randomBlob(30_000);
    const location = await start();
    const first = await api.request('PATCH', location, {
      body: blob.bytes.subarray(0, 10_000),
      headers: { 'Content-Range': '0-9999', 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-9999');
    const next = first.headers.get('location');
    const outOfOrder = await api.request('PATCH', next, { body: blob.bytes.subarray(20_000), headers: { 'Content-Range': '20000-29999' } });
    assert.equal(outOfOrder.status, 416);
    const retried = await api.request('PATCH', next, { body: blob.bytes.subarray(0, 10_000), headers: { 'Content-Range': '0-9999' } });
    assert.equal(retried.status, 416, 'a chunk sent twice is out of order');
    const status = await api.request('GET', next);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-9999');
    const second = await api.request('PATCH', next, { body: blob.bytes.subarray(10_000, 20_000), headers: { 'Content-Range': '10000-19999' } });
    assert.equal(second.status, 202);
    const badFinal = await api.request('PUT', `${next}?digest=${blob.digest}`, {
      body: blob.bytes.subarray(25_000),
      headers: { 'Content-Range': '25000-29999' },
    });
    assert.equal(badFinal.status, 416, 'an out-of-order final chunk is refused');
    const close = await api.request('PUT', `${next}?digest=${blob.digest}`, {
      body: blob.bytes.subarray(20_000),
      headers: { 'Content-Range': '20000-29999' },
    });
    assert.equal(close.status, 201);
    const pulled = await api.request('GET', `/v2/uploads/app/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), blob.bytes);
  });

  it('streams PATCH bodies without Content-Range and closes with an empty PUT', async () => {
    const blob = randomBlob(50_000);
    const location = await start();
    const patch = await api.request('PATCH', location, { body: blob.bytes.subarray(0, 20_000) });
    assert.equal(patch.status, 202);
    const patch2 = await api.request('PATCH', patch.headers.get('location')!, { body: blob.bytes.subarray(20_000) });
    assert.equal(patch2.headers.get('range'), '0-49999');
    const close = await api.request('PUT', `${patch2.headers.get('location')}?digest=${blob.digest}`);
    assert.equal(close.status, 201);
  });

  it('hashes with sha512 when asked by digest-algorithm (end-4c)', async () => {
    const bytes = randomBlob(4000).bytes;
    const digest = Digest.of(bytes, 'sha512');
    const location = await start('uploads/app', '?digest-algorithm=sha512');
    const patch = await api.request('PATCH', location, { body: bytes });
    const close = await api.request('PUT', `${patch.headers.get('location')}?digest=${digest}`);
    assert.equal(close.status, 201);
    const bad = await api.request('POST', '/v2/uploads/app/blobs/uploads/?digest-algorithm=md5');
    assert.equal(bad.status, 400);
  });

  it('refuses a closing PUT without a digest or with a wrong one, keeping the session', async () => {
    const blob = randomBlob();
    const location = await start();
    await api.request('PATCH', location, { body: blob.bytes });
    const none = await api.request('PUT', location);
    assert.equal(none.status, 400);
    assert.deepEqual(await codes(none), ['DIGEST_INVALID']);
    const wrong = await api.request('PUT', `${location}?digest=${randomBlob().digest}`);
    assert.equal(wrong.status, 400);
    assert.deepEqual(await codes(wrong), ['DIGEST_INVALID']);
    assert.equal((await api.request('PUT', `${location}?digest=${blob.digest}`)).status, 201);
  });

  it('cancels with DELETE (end-14), after which the session is unknown', async () => {
    const location = await start();
    assert.equal((await api.request('DELETE', location)).status, 204);
    const status = await api.request('GET', location);
    assert.equal(status.status, 404);
    assert.deepEqual(await codes(status), ['BLOB_UPLOAD_UNKNOWN']);
  });

  it('answers 404 BLOB_UPLOAD_UNKNOWN for unknown or malformed session ids', async () => {
    for (const id of ['6b3b1d5e-1d2f-4f6b-9a45-0d6f2b8c1e11', 'not-a-uuid', '..%2F..%2Fetc']) {
      const response = await api.request('PATCH', `/v2/uploads/app/blobs/uploads/${id}`, { body: 'x' });
      assert.equal(response.status, 404, id);
      assert.deepEqual(await codes(response), ['BLOB_UPLOAD_UNKNOWN']);
    }
  });
});

describe('end-11 cross-repository mount', () => {
  const blob = randomBlob();
  before(() => api.pushBlob('mount/source', blob));

  it('mounts from a repository holding the blob (201)', async () => {
    const response = await api.request('POST', `/v2/mount/target/blobs/uploads/?mount=${blob.digest}&from=mount/source`);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('location'), `/v2/mount/target/blobs/${blob.digest}`);
    assert.equal((await api.request('HEAD', `/v2/mount/target/blobs/${blob.digest}`)).status, 200);
  });

  it('mounts without `from` when the registry holds the blob (automatic mount)', async () => {
    const response = await api.request('POST', `/v2/mount/auto/blobs/uploads/?mount=${blob.digest}`);
    assert.equal(response.status, 201);
  });

  it('falls back to an upload session (202) when the source lacks the blob', async () => {
    const response = await api.request('POST', `/v2/mount/target2/blobs/uploads/?mount=${randomBlob().digest}&from=mount/source`);
    assert.equal(response.status, 202);
    assert.ok(response.headers.get('location'), 'the response has a Location');
  });
});

describe('end-3 / end-7 manifests', () => {
  const name = 'manifests/app';
  const config = randomBlob(200);
  const layer = randomBlob(2000);
  const manifest = imageManifest(config, [layer]);
  before(async () => {
    await api.pushBlob(name, config);
    await api.pushBlob(name, layer);
  });

  it('refuses a manifest whose blobs are missing, naming each (MANIFEST_BLOB_UNKNOWN)', async () => {
    const response = await api.pushManifest('manifests/empty', 'v1', manifest);
    assert.equal(response.status, 400);
    assert.deepEqual(await codes(response), ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
    assert.equal((await api.request('GET', '/v2/manifests/empty/manifests/v1')).status, 404);
  });

  it('stores by tag and serves it byte for byte by tag and digest, GET and HEAD', async () => {
    const put = await api.pushManifest(name, 'v1', manifest);
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), `${manifest.digest}`);
    assert.equal(put.headers.get('location'), `/v2/${name}/manifests/${manifest.digest}`);
    for (const reference of ['v1', `${manifest.digest}`]) {
      const response = await api.request('GET', `/v2/${name}/manifests/${reference}`, { headers: { Accept: MediaType.ociManifest } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), MediaType.ociManifest);
      assert.equal(response.headers.get('docker-content-digest'), `${manifest.digest}`);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), manifest.bytes);
      const head = await api.request('HEAD', `/v2/${name}/manifests/${reference}`);
      assert.equal(head.headers.get('content-length'), String(manifest.bytes.length));
    }
  });

  it('answers 404 MANIFEST_UNKNOWN for unknown tags, digests and repositories', async () => {
    for (const path of [`/v2/${name}/manifests/nope`, `/v2/${name}/manifests/${randomBlob().digest}`, '/v2/no/such/manifests/v1']) {
      const response = await api.request('GET', path);
      assert.equal(response.status, 404, path);
      assert.deepEqual(await codes(response), ['MANIFEST_UNKNOWN']);
    }
  });

  // The official suite's pull and push workflows read `.INVALID_MANIFEST_NAME` and expect 404 (conformance/01_pull_test.go).
  it('answers 404 MANIFEST_UNKNOWN to reads and deletes of a reference that cannot name a manifest', async () => {
    for (const bad of ['.INVALID_MANIFEST_NAME', '-bad', 'sha256:xyz']) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const response = await api.request(method, `/v2/${name}/manifests/${bad}`);
        assert.equal(response.status, 404, `${method} ${bad}`);
        if (method !== 'HEAD') assert.deepEqual(await codes(response), ['MANIFEST_UNKNOWN']);
      }
    }
  });

  it('refuses a digest reference that does not match the body (DIGEST_INVALID)', async () => {
    const response = await api.pushManifest(name, `${randomBlob().digest}`, manifest);
    assert.equal(response.status, 400);
    assert.deepEqual(await codes(response), ['DIGEST_INVALID']);
  });

  it('refuses invalid manifests (MANIFEST_INVALID) and oversized ones (413)', async () => {
    const cases: [string, string][] = [
      ['not json', MediaType.ociManifest],
      ['{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}', MediaType.ociManifest],
      [manifest.bytes.toString(), MediaType.dockerManifest],
      ['{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"sha256:zz","size":1},"layers":[]}', MediaType.ociManifest],
    ];
    for (const [body, type] of cases) {
      const response = await api.request('PUT', `/v2/${name}/manifests/bad`, { body, headers: { 'Content-Type': type } });
      assert.equal(response.status, 400, body);
      assert.deepEqual(await codes(response), ['MANIFEST_INVALID']);
    }
    const huge = await api.request('PUT', `/v2/${name}/manifests/huge`, {
      body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x20),
      headers: { 'Content-Type': MediaType.ociManifest },
    });
    assert.equal(huge.status, 413);
    assert.equal((await api.request('GET', `/v2/${name}/manifests/bad`)).status, 404);
  });

  it('refuses an invalid tag', async () => {
    for (const bad of ['-bad', '.INVALID_MANIFEST_NAME']) {
      const response = await api.pushManifest(name, bad, manifest);
      assert.equal(response.status, 400, bad);
      assert.deepEqual(await codes(response), ['MANIFEST_INVALID']);
    }
  });

  it('sets every ?tag= of a PUT by digest and reports them in OCI-Tag (end-7b)', async () => {
    const response = await api.request('PUT', `/v2/${name}/manifests/${manifest.digest}?tag=1.0&tag=1&tag=latest`, {
      body: manifest.bytes,
      headers: { 'Content-Type': MediaType.ociManifest },
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('oci-tag'), '1.0, 1, latest');
    for (const tag of ['1.0', '1', 'latest']) assert.equal((await api.request('HEAD', `/v2/${name}/manifests/${tag}`)).status, 200);
  });

  it('accepts an index whose children are present, refuses one whose child is missing', async () => {
    const index = imageIndex([{ manifest, platform: { os: 'linux', architecture: 'amd64' } }]);
    const put = await api.pushManifest(name, 'multi', index, MediaType.ociIndex);
    assert.equal(put.status, 201);
    const get = await api.request('GET', `/v2/${name}/manifests/multi`);
    assert.equal(get.headers.get('content-type'), MediaType.ociIndex);
    const orphan = imageIndex([{ manifest: randomBlob(), platform: { os: 'linux', architecture: 'arm64' } }]);
    const refused = await api.pushManifest(name, 'orphan', orphan, MediaType.ociIndex);
    assert.equal(refused.status, 400);
    assert.deepEqual(await codes(refused), ['MANIFEST_BLOB_UNKNOWN']);
  });

  /** PUTs a manifest as JSON; answers the status and the errors' `code: message`, after checking nothing was stored. */
  async function putJSON(json: Record<string, unknown>, contentType = String(json.mediaType)): Promise<[number, string[]]> {
    const body = JSON.stringify(json);
    const response = await api.request('PUT', `/v2/${name}/manifests/lie`, { body, headers: { 'Content-Type': contentType } });
    const { errors } = response.status === 201 ? { errors: [] } : ((await response.json()) as { errors: { code: string; message: string }[] });
    if (response.status !== 201) assert.equal((await api.request('HEAD', `/v2/${name}/manifests/${Digest.of(body)}`)).status, 404);
    return [response.status, errors.map((error) => `${error.code}: ${error.message}`)];
  }
  const descriptor = (blob: typeof layer, mediaType: string) => ({ mediaType, digest: `${blob.digest}`, size: blob.bytes.length });
  const parsed = JSON.parse(manifest.bytes.toString()) as Record<string, unknown>;

  // image-spec descriptor.md `size`: "the size, in bytes, of the raw content"; a pull checks it.
  it('refuses a layer, config or child manifest whose declared size differs from what is stored (MANIFEST_INVALID)', async () => {
    const short = { ...descriptor(layer, MediaType.ociLayerTarGzip), size: 1999 };
    assert.deepEqual(await putJSON({ ...parsed, layers: [short] }), [
      400,
      [`MANIFEST_INVALID: ${MediaType.ociLayerTarGzip} ${layer.digest} declares size 1999, but the stored content has 2000 bytes`],
    ]);
    assert.equal((await putJSON({ ...parsed, config: { ...descriptor(config, MediaType.ociConfig), size: 201 } }))[0], 400);
    await api.pushManifest(name, 'child', manifest);
    const child = { ...descriptor(manifest, MediaType.ociManifest), size: manifest.bytes.length + 1 };
    const [status, [message]] = await putJSON({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child] });
    assert.equal(status, 400);
    assert.match(message!, /^MANIFEST_INVALID: .* declares size \d+, but the stored content has \d+ bytes$/);
  });

  // image-spec manifest.md `layers` ("Each item in the array MUST be a descriptor"), descriptor.md "Properties".
  it('refuses "layers": null and descriptor fields of the wrong type (MANIFEST_INVALID)', async () => {
    assert.deepEqual(await putJSON({ ...parsed, layers: null }), [400, ['MANIFEST_INVALID: layers must be an array of descriptors, not null']]);
    const platform = { os: 'linux', architecture: 'amd64', 'os.version': 10 };
    const [status, errors] = await putJSON({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ ...descriptor(manifest, MediaType.ociManifest), platform }],
    });
    assert.deepEqual([status, errors], [400, ['MANIFEST_INVALID: manifests[0]: platform.os.version must be a string']]);
  });

  // distribution-spec "Pushing Manifests": "If a manifest includes a `mediaType` field, clients MUST set the
  // `Content-Type` header to the value specified by the `mediaType` field."
  it('refuses a Content-Type that is not a media type or disagrees with the mediaType field (MANIFEST_INVALID)', async () => {
    const unstored = { ...parsed, annotations: { 'org.example.case': 'content-type' } };
    assert.deepEqual(await putJSON(unstored, 'garbage/;;;'), [400, ['MANIFEST_INVALID: Content-Type "garbage/;;;" is not a media type']]);
    assert.deepEqual(await putJSON(unstored, 'application/json'), [
      400,
      [`MANIFEST_INVALID: mediaType "${MediaType.ociManifest}" does not match Content-Type "application/json"`],
    ]);
  });

  // image-spec image-index.md `manifests`: "This REQUIRED property contains a list of manifests", and of its
  // `mediaType`: "An encountered `mediaType` that is unknown to the implementation MUST NOT generate an error."
  it('refuses an index whose child is a plain blob, unless the child is of a media type Berth does not know', async () => {
    const index = (child: Record<string, unknown>) => ({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child] });
    assert.deepEqual(await putJSON(index(descriptor(layer, MediaType.ociManifest))), [
      400,
      [`MANIFEST_INVALID: ${MediaType.ociManifest} ${layer.digest} is a blob of repository ${name}, not a manifest`],
    ]);
    assert.deepEqual(await putJSON(index(descriptor(layer, MediaType.ociLayerTarGzip))), [
      400,
      [`MANIFEST_INVALID: manifests[0]: ${MediaType.ociLayerTarGzip} is not a manifest media type`],
    ]);
    assert.equal((await putJSON(index(descriptor(layer, 'application/vnd.example.future.manifest.v2+json'))))[0], 201);
  });
});

describe('end-12 referrers and OCI-Subject ("Pushing Manifests with Subject", "Listing Referrers")', () => {
  const name = 'referrers/app';
  const config = blobOf('{}');
  const subject = imageManifest(config, []);
  const sbom = imageManifest(config, [], {
    subject,
    artifactType: 'application/vnd.example.sbom.v1',
    annotations: { 'org.example.kind': 'sbom' },
  });
  const signature = imageManifest(config, [], { subject, configMediaType: 'application/vnd.example.signature.v1' });

  before(async () => {
    await api.pushBlob(name, config);
  });

  it('accepts a referrer before its subject and answers OCI-Subject', async () => {
    const response = await api.pushManifest(name, `${sbom.digest}`, sbom);
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('oci-subject'), `${subject.digest}`);
    assert.equal((await api.pushManifest(name, 'base', subject)).status, 201);
    assert.equal((await api.pushManifest(name, `${signature.digest}`, signature)).status, 201);
  });

  it('lists referrers with artifactType from the manifest or its config, and annotations', async () => {
    const response = await api.request('GET', `/v2/${name}/referrers/${subject.digest}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), MediaType.ociIndex);
    const index = (await response.json()) as { manifests: { digest: string; artifactType: string; annotations?: object; size: number }[] };
    const byDigest = new Map(index.manifests.map((d) => [d.digest, d]));
    assert.equal(byDigest.size, 2);
    assert.equal(byDigest.get(`${sbom.digest}`)?.artifactType, 'application/vnd.example.sbom.v1');
    assert.deepEqual(byDigest.get(`${sbom.digest}`)?.annotations, { 'org.example.kind': 'sbom' });
    assert.equal(byDigest.get(`${sbom.digest}`)?.size, sbom.bytes.length);
    assert.equal(byDigest.get(`${signature.digest}`)?.artifactType, 'application/vnd.example.signature.v1');
  });

  it('filters by artifactType and says so in OCI-Filters-Applied (end-12b)', async () => {
    const response = await api.request('GET', `/v2/${name}/referrers/${subject.digest}?artifactType=application/vnd.example.sbom.v1`);
    assert.equal(response.headers.get('oci-filters-applied'), 'artifactType');
    const index = (await response.json()) as { manifests: { digest: string }[] };
    assert.deepEqual(
      index.manifests.map((d) => d.digest),
      [`${sbom.digest}`],
    );
  });

  it('answers an empty index, not 404, when nothing refers to the digest', async () => {
    const response = await api.request('GET', `/v2/referrers/none/referrers/${randomBlob().digest}`);
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { manifests: unknown[] }).manifests, []);
  });

  it('answers 400 for a malformed digest', async () => {
    assert.equal((await api.request('GET', `/v2/${name}/referrers/sha256:nope`)).status, 400);
  });

  it('drops a deleted referrer from the list', async () => {
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/${signature.digest}`)).status, 202);
    const index = (await (await api.request('GET', `/v2/${name}/referrers/${subject.digest}`)).json()) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
  });
});

describe('end-8 tag listing and the catalog', () => {
  const name = 'tags/app';
  const tags = ['b', 'a', 'C', '1.0', 'latest', 'z_last'];
  before(async () => {
    const config = randomBlob(10);
    await api.pushBlob(name, config);
    const manifest = imageManifest(config, []);
    for (const tag of tags) await api.pushManifest(name, tag, manifest);
  });

  it('lists tags in ASCII order (end-8a)', async () => {
    const response = await api.request('GET', `/v2/${name}/tags/list`);
    assert.deepEqual(await response.json(), { name, tags: [...tags].sort() });
  });

  it('pages with n and last, with a Link to the next page (end-8b)', async () => {
    const first = await api.request('GET', `/v2/${name}/tags/list?n=2`);
    assert.deepEqual(((await first.json()) as { tags: string[] }).tags, ['1.0', 'C']);
    assert.equal(first.headers.get('link'), `</v2/${name}/tags/list?n=2&last=C>; rel="next"`);
    const second = await api.request('GET', `/v2/${name}/tags/list?n=2&last=C`);
    assert.deepEqual(((await second.json()) as { tags: string[] }).tags, ['a', 'b']);
    const tail = await api.request('GET', `/v2/${name}/tags/list?n=10&last=latest`);
    assert.deepEqual(((await tail.json()) as { tags: string[] }).tags, ['z_last']);
    assert.equal(tail.headers.get('link'), null);
    const zero = await api.request('GET', `/v2/${name}/tags/list?n=0`);
    assert.deepEqual(((await zero.json()) as { tags: string[] }).tags, []);
    assert.equal(zero.headers.get('link'), null);
    assert.equal((await api.request('GET', `/v2/${name}/tags/list?n=-1`)).status, 400);
  });

  it('answers 404 NAME_UNKNOWN for a repository that does not exist', async () => {
    const response = await api.request('GET', '/v2/no/such/repo/tags/list');
    assert.equal(response.status, 404);
    assert.deepEqual(await codes(response), ['NAME_UNKNOWN']);
  });

  it('lists repositories in the catalog, paginated', async () => {
    const all = ((await (await api.request('GET', '/v2/_catalog')).json()) as { repositories: string[] }).repositories;
    assert.ok(all.includes(name), `the catalog lists ${name}`);
    assert.deepEqual(all, [...all].sort());
    const page = await api.request('GET', '/v2/_catalog?n=1');
    assert.equal(((await page.json()) as { repositories: string[] }).repositories.length, 1);
    assert.match(page.headers.get('link') ?? '', /^<\/v2\/_catalog\?n=1&last=.+>; rel="next"$/);
  });
});

describe('end-9 / end-10 deletes ("Content Management")', () => {
  const name = 'deletes/app';
  const config = randomBlob(10);
  const manifest = imageManifest(config, []);
  before(async () => {
    await api.pushBlob(name, config);
    await api.pushManifest(name, 'one', manifest);
    await api.pushManifest(name, 'two', manifest);
  });

  it('deletes a tag, leaving the manifest', async () => {
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/one`)).status, 202);
    assert.equal((await api.request('GET', `/v2/${name}/manifests/one`)).status, 404);
    assert.equal((await api.request('GET', `/v2/${name}/manifests/${manifest.digest}`)).status, 200);
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/one`)).status, 404);
  });

  it('deletes a manifest and every tag pointing to it', async () => {
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/${manifest.digest}`)).status, 202);
    assert.equal((await api.request('GET', `/v2/${name}/manifests/${manifest.digest}`)).status, 404);
    assert.equal((await api.request('GET', `/v2/${name}/manifests/two`)).status, 404);
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/${manifest.digest}`)).status, 404);
  });

  it('deletes a tag the list shows whose link names no manifest', async () => {
    const driver = berth.storage.openDriver();
    try {
      await driver.putContent(paths.tagCurrentLink(name, 'damaged'), 'not a digest');
    } finally {
      await driver.close?.();
    }
    const listed = async () => ((await (await api.request('GET', `/v2/${name}/tags/list`)).json()) as { tags: string[] }).tags;
    assert.ok((await listed()).includes('damaged'), 'the tag list shows the tag');
    assert.equal((await api.request('GET', `/v2/${name}/manifests/damaged`)).status, 404);
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/damaged`)).status, 202);
    assert.ok(!(await listed()).includes('damaged'), 'the tag is gone from the list');
    assert.equal((await api.request('DELETE', `/v2/${name}/manifests/damaged`)).status, 404);
  });

  it('deletes a blob from the repository', async () => {
    assert.equal((await api.request('DELETE', `/v2/${name}/blobs/${config.digest}`)).status, 202);
    assert.equal((await api.request('HEAD', `/v2/${name}/blobs/${config.digest}`)).status, 404);
    assert.equal((await api.request('DELETE', `/v2/${name}/blobs/${config.digest}`)).status, 404);
  });
});

describe('names, paths and methods', () => {
  it('answers 400 NAME_INVALID for names outside the spec grammar, including traversal attempts', async () => {
    for (const path of ['/v2/UPPER/tags/list', '/v2/a..b/tags/list', '/v2/a%2F..%2Fb/tags/list', '/v2/..%2F..%2Fetc/tags/list']) {
      const response = await api.request('GET', path);
      assert.equal(response.status, 400, path);
      assert.deepEqual(await codes(response), ['NAME_INVALID']);
    }
    // fetch() would normalise dot segments away; a raw request sends them as they are.
    const raw = await new Promise<number>((resolve, reject) => {
      request(`${berth.url}/v2/../../etc/tags/list`, { path: '/v2/../../etc/tags/list' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(raw, 400);
  });

  it('answers 405 UNSUPPORTED for a method an endpoint lacks, and 404 off the API', async () => {
    const wrong = await api.request('PATCH', '/v2/some/app/manifests/v1');
    assert.equal(wrong.status, 405);
    assert.deepEqual(await codes(wrong), ['UNSUPPORTED']);
    assert.equal((await api.request('GET', '/v2/some/app/whatever')).status, 404);
    assert.equal((await api.request('GET', '/nothing')).status, 404);
  });
});
