import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pages' folder (`ui/` at the package root, shipped as is: no build step), from registry/ui/
 * in the sources or dist/registry/ui/ once built.
 */
export function assetsDirectory(): string {
  for (const up of ['../..', '../../..']) {
    const directory = join(import.meta.dirname, up, 'ui');
    if (existsSync(join(directory, 'index.html'))) return directory;
  }
  throw new Error(`the web interface's files (ui/index.html) are missing from the package near ${import.meta.dirname}`);
}
