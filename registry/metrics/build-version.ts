/**
 * Berth's version for `berth_build_info`, set by the command line (which reads package.json):
 * registry/ cannot import cli/, and this file loads no metrics library, so the primary may set it.
 */
export const build = { version: 'unknown' };

export function setBuildVersion(version: string): void {
  build.version = version;
}
