import type { ServeConfig } from '../registry/config/serve-config.ts';
import type { Store } from '../storage/store.ts';

export interface StoreFlags {
  storage?: string;
  config?: string;
}

/**
 * The store `berth serve` would use with the same flags, environment and config file. The config
 * schema and the drivers (the AWS SDK) load here, when a command runs, not when `berth --help`
 * registers every command.
 */
export async function openStore(flags: StoreFlags): Promise<{ store: Store; config: ServeConfig; close: () => Promise<void> }> {
  const [{ loadServeConfig }, { openDriver }, { Store }] = await Promise.all([
    import('../registry/config/serve-config.ts'),
    import('../storage/open-driver.ts'),
    import('../storage/store.ts'),
  ]);
  const config = await loadServeConfig({ storage: flags.storage, config: flags.config });
  const driver = await openDriver(config.storage, config.s3);
  await driver.check();
  return { store: new Store(driver), config, close: async () => driver.close?.() };
}
