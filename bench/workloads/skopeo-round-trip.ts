import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { timed, type Workload } from '../workload.ts';

const run = promisify(execFile);

/** An image push and pull with skopeo: seconds for both, a fresh repository each run. */
export function skopeoRoundTrip(layout: () => string, runs: number): Workload {
  return {
    name: 'skopeo push + pull of a 3-layer image',
    unit: 's',
    higherIsBetter: false,
    runs,
    async measure(server, index) {
      const out = await mkdtemp(join(tmpdir(), 'bench-pull-'));
      try {
        const reference = `docker://${server.host}/bench/skopeo${index}:v1`;
        return await timed(async () => {
          await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout()}:v1`, reference]);
          await run('skopeo', ['copy', '-q', '--src-tls-verify=false', reference, `oci:${out}:v1`]);
        });
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
  };
}
