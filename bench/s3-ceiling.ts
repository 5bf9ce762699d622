import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { RandomBlob } from './blob-source.ts';
import { leanGet } from './lean-get.ts';
import { withBenchS3Client, type BenchStorage } from './servers.ts';
import { median } from './stats.ts';

/**
 * How fast the S3 server alone hands an object to the download workload's client: the ceiling of
 * both registries' S3 downloads, which relay the same bytes. A median over as many GETs as the
 * downloads take, since s3rver's rate swings as much as theirs.
 */
export async function s3ReadRate(storage: Extract<BenchStorage, { kind: 's3' }>, size: number, runs: number): Promise<number> {
  return withBenchS3Client(storage, async (client) => {
    const object = { Bucket: storage.bucket, Key: 'bench-ceiling/object' };
    await new Upload({ client, params: { ...object, Body: RandomBlob.create(size).stream() } }).done();
    const url = new URL(await getSignedUrl(client, new GetObjectCommand(object), { expiresIn: 600 }));
    const rates: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const { status, bytes } = await leanGet(url);
      if (status !== 200 || bytes !== size) throw new Error(`S3 GET of the ceiling object: ${status}, ${bytes} of ${size} bytes`);
      rates.push(size / 1e6 / ((performance.now() - started) / 1000));
    }
    return median(rates);
  });
}
