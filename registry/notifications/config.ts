import { z } from 'zod';
import { parseDurationMs } from '../config/parsers.ts';
import { duration, flag, names, oneOf, optionalSection, positiveInteger, section, text } from '../config/values.ts';

/** What an event says happened; `ignore.actions` names these. */
export const ACTIONS = ['push', 'pull', 'mount', 'delete'] as const;
export type EventAction = (typeof ACTIONS)[number];

export const FORMATS = ['distribution', 'cloudevents'] as const;
export type EventFormat = (typeof FORMATS)[number];

const url = text.refine((value) => URL.canParse(value), { error: 'must be a URL' });
const milliseconds = duration.transform((value) => parseDurationMs(value)!);

/**
 * `headers:` as Distribution writes them (`Authorization: [Bearer x]`), or a plain string per header
 * for convenience: made a list first, so the schema needs no union (see values.ts on unions).
 */
const headers = z.preprocess(
  (value) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, typeof item === 'string' ? [item] : item]))
      : value,
  z.record(z.string(), names, { error: 'must be a mapping of header names to strings or lists of strings' }),
);

/** One receiver, spelt as Distribution's `notifications.endpoints[]`, plus `repositories` and `format`. */
const endpointSection = section({
  name: text,
  url,
  headers: headers.optional(),
  /** Per POST. */
  timeout: milliseconds.optional(),
  /** Attempts of one batch before its events count as failed. */
  threshold: positiveInteger.optional(),
  /** Wait before the first retry; doubled each further one, up to a minute. */
  backoff: milliseconds.optional(),
  disabled: flag.optional(),
  ignore: optionalSection({ mediatypes: names.optional(), actions: z.array(oneOf(ACTIONS), { error: 'must be a list of actions' }).optional() }),
  /** Repository globs (analysis/glob.ts): only their events go here. Absent: every repository. */
  repositories: names.optional(),
  format: oneOf(FORMATS).optional(),
  /** Events kept in memory while the receiver is slow or down; the oldest go first when full. */
  queueSize: positiveInteger.optional(),
});

/** Names label the delivery metrics and logs: two endpoints of one name would be counted as one. */
const endpointList = z
  .array(endpointSection, { error: 'must be a list of endpoints' })
  .refine((endpoints) => new Set(endpoints.map((endpoint) => endpoint.name)).size === endpoints.length, { error: 'must each have a name of their own' });

export const notificationsSection = optionalSection({ endpoints: endpointList.optional() });

export type NotificationsConfig = z.output<typeof notificationsSection>;
export type EndpointConfig = z.output<typeof endpointSection>;
