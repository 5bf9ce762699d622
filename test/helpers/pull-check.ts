import { Digest } from '../../oci/digest.ts';
import { parseManifest, referencedDescriptors } from '../../oci/manifest.ts';
import { MANIFEST_ACCEPT } from '../../oci/media-types.ts';

/**
 * Pulls a manifest and everything it reaches (index children, config, layers) over the API,
 * checking every digest; throws on the first missing or corrupt piece. Returns the blob count.
 */
export async function pullCompletely(url: string, name: string, reference: string): Promise<number> {
  const response = await fetch(`${url}/v2/${name}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } });
  if (response.status !== 200) throw new Error(`${name}:${reference}: manifest ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const digest = Digest.of(bytes);
  if (reference.includes(':') && reference !== digest.toString()) throw new Error(`${name}@${reference}: manifest digest is ${digest}`);
  let count = 1;
  for (const descriptor of referencedDescriptors(parseManifest(bytes, response.headers.get('content-type') ?? undefined))) {
    if (descriptor.mediaType.includes('manifest') || descriptor.mediaType.includes('index')) {
      count += await pullCompletely(url, name, descriptor.digest.toString());
      continue;
    }
    const blob = await fetch(`${url}/v2/${name}/blobs/${descriptor.digest}`);
    if (blob.status !== 200) throw new Error(`${name}:${reference}: blob ${descriptor.digest} ${blob.status}`);
    const actual = Digest.of(Buffer.from(await blob.arrayBuffer()));
    if (!actual.equals(descriptor.digest)) throw new Error(`${name}:${reference}: blob ${descriptor.digest} hashes to ${actual}`);
    count += 1;
  }
  return count;
}
