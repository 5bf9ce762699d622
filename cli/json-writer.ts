import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Pieces are gathered up to this many characters per write. */
const WRITE_SIZE = 1 << 16;

/** One value as `JSON.stringify(value, null, 2)` writes it at `indent`: `null` where it writes nothing (undefined in an array). */
function whole(value: unknown, indent: string): string {
  return (JSON.stringify(value, null, 2) ?? 'null').replaceAll('\n', `\n${indent}`);
}

/** A mapping JSON.stringify writes key by key: not an array, a Date or anything else with toJSON. */
function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** The text of `JSON.stringify(value, null, 2)` in pieces: mappings key by key, arrays item by item. */
function* pieces(value: unknown, indent: string): Generator<string> {
  const inner = `${indent}  `;
  if (Array.isArray(value) && value.length > 0) {
    yield '[';
    for (let i = 0; i < value.length; i++) yield `${i ? ',' : ''}\n${inner}${whole(value[i], inner)}`;
    yield `\n${indent}]`;
    return;
  }
  // Without the keys JSON.stringify leaves out.
  const entries = isMapping(value)
    ? Object.entries(value).filter(([, item]) => item !== undefined && typeof item !== 'function' && typeof item !== 'symbol')
    : [];
  if (entries.length === 0) {
    yield whole(value, indent);
    return;
  }
  yield '{';
  for (const [i, [key, item]] of entries.entries()) {
    yield `${i ? ',' : ''}\n${inner}${JSON.stringify(key)}: `;
    yield* pieces(item, inner);
  }
  yield `\n${indent}}`;
}

/**
 * Writes `JSON.stringify(value, null, 2)` and a newline, the same text, a piece at a time: the
 * analysis of 20,000 repositories is 26 MB of JSON, and held whole as one string (and again as the
 * bytes written) it was the largest part of `berth analyze --json`'s peak memory (issue 29).
 */
export async function writeJson(out: Writable, value: unknown): Promise<void> {
  let batch = '';
  for (const piece of pieces(value, '')) {
    batch += piece;
    if (batch.length < WRITE_SIZE) continue;
    if (!out.write(batch)) await once(out, 'drain');
    batch = '';
  }
  if (!out.write(`${batch}\n`)) await once(out, 'drain');
}
