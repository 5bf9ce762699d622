import { CheckFailure, CheckSkipped, describe, errorCodes, type Check, type CheckContext } from './check.ts';
import type { Exchange } from './http.ts';

/**
 * Whether a DELETE's answer says deletes are disabled here. The spec allows "either a 400 Bad Request
 * or a 405 Method Not Allowed"; a 400 must also say why, with UNSUPPORTED (as the official suite
 * demands of tag deletion), or it is just a request the registry got wrong.
 */
export function refusesDeletes(exchange: Exchange): boolean {
  return exchange.status === 405 || (exchange.status === 400 && errorCodes(exchange).includes('UNSUPPORTED'));
}

/** Skips a check whose DELETE the registry refuses as disabled; fails one whose 400 gives another reason. */
export function skipIfDeletesDisabled(exchange: Exchange, what: string): void {
  if (refusesDeletes(exchange)) throw new CheckSkipped(`${what} is disabled on this registry (${exchange.status})`);
  if (exchange.status === 400) {
    throw new CheckFailure(`${what}: a 400 refusing a delete must carry the UNSUPPORTED error code, got ${describe(exchange)}`);
  }
}

/** What a workflow leaves in one repository: manifest digests and blob digests. */
export interface CleanupTarget {
  name: string;
  manifests: string[];
  blobs: string[];
}

/**
 * The teardown of a workflow, as a check: each DELETE answers 202, or 404 when a check already deleted
 * it. Manifests go before their blobs unless OCI_DELETE_MANIFEST_BEFORE_BLOBS says otherwise.
 */
export function cleanupCheck(workflow: string, targets: (context: CheckContext) => CleanupTarget[]): Check {
  return {
    id: `${workflow}.cleanup`,
    spec: 'end-9, end-10',
    title: 'DELETE of everything the workflow pushed answers 202 (404 once a check deleted it)',
    async run(context) {
      const answers: Exchange[] = [];
      for (const { name, manifests, blobs } of targets(context)) {
        const kinds = [
          ['manifests', manifests],
          ['blobs', blobs],
        ] as const;
        for (const [kind, references] of context.options.deleteManifestBeforeBlobs ? kinds : [...kinds].reverse()) {
          for (const reference of references) answers.push(await context.client.request('DELETE', `/v2/${name}/${kind}/${reference}`));
        }
      }
      const wrong = answers.filter((answer) => answer.status !== 202 && answer.status !== 404 && !refusesDeletes(answer));
      if (wrong.length > 0) throw new CheckFailure(`cleanup: expected 202 or 404, got ${wrong.map((answer) => describe(answer)).join('; ')}`);
      if (answers.some(refusesDeletes)) throw new CheckSkipped('the registry refuses deletes; test content left in place');
    },
  };
}
