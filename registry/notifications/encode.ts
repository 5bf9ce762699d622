import type { EventFormat } from './config.ts';
import type { RegistryEvent } from './event.ts';

export const DISTRIBUTION_TYPE = 'application/vnd.docker.distribution.events.v2+json';
export const CLOUDEVENTS_TYPE = 'application/cloudevents+json';

/** Past tenses of the actions, for CloudEvents' `type`. */
const PAST = { push: 'pushed', pull: 'pulled', mount: 'mounted', delete: 'deleted' } as const;

/** `dev.berth.image.pushed` for a manifest, `dev.berth.blob.…` for a blob, `dev.berth.tag.deleted` for an untag. */
function cloudEventType(event: RegistryEvent): string {
  const { target } = event;
  const kind = target.tag && !target.digest ? 'tag' : target.mediaType === 'application/octet-stream' || target.url?.includes('/blobs/') ? 'blob' : 'image';
  return `dev.berth.${kind}.${PAST[event.action]}`;
}

/** One POST's body and Content-Type. CloudEvents' structured mode holds one event: batches are Distribution's only. */
export function encode(format: EventFormat, events: readonly RegistryEvent[]): { contentType: string; body: string } {
  if (format === 'distribution') return { contentType: DISTRIBUTION_TYPE, body: JSON.stringify({ events }) };
  const [event] = events;
  if (!event || events.length !== 1) throw new Error('a CloudEvents POST carries exactly one event');
  const body = {
    specversion: '1.0',
    type: cloudEventType(event),
    source: `berth://${event.source.addr}/${event.target.repository}`,
    subject: event.target.tag ?? event.target.digest,
    id: event.id,
    time: event.timestamp,
    datacontenttype: 'application/json',
    data: event,
  };
  return { contentType: CLOUDEVENTS_TYPE, body: JSON.stringify(body) };
}

/** Events per POST. */
export function batchLimit(format: EventFormat): number {
  return format === 'distribution' ? 32 : 1;
}
