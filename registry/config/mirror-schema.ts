/**
 * The config file's `mirror:` section (README "Mirror (pull-through cache)"): the upstreams Berth
 * caches, each answering to its name as a path prefix and as containerd's `?ns=`.
 */
import { z } from 'zod';
import { parseDurationMs } from './parsers.ts';
import { duration, flag, names, optionalSection, section, text } from './values.ts';

const milliseconds = duration.transform((value) => parseDurationMs(value)!);
const url = text.refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), { error: 'must be an http:// or https:// URL' });
/** A name is the first component of the repositories it caches (`docker.io/library/alpine`), so it must be one. */
const upstreamName = text.regex(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/, { error: 'must be a registry name such as docker.io (lower case, no port)' });
/** YAML reads `password: 12345` as a number; taken as written rather than refused with the value echoed. */
const secret = z.preprocess((value) => (typeof value === 'number' ? String(value) : value), text);

const upstream = section({
  name: upstreamName,
  url,
  /** Names with neither a known prefix nor `?ns=` go to this upstream. */
  default: flag.default(false),
  username: text.optional(),
  password: secret.optional(),
  /** The environment variable holding the password, so the file holds none. */
  passwordEnv: text.optional(),
  /** Upstream repository globs this upstream serves (analysis/glob.ts); absent: every one. */
  repositories: names.optional(),
  /** How long a tag's digest is trusted before a HEAD upstream checks it again. */
  tagTtl: milliseconds.default(10 * 60_000),
  /** How long the upstream may stay silent (connecting, answering, between body bytes) before it counts as down. */
  timeout: milliseconds.default(20_000),
}).superRefine((entry, context) => {
  if (entry.password && entry.passwordEnv) context.addIssue({ code: 'custom', path: ['passwordEnv'], message: 'and password cannot both be given' });
});

const upstreams = z
  .array(upstream, { error: 'must be a list of upstreams' })
  .refine((list) => new Set(list.map((entry) => entry.name)).size === list.length, { error: 'must each have a name of their own' })
  .refine((list) => list.filter((entry) => entry.default).length <= 1, { error: 'may have one default upstream at most' });

export const mirrorSection = optionalSection({ upstreams: upstreams.default([]) });

export type MirrorSection = z.output<typeof mirrorSection>;
export type UpstreamSection = MirrorSection['upstreams'][number];
