import type { Command } from 'commander';
import { Reference } from '../../oci/reference.ts';
import { parsePlatform, selectPlatform } from '../../client/platform.ts';
import type { FetchedManifest, RegistryClient } from '../../client/registry-client.ts';
import { platformString, type Descriptor } from '../../oci/descriptor.ts';
import { clientCommand, clientFor, report, type ClientFlags } from '../client-options.ts';
import { formatBytes } from '../format-bytes.ts';

interface InspectFlags extends ClientFlags {
  raw?: boolean;
  config?: boolean;
  referrers?: boolean;
  platform?: string;
}

function describe(reference: Reference, fetched: FetchedManifest): string {
  const lines = [`${reference}`, `digest:     ${fetched.digest}`, `media type: ${fetched.mediaType}`, `size:       ${fetched.bytes.length} bytes`];
  const { manifest } = fetched;
  if (manifest.kind === 'index') {
    lines.push('manifests:');
    for (const child of manifest.manifests)
      lines.push(`  ${child.platform ? platformString(child.platform) : '(no platform)'}  ${child.digest}  ${child.mediaType}`);
  } else {
    const total = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    lines.push(
      `config:     ${manifest.config.digest} (${manifest.config.mediaType})`,
      `layers:     ${manifest.layers.length}, ${formatBytes(total)} (${total} bytes)`,
    );
    for (const layer of manifest.layers) lines.push(`  ${layer.digest}  ${formatBytes(layer.size)}  ${layer.mediaType}`);
  }
  return lines.join('\n');
}

/** The referrers section, which says so when nothing refers to the manifest rather than leaving a bare heading. */
function referrerLines(referrers: Descriptor[]): string[] {
  if (referrers.length === 0) return ['referrers:  none (no signature, SBOM or other artifact refers to this manifest)'];
  return ['referrers:', ...referrers.map((r) => `  ${r.digest}  ${r.artifactType ?? r.mediaType}`)];
}

/** The config of the image a reference names, narrowing an index to one platform. */
async function imageConfig(client: RegistryClient, reference: Reference, fetched: FetchedManifest, platform: string | undefined): Promise<Buffer> {
  let image = fetched;
  if (image.manifest.kind === 'index') {
    const choice = parsePlatform(platform);
    if (choice.all) throw new Error('--config needs one platform, not all');
    image = await client.getManifest(reference.repository, selectPlatform(image.manifest.manifests, choice.platform).digest.toString());
  }
  if (image.manifest.kind !== 'image') throw new Error(`${reference}: nested index: give the image's digest`);
  return client.getBlobBytes(reference.repository, image.manifest.config.digest);
}

export function registerInspect(program: Command): void {
  const command = program
    .command('inspect')
    .description('show a manifest: its digest, media type, platforms or layers')
    .argument('<ref>', 'host[:port]/name[:tag|@digest]')
    .option('--raw', 'print the manifest bytes exactly as the registry serves them')
    .option('--config', 'print the image configuration (of --platform for an index)')
    .option('--referrers', 'list the manifests that refer to this one (its signatures, SBOMs, …)')
    .option('--platform <os/arch[/variant]>', 'for --config on an index (default: linux and this machine’s architecture)');
  clientCommand(command, async (text: string, flags: InspectFlags) => {
    const reference = Reference.parse(text);
    const client = clientFor(reference.registry, flags);
    const fetched = await client.getManifest(reference.repository, reference.manifestReference);
    if (flags.raw) {
      process.stdout.write(fetched.bytes);
      return;
    }
    if (flags.config) {
      const config = await imageConfig(client, reference, fetched, flags.platform);
      console.log(JSON.stringify(JSON.parse(config.toString('utf8')), null, 2));
      return;
    }
    const referrers = flags.referrers ? await client.referrers(reference.repository, fetched.digest) : undefined;
    report(
      flags,
      {
        reference: reference.toString(),
        digest: fetched.digest,
        mediaType: fetched.mediaType,
        size: fetched.bytes.length,
        manifest: JSON.parse(fetched.bytes.toString('utf8')) as unknown,
        ...(referrers ? { referrers } : {}),
      },
      () => [describe(reference, fetched), ...(referrers ? referrerLines(referrers) : [])].join('\n'),
    );
  });
}
