import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { RandomBlob } from './blob-source.ts';
import { leanGet } from './lean-get.ts';
import { benchS3Client, type BenchStorage } from './servers.ts';

/**
 * How fast the S3 server alone hands an object to the download workload's client (best of
 * three): the ceiling of both registries' S3 downloads, which relay the same bytes.
 */
export async function s3ReadRate(storage: Extract<BenchStorage, { kind: 's3' }>, size: number): Promise<number> {
  const client = benchS3Client(storage);
  try {
    const object = { Bucket: storage.bucket, Key: 'bench-ceiling/object' };
    await new Upload({ client, params: { ...object, Body: RandomBlob.create(size).stream() } }).done();
    const url = new URL(await getSignedUrl(client, new GetObjectCommand(object), { expiresIn: 600 }));
    let best = 0;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      const { status, bytes } = await leanGet(url);
      if (status !== 200 || bytes !== size) throw new Error(`S3 GET of the ceiling object: ${status}, ${bytes} of ${size} bytes`);
      best = Math.max(best, size / 1e6 / ((performance.now() - started) / 1000));
    }
    return best;
  } finally {
    client.destroy();
  }
}
