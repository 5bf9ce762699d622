/**
 * Programs the interop tests drive as real peers. On a machine without one, its tests are reported
 * skipped with the package to install, so `npm test` passes with Node alone; `.ci/run` installs them
 * all and sets BERTH_REQUIRE_PEERS=1, under which a missing one fails the run instead of shrinking it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each peer command and the Debian package it comes in (README "Tests" lists the same). */
const PACKAGES = {
  skopeo: 'skopeo',
  umoci: 'umoci',
  'docker-registry': 'docker-registry',
  podman: 'podman',
  chromium: 'chromium',
  'docker-compose': 'docker-compose',
  openssl: 'openssl',
  script: 'bsdutils',
  promtool: 'prometheus',
  ctr: 'containerd',
  'redis-server': 'redis-server',
} as const;

export type Peer = keyof typeof PACKAGES;

/** node:test options: `{}` to run, or a skip with its reason. */
export interface PeerOptions {
  skip?: string;
}

/** The executable `command` on PATH, or undefined. */
export function locate(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // Not in this directory: try the next.
    }
  }
  return undefined;
}

/** A skip naming what to install, or under BERTH_REQUIRE_PEERS=1 an error (CI must run everything). */
function missing(reason: string): PeerOptions {
  if (process.env.BERTH_REQUIRE_PEERS === '1') throw new Error(`BERTH_REQUIRE_PEERS=1 and this test ${reason}`);
  return { skip: reason };
}

/** Options for a describe/test that runs `peers`: e.g. `describe('…', needs('skopeo', 'umoci'), …)`. */
export function needs(...peers: Peer[]): PeerOptions {
  const absent = peers.filter((peer) => !locate(peer));
  if (absent.length === 0) return {};
  const packages = [...new Set(absent.map((peer) => PACKAGES[peer]))];
  return missing(`needs ${absent.join(', ')} (apt-get install ${packages.join(' ')})`);
}

/**
 * Options for a test of a native addon itself (`available`: whether it loaded). Under
 * BERTH_NO_ADDONS=1 it is off on purpose; otherwise it is missing where `npm install` had no compiler.
 */
export function needsAddon(available: boolean): PeerOptions {
  if (process.env.BERTH_NO_ADDONS === '1') return { skip: 'BERTH_NO_ADDONS=1 turns the native addons off' };
  if (available) return {};
  return missing('needs the native addons, which `npm install` builds with node-gyp (apt-get install python3 make g++, then npm install)');
}
