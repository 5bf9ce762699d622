import type { ConfigFile } from '../registry/config/schema.ts';
import { storageLocation } from '../registry/config/storage-location.ts';
import type { Store } from '../storage/store.ts';

export interface StoreFlags {
  storage?: string;
  config?: string;
}

/**
 * The store `berth serve` would use with the same flags, environment and config file, and that
 * file checked whole (undefined when none is named). The file's schema (zod, yaml) and the drivers
 * (the AWS SDK) load here, and only when needed: `berth gc` on a directory without a config file
 * starts without them, `berth --help` without any.
 */
export async function openStore(flags: StoreFlags): Promise<{ store: Store; file?: ConfigFile; close: () => Promise<void> }> {
  const path = flags.config ?? process.env.BERTH_CONFIG;
  const file = path ? await (await import('../registry/config/config-file.ts')).readConfigFile(path) : undefined;
  const { storage, s3 } = storageLocation(flags.storage, process.env, file?.storage);
  const [{ openDriver }, { Store }] = await Promise.all([import('../storage/open-driver.ts'), import('../storage/store.ts')]);
  // A command walks the store and serves no one: its reads of the disk may block (BERTH_NO_BLOCKING_READS=1: not).
  const driver = await openDriver(storage, s3, { blockingReads: process.env.BERTH_NO_BLOCKING_READS !== '1' });
  await driver.check();
  return { store: new Store(driver), ...(file ? { file } : {}), close: async () => driver.close?.() };
}
