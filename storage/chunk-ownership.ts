import type { Readable } from 'node:stream';

/**
 * Streams whose chunks pass to their consumer alone, which may then free each one as soon as its
 * bytes are stored (storage/drivers/fs/direct-sink.ts) instead of leaving it to V8's next
 * collection. A request body qualifies: Node's HTTP parser copies each read into a buffer of its
 * own. A stream that passes such chunks on as they are, keeping none, qualifies in turn.
 */
const handedOver = new WeakSet<Readable>();

/** Marks `stream`: nothing but its consumer holds the chunks it gives. */
export function handOverChunks<T extends Readable>(stream: T): T {
  handedOver.add(stream);
  return stream;
}

export function chunksHandedOver(stream: Readable): boolean {
  return handedOver.has(stream);
}
