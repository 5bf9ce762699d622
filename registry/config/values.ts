/**
 * The parts the config file's schema is made of, each with the words its error says (the key's
 * name goes before them and the value found after, see config-issue.ts).
 */
import { z } from 'zod';
import { keyName } from './issue.ts';
import { parseByteSize, parseDurationMs, parseListen, parseWorkers } from './parsers.ts';
import { closestName } from './suggestion.ts';

function unknownKeys(path: readonly PropertyKey[], keys: readonly string[], known: readonly string[]): string {
  const named = keys.map((key) => {
    const meant = closestName(key, known);
    return `"${keyName([...path, key])}"${meant ? ` (did you mean "${keyName([...path, meant])}"?)` : ''}`;
  });
  return `unknown key${keys.length > 1 ? 's' : ''} ${named.join(', ')}`;
}

/**
 * A mapping whose keys are all known. An unknown key stops the server instead of being ignored:
 * a misspelt `auht:` used to serve everyone anonymously. (Messages are made once the whole file
 * is parsed, so `path` is the full one; unions would break that, so the schema has none.)
 */
export function section<Shape extends z.ZodRawShape>(shape: Shape, notMapping = 'must be a mapping') {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeys(issue.path ?? [], issue.keys, known) : notMapping),
  });
}

/** A section that may be absent or left empty (`auth:` with nothing under it): its defaults apply. */
export function optionalSection<Shape extends z.ZodRawShape>(shape: Shape, notMapping?: string) {
  return z.preprocess((value) => value ?? {}, section(shape, notMapping));
}

export const text = z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' });
export const flag = z.boolean({ error: 'must be true or false' });
export const positiveNumber = z.number({ error: 'must be a number' }).positive({ error: 'must be above 0' });
export const positiveInteger = z.int({ error: 'must be a whole number' }).positive({ error: 'must be above 0' });
export const names = z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of strings' });

/** One of `values`, said as "a, b or c". */
export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  const said = values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}` : values[0];
  return z.enum(values, { error: `must be ${said}` });
}

/** A value `parse` accepts, kept as written: flags and the environment may override it, and are parsed alike. */
function accepted<T>(parse: (value: unknown) => unknown, message: string) {
  return z.custom<T>((value) => parse(value) !== undefined, { error: message });
}

export const listenAddress = accepted<string>(parseListen, 'must be HOST:PORT');
export const workerCount = accepted<number | string>(parseWorkers, 'must be a number of processes or "auto"');
/** Read by `berth gc`, with the parser of its duration flags. */
export const duration = accepted<number | string>(parseDurationMs, 'must be a duration such as 30s, 15m, 1h or 7d');
export const byteSize = accepted<number | string>(parseByteSize, 'must be bytes, or a number with KiB, MiB, GiB or TiB').transform((value) =>
  parseByteSize(value)!,
);
