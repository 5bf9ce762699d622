import type { Descriptor, Platform } from '../oci/descriptor.ts';
import { platformString } from '../oci/descriptor.ts';

/** Which images of an index to take: one platform, or all of them. */
export type PlatformChoice = { all: true } | { all: false; platform: Platform };

export class PlatformError extends Error {}

/** Node's `process.arch` in GOARCH terms, as image indexes spell it. */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** Containers are Linux unless asked otherwise, whatever the host runs. */
export function hostPlatform(): Platform {
  return { os: 'linux', architecture: GOARCH[process.arch] ?? process.arch };
}

/** Parses `OS/ARCH[/VARIANT]` or `all`; undefined means the host's platform. */
export function parsePlatform(text: string | undefined): PlatformChoice {
  if (text === undefined) return { all: false, platform: hostPlatform() };
  if (text === 'all') return { all: true };
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new PlatformError(`invalid platform "${text}": expected OS/ARCH[/VARIANT] or all`);
  return { all: false, platform: { os, architecture, ...(variant ? { variant } : {}) } };
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
