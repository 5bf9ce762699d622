import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { bucketRootFor } from '../../bench/scale-bucket.ts';
import { writeScaleRoot } from '../../bench/scale-root.ts';
import { withBenchS3Client } from '../../bench/servers.ts';

const SHAPE = { repositories: 12, tagsPerRepository: 2, layersPerImage: 3, poolSize: 10, layerBytes: 32 };

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

async function keysUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for (let token: string | undefined, more = true; more;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!.slice(prefix.length + 1)));
    [token, more] = [page.NextContinuationToken, page.IsTruncated === true];
  }
  return keys.sort();
}

// Issue 29: the bench's synthetic roots in a bucket are the disk roots' files under the same keys (Distribution's layout).
describe('the scale bench writes its roots into a bucket', () => {
  let s3: S3Server;
  let disk: string;
  const withClient = <T>(action: (client: S3Client) => Promise<T>) =>
    withBenchS3Client({ kind: 's3', endpoint: s3.endpoint, bucket: s3.bucket, env: s3.env }, action);

  before(async () => {
    [s3, disk] = await Promise.all([startS3Server('berth-scale'), mkdtemp(join(tmpdir(), 'berth-scale-test-'))]);
    await writeScaleRoot(disk, SHAPE);
  });
  after(async () => {
    await s3?.stop();
    await rm(disk, { recursive: true, force: true });
  });

  it('puts every file of the disk root under the same key, with the same bytes', async () => {
    const prefix = await bucketRootFor(s3, SHAPE, false);
    const files = (await filesUnder(disk)).sort();
    await withClient(async (client) => {
      assert.deepEqual(await keysUnder(client, s3.bucket, prefix), [...files, 'written'].sort());
      for (const file of files.filter((_, i) => i % 7 === 0)) {
        const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/${file}` }));
        assert.deepEqual(Buffer.from(await object.Body!.transformToByteArray()), await readFile(join(disk, file)), file);
      }
    });
  });

  it('keeps a written root, and writes it again when fresh', async () => {
    const prefix = await bucketRootFor(s3, SHAPE, false);
    const [gone] = (await filesUnder(disk)).sort();
    await withClient((client) => client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/${gone}` })));
    await bucketRootFor(s3, SHAPE, false);
    assert.ok(!(await withClient((client) => keysUnder(client, s3.bucket, prefix))).includes(gone!), `${gone} stays deleted: the root was kept`);
    await bucketRootFor(s3, SHAPE, true);
    assert.ok((await withClient((client) => keysUnder(client, s3.bucket, prefix))).includes(gone!), `${gone} is back: the root was written again`);
  });
});
