import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * A native addon from native/, built by `npm install` (binding.gyp); undefined where no compiler was
 * at hand or off Linux, and under BERTH_NO_ADDONS=1, which runs Berth (and its tests) on the paths
 * those machines take.
 */
export function loadAddon<T>(name: string): T | undefined {
  if (process.env.BERTH_NO_ADDONS === '1') return undefined;
  const require = createRequire(import.meta.url);
  // From storage/drivers/ in the sources, or dist/storage/drivers/ once built: build/ is at the package root.
  for (const up of ['../..', '../../..']) {
    const file = join(import.meta.dirname, up, `build/Release/${name}.node`);
    if (existsSync(file)) return require(file) as T;
  }
  return undefined;
}
