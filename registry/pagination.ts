import type { Request } from 'express';
import { RegistryError } from './errors.ts';
import { singleQuery } from './responses.ts';

/** One page of a sorted list, and the `Link` header to the next one (RFC 5988, rel="next"). */
export interface Page {
  items: string[];
  link?: string;
}

/** A page of `n` items after `last` (end-8b; `/v2/_catalog` pages the same way). */
export function paginate(all: string[], req: Request, path: string): Page {
  const nText = singleQuery(req.query.n, 'n');
  const last = singleQuery(req.query.last, 'last');
  if (nText !== undefined && !/^\d+$/.test(nText)) {
    throw new RegistryError('UNSUPPORTED', `n must be a non-negative integer, not "${nText}"`, { status: 400 });
  }
  const start = last === undefined ? 0 : all.findIndex((item) => item > last);
  const rest = start < 0 ? [] : all.slice(start);
  if (nText === undefined) return { items: rest };
  const n = Number(nText);
  const items = rest.slice(0, n);
  const more = n > 0 && rest.length > n;
  const next = `${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1] ?? '')}`;
  return { items, ...(more ? { link: `<${next}>; rel="next"` } : {}) };
}
