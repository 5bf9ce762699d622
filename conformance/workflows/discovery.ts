import type { WorkflowDefinition } from '../check.ts';
import { cleanupCheck } from '../deletes.ts';
import { namespace as repo } from '../operations.ts';
import { setUpDiscovery, state } from './discovery/fixtures.ts';
import { referrerChecks } from './discovery/referrers.ts';
import { tagChecks } from './discovery/tags.ts';

/** Content discovery (distribution-spec "Content Discovery"): tag lists and referrers. */
export const discoveryWorkflow: WorkflowDefinition = {
  name: 'content discovery',
  async setup(context) {
    context.state.set('content discovery', await setUpDiscovery(context));
  },
  checks: [...tagChecks, ...referrerChecks],
  teardown: cleanupCheck('discovery', (context) => {
    const { referrers, orphan, subject, config } = state(context);
    // Referrers first: the index among them names two others, and all of them name the subject.
    const manifests = [...referrers]
      .reverse()
      .concat(orphan)
      .map((referrer) => `${referrer.content.digest}`);
    return [{ name: repo(context), manifests: [...manifests, `${subject.digest}`], blobs: [`${config.digest}`] }];
  }),
};
