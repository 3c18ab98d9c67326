// The plugins an install ships, put into the drop-in folder once. The install's plugins/ holds
// the plugins' sources (the example among them) and is never watched: a fresh install runs
// only what the operator chose. When the server first creates the drop-in folder it packs
// each plugin named in `bundled_plugins` (by default the clustering plugin, which does
// nothing until clustering.enabled is set) into an archive there, as `xmppd plugin install`
// would. A folder that exists already is the operator's and is left as it is, so a bundled
// plugin removed from it stays removed.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import { installArchive } from './plugin-files.ts';
import { packPlugin } from './plugin-pack.ts';
import type { StagingOptions } from './plugin-staging.ts';

/** The install's plugin sources: plugins/ beside server/. */
export const INSTALL_PLUGINS = fileURLToPath(new URL('../../plugins/', import.meta.url));

/**
 * Creates `pluginsDir` if it does not exist, with an archive of each bundled plugin in it.
 * A bundled plugin that cannot be packed (missing, or never built) is logged and skipped:
 * the server runs without it, as it would with the plugin removed.
 */
export async function seedPluginsDir(pluginsDir: string, bundled: readonly string[], options: StagingOptions, log: Logger, sources = INSTALL_PLUGINS): Promise<void> {
  if (existsSync(pluginsDir)) return;
  await mkdir(pluginsDir, { recursive: true });
  for (const name of bundled) {
    try {
      const { archive } = await packPlugin(join(sources, name), options);
      const { manifest, file } = await installArchive(pluginsDir, archive, options);
      log.info('installed a bundled plugin into the new plugins folder', { plugin: manifest.name, version: manifest.version, file: join(pluginsDir, file) });
    } catch (err) {
      log.warn('a bundled plugin could not be installed; the server runs without it', { plugin: name, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
