import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Attempts the AWS SDK made again after a failure (a 5xx, a throttle, a reset), summed over every
 * bucket of the process: a plain number, read by the registry's metrics (`berth_s3_retries_total`).
 */
export const s3Retries = { count: 0 };

/** Counts `client`'s retries: each call's response (or final error) says how many attempts it took. */
export function countRetries(client: S3Client): void {
  const add = (attempts: number | undefined) => {
    if (attempts && attempts > 1) s3Retries.count += attempts - 1;
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        add((result.output as { $metadata?: { attempts?: number } }).$metadata?.attempts);
        return result;
      } catch (error) {
        add((error as { $metadata?: { attempts?: number } }).$metadata?.attempts);
        throw error;
      }
    },
    // Around the retry middleware (finalizeRequest), so it sees each call once, with its attempts.
    { step: 'initialize', name: 'berthCountRetries' },
  );
}
