import type { Readable } from 'node:stream';
import { AppendUnderWayError } from '../driver.ts';

/** The objects an append is under way to in this process, whichever driver instance runs it. */
const underWay = new Set<string>();

/**
 * Runs `append` unless another append to `object` is under way in this process, and refuses it then
 * (AppendUnderWayError, with the size `size` finds, `source` drained). An append checks the size
 * and then writes, so two at once at one offset both passed the check: on disk their bytes
 * interleaved, in S3 one segment replaced the other, and either request's running hash could be
 * kept for bytes that were not the ones stored. Appends reaching two processes or replicas at
 * once are not held apart here: that would take a lock in storage, which neither a file (without
 * flock, which Node lacks) nor S3 (without conditional writes, which Berth does not rely on) gives.
 *
 * The claim is taken before the first `await`: call this at once in `Driver.append`.
 */
export async function appendAlone<T>(
  object: string,
  path: string,
  offset: number,
  source: Readable,
  size: () => Promise<number>,
  append: () => Promise<T>,
): Promise<T> {
  if (underWay.has(object)) {
    source.resume();
    throw new AppendUnderWayError(path, offset, await size());
  }
  underWay.add(object);
  try {
    return await append();
  } finally {
    underWay.delete(object);
  }
}
