import { loadServeConfig, type ServeConfig } from '../registry/config/serve-config.ts';
import { openDriver } from '../storage/open-driver.ts';
import { Store } from '../storage/store.ts';

export interface StoreFlags {
  storage?: string;
  config?: string;
}

/** The store `berth serve` would use with the same flags, environment and config file. */
export async function openStore(flags: StoreFlags): Promise<{ store: Store; config: ServeConfig; close: () => Promise<void> }> {
  const config = await loadServeConfig({ storage: flags.storage, config: flags.config });
  const driver = await openDriver(config.storage, config.s3);
  await driver.check();
  return { store: new Store(driver), config, close: async () => driver.close?.() };
}
