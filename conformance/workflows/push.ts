import type { WorkflowDefinition } from '../check.ts';
import { cleanupCheck } from '../deletes.ts';
import { namespace as repo } from '../operations.ts';
import { blobChecks } from './push/blobs.ts';
import { chunkChecks } from './push/chunks.ts';
import { manifestChecks } from './push/manifests.ts';
import { mountChecks } from './push/mounts.ts';
import { state, type PushState } from './push/session.ts';

/** Push (distribution-spec "Push"): blobs monolithic and chunked, mounts, manifests. */
export const pushWorkflow: WorkflowDefinition = {
  name: 'push',
  async setup(context) {
    context.state.set('push', { blobs: new Set(), manifests: new Set(), mountedBlobs: new Set() } satisfies PushState);
  },
  checks: [...blobChecks, ...chunkChecks, ...mountChecks, ...manifestChecks],
  teardown: cleanupCheck('push', (context) => {
    const { blobs, manifests, mountedBlobs } = state(context);
    return [
      { name: repo(context), manifests: [...manifests], blobs: [...blobs] },
      { name: context.options.crossmountNamespace, manifests: [], blobs: [...mountedBlobs] },
    ];
  }),
};
