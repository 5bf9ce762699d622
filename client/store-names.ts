import type { Descriptor } from '../oci/descriptor.ts';
import { NotInStoreError } from './errors.ts';
import type { LayoutStore } from './layout-store.ts';

/** A name without its `:tag` or `@digest` (a colon before the last slash is a port). */
function withoutTag(name: string): string {
  const bare = name.split('@')[0]!;
  const colon = bare.lastIndexOf(':');
  return colon > bare.lastIndexOf('/') ? bare.slice(0, colon) : bare;
}

/** Whether `short` is the end of `name` at a path boundary, with or without the tag: `app2` names `host:5000/team/app2:v1`. */
function shortFor(name: string, short: string): boolean {
  return [name, withoutTag(name)].some((full) => full === short || full.endsWith(`/${short}`));
}

function listed(names: string[]): string {
  const shown = names.slice(0, 20).join(', ');
  return names.length > 20 ? `${shown} and ${names.length - 20} more` : shown;
}

/**
 * The image a store names by one of `exact` (tried in turn), else the one image `short` is a short
 * name of. When none or several match, the error lists the names the store has or the ones that
 * match, so the user can pick one.
 */
export async function findStoredImage(store: LayoutStore, exact: string[], short?: string): Promise<{ name: string; descriptor: Descriptor }> {
  const named = (await store.list()).flatMap(({ name, descriptor }) => (name === undefined ? [] : [{ name, descriptor }]));
  for (const name of exact) {
    const found = named.find((entry) => entry.name === name);
    if (found) return found;
  }
  const matches = short === undefined ? [] : named.filter((entry) => shortFor(entry.name, short));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    throw new NotInStoreError(`"${short}" could be any of ${matches.length} images in ${store.dir}: ${listed(matches.map((m) => m.name))}; give the full name`);
  const has = named.length ? `it has ${listed(named.map((entry) => entry.name))}` : 'it holds no named image';
  throw new NotInStoreError(`${store.dir} has no image named ${exact.map((name) => `"${name}"`).join(' or ')}; ${has}`);
}
