import { z } from 'zod';
import { authSection } from '../auth/config.ts';
import { mirrorSection } from './mirror-schema.ts';
import { retentionSection } from './retention-schema.ts';
import { uiSection } from './ui-schema.ts';
import { byteSize, duration, flag, listenAddress, oneOf, optionalSection, positiveInteger, section, text, workerCount } from './values.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../request-log/log-settings.ts';
import { notificationsSection } from '../notifications/config.ts';

/** S3's smallest multipart part (but the last). */
const MIN_PART_SIZE = 5 * 1024 * 1024;

const url = text.refine((value) => URL.canParse(value), { error: 'must be a URL' });

/** `storage:` is a directory or `s3://` URL, or a mapping with one of them as `path` or `url`. */
const storageSection = z.preprocess(
  (value) => (typeof value === 'string' ? { path: value } : (value ?? {})),
  section(
    {
      path: text.optional(),
      url: text.optional(),
      directWrites: flag.default(true),
      s3: optionalSection({
        endpoint: url.optional(),
        region: text.optional(),
        forcePathStyle: flag.optional(),
        accessKeyId: text.optional(),
        secretAccessKey: text.optional(),
        redirect: flag.optional(),
        fastPaths: flag.optional(),
        /** Bytes of one part of a transfer (an upload's part, a parallel read's range): S3 takes parts from 5 MiB. */
        partSize: byteSize.refine((bytes) => bytes >= MIN_PART_SIZE, { error: 'must be at least 5 MiB (S3 refuses smaller parts)' }).optional(),
        /** Parts of one transfer in flight at once: 1 reads a blob with one GET and uploads one part at a time. */
        parallelParts: positiveInteger.optional(),
        /** Links and blob lookups shared by the replicas through this Redis (README "Consistency"). */
        redis: url.optional(),
      }),
      localCache: optionalSection({ path: text.optional(), size: byteSize.optional() }),
    },
    'must be a directory, s3://BUCKET[/PREFIX] or a mapping',
  ).superRefine((storage, context) => {
    if (storage.path && storage.url) context.addIssue({ code: 'custom', path: ['url'], message: 'and storage.path cannot both be given' });
  }),
);

/**
 * Every key the config file may hold (README, "Running the registry" and the sections it links):
 * what is not here is refused, so no misspelling is silently ignored.
 */
export const configFileSchema = optionalSection(
  {
    listen: listenAddress.optional(),
    storage: storageSection,
    workers: workerCount.optional(),
    tls: optionalSection({ cert: text.optional(), key: text.optional() }),
    auth: authSection,
    /** `listen`: a separate address for `/metrics` (then not served on the main one). */
    metrics: optionalSection({ listen: listenAddress.optional() }),
    /** The request log: pino's level (or `silent`) and `auto`, `json` or `text`. */
    log: optionalSection({ level: oneOf(LOG_LEVELS).optional(), format: oneOf(LOG_FORMATS).optional() }),
    /** Webhooks (README "Operations"): Distribution's `endpoints`, with repository globs and a format each. */
    notifications: notificationsSection,
    /** Read by `berth gc`. */
    gc: optionalSection({ deleteUntagged: flag.optional(), gracePeriod: duration.optional(), uploadMaxAge: duration.optional(), settle: duration.optional() }),
    /** Retention policies and immutable tags (README "Retention"), read by `berth retention` and `berth serve`. */
    retention: retentionSection,
    /** Pull-through cache of other registries (README "Mirror (pull-through cache)"). */
    mirror: mirrorSection,
    /** The web interface (README "Web interface"): on unless `enabled: false`. */
    ui: uiSection,
  },
  'must be a YAML mapping',
);

export type ConfigFile = z.output<typeof configFileSchema>;
export type StorageSection = ConfigFile['storage'];
