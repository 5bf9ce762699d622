import { paths } from '../storage/paths.ts';

const LINK = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';
const HEX = LINK.slice('sha256:'.length);

/** A file to write straight into a store, by its path under the store's root. */
export type SeedFile = [path: string, content: string];

/**
 * A repository's tags as files in Distribution's layout, which both servers read: 10,000 pushes
 * over HTTP would measure the push, not the listing. A layer link too, since Distribution's catalog
 * finds repositories by their `_layers`.
 */
export function repositoryFiles(repository: string, tags: string[]): SeedFile[] {
  const root = `${paths.repositoriesRoot}/${repository}`;
  return [[`${root}/_layers/sha256/${HEX}/link`, LINK], ...tags.map((tag): SeedFile => [`${root}/_manifests/tags/${tag}/current/link`, LINK])];
}
