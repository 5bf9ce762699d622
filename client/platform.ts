import type { Descriptor, Platform } from '../oci/descriptor.ts';
import { platformString } from '../oci/descriptor.ts';
import type { Digest } from '../oci/digest.ts';
import type { Manifest } from '../oci/manifest.ts';
import { MediaType } from '../oci/media-types.ts';

/**
 * Which images of an index to take: one platform, or all of them. A platform the user `asked` for
 * is required of a single image too; the host's, taken by default, is only preferred.
 */
export type PlatformChoice = { all: true } | { all: false; platform: Platform; asked: boolean };

export class PlatformError extends Error {}

/** Node's `process.arch` in GOARCH terms, as image indexes spell it. */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** Containers are Linux unless asked otherwise, whatever the host runs. */
export function hostPlatform(): Platform {
  return { os: 'linux', architecture: GOARCH[process.arch] ?? process.arch };
}

/** Parses `OS/ARCH[/VARIANT]` or `all`; undefined means the host's platform. */
export function parsePlatform(text: string | undefined): PlatformChoice {
  if (text === undefined) return { all: false, platform: hostPlatform(), asked: false };
  if (text === 'all') return { all: true };
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new PlatformError(`invalid platform "${text}": expected OS/ARCH[/VARIANT] or all`);
  return { all: false, platform: { os, architecture, ...(variant ? { variant } : {}) }, asked: true };
}

/** arm64 images often leave out the variant they all share. */
function variantOf(platform: Platform): string | undefined {
  return platform.variant ?? (platform.architecture === 'arm64' ? 'v8' : undefined);
}

function matches(wanted: Platform, offered: Platform): boolean {
  if (wanted.os !== offered.os || wanted.architecture !== offered.architecture) return false;
  return !wanted.variant || variantOf(wanted) === variantOf(offered);
}

/** The index entry for `wanted`: an exact variant match first, else the first of the os/arch. */
export function selectPlatform(manifests: Descriptor[], wanted: Platform): Descriptor {
  const candidates = manifests.filter((d) => d.platform && matches(wanted, d.platform));
  const exact = candidates.find((d) => variantOf(d.platform!) === variantOf(wanted));
  const chosen = exact ?? candidates[0];
  if (chosen) return chosen;
  const offered = manifests.flatMap((d) => (d.platform ? [platformString(d.platform)] : [])).join(', ');
  throw new PlatformError(`no image for ${platformString(wanted)} in the index (it has: ${offered || 'no platforms'})`);
}

/**
 * Refuses a single-platform image of another platform than the one asked for, as docker does
 * ("does not match the specified platform"); the image's platform is in its config. An artifact,
 * whose config is no image config, has no platform to check.
 */
export async function checkImagePlatform(
  name: string,
  manifest: Manifest,
  choice: PlatformChoice,
  readConfig: (digest: Digest) => Promise<Buffer>,
): Promise<void> {
  if (choice.all || !choice.asked || manifest.kind !== 'image') return;
  if (manifest.config.mediaType !== MediaType.ociConfig && manifest.config.mediaType !== MediaType.dockerConfig) return;
  const config = JSON.parse((await readConfig(manifest.config.digest)).toString('utf8')) as Partial<Platform>;
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return;
  const offered: Platform = { os: config.os, architecture: config.architecture, ...(typeof config.variant === 'string' ? { variant: config.variant } : {}) };
  if (!matches(choice.platform, offered)) {
    throw new PlatformError(`${name} is a single-platform image for ${platformString(offered)}, not ${platformString(choice.platform)}`);
  }
}
