import type { Command } from 'commander';
import { RegistryResponseError } from '../../client/errors.ts';
import type { RegistryClient } from '../../client/registry-client.ts';
import type { Digest } from '../../oci/digest.ts';
import { Reference } from '../../oci/reference.ts';
import { clientCommand, clientFor, report, type ClientFlags } from '../client-options.ts';

/** The repository's tags, none once a delete took its last (a registry may then answer 404 NAME_UNKNOWN). */
async function tagsOf(client: RegistryClient, repository: string): Promise<string[]> {
  return client.tags(repository).catch((error: unknown) => {
    if (error instanceof RegistryResponseError && error.status === 404) return [];
    throw error;
  });
}

/** Deletes the manifest and says which tags went with it: those listed before and not after. */
async function deleteManifest(client: RegistryClient, reference: Reference, digest: Digest, flags: ClientFlags): Promise<void> {
  const name = `${reference.registry}/${reference.repository}@${digest}`;
  const before = await tagsOf(client, reference.repository);
  await client.deleteManifest(reference.repository, digest.toString());
  const after = new Set(await tagsOf(client, reference.repository));
  const tags = before.filter((tag) => !after.has(tag));
  report(flags, { deleted: name, tags }, () => `deleted ${name}${tags.length ? ` and with it the tags ${tags.join(', ')}` : ' (no tag pointed at it)'}`);
}

/** Deletes one tag; the image stays, under its digest and its other tags. */
async function deleteTag(client: RegistryClient, reference: Reference, tag: string, flags: ClientFlags): Promise<void> {
  const name = `${reference.registry}/${reference.repository}:${tag}`;
  const descriptor = await client.headManifest(reference.repository, tag);
  if (!descriptor) throw new Error(`${name} does not exist`);
  await client.deleteManifest(reference.repository, tag).catch((error: unknown) => {
    // Distribution refuses tag deletes (400 UNSUPPORTED or 405): say what would work instead.
    if (error instanceof RegistryResponseError && (error.status === 400 || error.status === 405)) {
      const whole = `${reference.registry}/${reference.repository}@${descriptor.digest}`;
      throw new Error(`${reference.registry} does not delete tags (${error.message}); \`berth delete ${whole}\` deletes the image with every tag on it`);
    }
    throw error;
  });
  report(
    flags,
    { deleted: name, digest: descriptor.digest.toString() },
    () => `deleted the tag ${name}; the image ${descriptor.digest} stays, with any other tags`,
  );
}

export function registerDelete(program: Command): void {
  const command = program
    .command('delete')
    .description('delete a tag (NAME:TAG, that tag only) or an image (NAME@DIGEST, with every tag on it)')
    .argument('<ref>', 'host[:port]/name:tag or host[:port]/name@digest');
  clientCommand(command, async (text: string, flags: ClientFlags) => {
    const reference = Reference.parse(text);
    const client = clientFor(reference.registry, flags);
    if (reference.digest) await deleteManifest(client, reference, reference.digest, flags);
    else await deleteTag(client, reference, reference.manifestReference, flags);
  });
}
