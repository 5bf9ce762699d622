import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One row of conformance/README.md's table: an official spec and the ids of our checks for it. */
export interface TableRow {
  official: string;
  /** Our check ids (empty for a workflow setup or a spec without counterpart). */
  ids: string[];
  /** The "Our check" cell as written. */
  ours: string;
}

const README = join(import.meta.dirname, '../../conformance/README.md');

/** The rows of the table under "The official specs and their counterparts". */
export async function officialTable(): Promise<TableRow[]> {
  const text = await readFile(README, 'utf8');
  const lines = text.slice(text.indexOf('| Official spec |')).split('\n').slice(2);
  const end = lines.findIndex((line) => !line.startsWith('| '));
  return lines.slice(0, end < 0 ? lines.length : end).map((line) => {
    const [official = '', ours = ''] = line
      .split('|')
      .slice(1)
      .map((cell) => cell.trim());
    const ids = [...ours.matchAll(/`([a-z]+\.[a-z0-9-]+)`/g)].map((match) => match[1]!);
    return { official, ids, ours };
  });
}
