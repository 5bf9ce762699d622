import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import { startS3Server, type S3Server } from '../peers/s3-server.ts';
import { scaleRootFiles, type ScaleShape } from './scale-root.ts';
import { withBenchS3Client } from './servers.ts';

/** s3rver's files, kept between runs as the disk roots are: 5,000 repositories are 220,000 objects. */
const BUCKET_DIRECTORY = join(tmpdir(), 'berth-scale-s3rver');

/** Objects written at once: s3rver takes each in a request of its own, one process for all. */
const PUTS_IN_FLIGHT = 32;

/** The s3rver that holds every shape's root, each under a prefix of its own. */
export async function startScaleBucket(): Promise<S3Server> {
  await mkdir(BUCKET_DIRECTORY, { recursive: true });
  return startS3Server('berth-scale', [], { directory: BUCKET_DIRECTORY });
}

/** The prefix of `shape`'s root in the bucket, written once (its `written` object says so) or again with `fresh`. */
export async function bucketRootFor(s3: S3Server, shape: ScaleShape, fresh: boolean): Promise<string> {
  const prefix = `scale-${shape.repositories}-${shape.tagsPerRepository}-${shape.layersPerImage}-${shape.poolSize}`;
  const storage = { kind: 's3' as const, endpoint: s3.endpoint, bucket: s3.bucket, env: s3.env };
  await withBenchS3Client(storage, async (client) => {
    const done = { Bucket: s3.bucket, Key: `${prefix}/written` };
    const written = await client.send(new HeadObjectCommand(done)).then(
      () => true,
      (error: Error) => {
        if (error.name !== 'NotFound') throw error;
        return false;
      },
    );
    if (written && !fresh) return;
    const started = performance.now();
    let files = 0;
    await pMap(
      scaleRootFiles(shape),
      async ([path, content]) => {
        await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/${path}`, Body: content }));
        files++;
      },
      { concurrency: PUTS_IN_FLIGHT },
    );
    await client.send(new PutObjectCommand({ ...done, Body: String(files) }));
    console.error(
      `wrote ${files} objects for ${shape.repositories} repositories in ${((performance.now() - started) / 1000).toFixed(0)} s: s3://${s3.bucket}/${prefix}`,
    );
  });
  return prefix;
}
