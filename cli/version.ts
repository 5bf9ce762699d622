import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Berth's version from its package.json: found by walking up from this file, which sits one level
 * below it in the sources (cli/) and two in the build (dist/cli/).
 */
export function berthVersion(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'berth' && manifest.version) return manifest.version;
    } catch {
      // no package.json here: look further up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
