import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { RegistryUnavailableError } from '../../conformance/http.ts';
import { optionsFromEnv, UsageError, type ConformanceOptions } from '../../conformance/options.ts';
import { formatJSON, formatJUnit, formatText } from '../../conformance/report.ts';
import { runConformance } from '../../conformance/runner.ts';

interface ConformanceFlags {
  namespace?: string;
  crossmountNamespace?: string;
  username?: string;
  password?: string;
  pull?: boolean;
  push?: boolean;
  discovery?: boolean;
  management?: boolean;
  automaticCrossmount?: string;
  deleteManifestBeforeBlobs?: string;
  only?: string;
  junit?: string;
  json?: string;
}

/** Flags override the official suite's environment variables of the same meaning. */
function flagEnv(flags: ConformanceFlags, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const chosen = (on: boolean | undefined) => (on ? 'true' : undefined);
  return {
    ...env,
    ...Object.fromEntries(
      Object.entries({
        OCI_NAMESPACE: flags.namespace,
        OCI_CROSSMOUNT_NAMESPACE: flags.crossmountNamespace,
        OCI_USERNAME: flags.username,
        OCI_PASSWORD: flags.password,
        OCI_TEST_PULL: chosen(flags.pull),
        OCI_TEST_PUSH: chosen(flags.push),
        OCI_TEST_CONTENT_DISCOVERY: chosen(flags.discovery),
        OCI_TEST_CONTENT_MANAGEMENT: chosen(flags.management),
        OCI_AUTOMATIC_CROSSMOUNT: flags.automaticCrossmount,
        OCI_DELETE_MANIFEST_BEFORE_BLOBS: flags.deleteManifestBeforeBlobs,
      }).filter(([, value]) => value !== undefined),
    ),
  };
}

export function registerConformance(program: Command): void {
  program
    .command('conformance')
    .description('check a registry against the OCI distribution-spec (exit 1 on a failure, 2 on a usage error or unreachable registry)')
    .argument('[url]', 'registry base URL (or OCI_ROOT_URL)')
    .option('--namespace <name>', 'repository to push test content to (OCI_NAMESPACE)')
    .option('--crossmount-namespace <name>', 'second repository for mounts (OCI_CROSSMOUNT_NAMESPACE)')
    .option('--username <user>', 'OCI_USERNAME')
    .option('--password <password>', 'OCI_PASSWORD')
    .option('--pull', 'run the pull workflow (OCI_TEST_PULL); naming none runs all')
    .option('--push', 'run the push workflow (OCI_TEST_PUSH)')
    .option('--discovery', 'run the content discovery workflow (OCI_TEST_CONTENT_DISCOVERY)')
    .option('--management', 'run the content management workflow (OCI_TEST_CONTENT_MANAGEMENT)')
    .option('--automatic-crossmount <bool>', 'expect mounts without `from` to succeed (OCI_AUTOMATIC_CROSSMOUNT)')
    .option('--delete-manifest-before-blobs <bool>', 'delete order (OCI_DELETE_MANIFEST_BEFORE_BLOBS, default true)')
    .option('--only <pattern>', 'run only checks whose workflow, id, endpoint or title contains this')
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('--json <file>', 'also write a JSON report')
    .action(async (url: string | undefined, flags: ConformanceFlags) => {
      let options: ConformanceOptions;
      try {
        options = optionsFromEnv(flagEnv(flags, process.env), { rootURL: url, only: flags.only });
      } catch (error) {
        console.error(`berth conformance: ${(error as Error).message}`);
        process.exit(2);
      }
      try {
        const report = await runConformance(options);
        console.log(formatText(report));
        if (flags.json) await writeFile(flags.json, formatJSON(report));
        if (flags.junit) await writeFile(flags.junit, formatJUnit(report));
        process.exit(report.failed > 0 ? 1 : 0);
      } catch (error) {
        if (error instanceof RegistryUnavailableError || error instanceof UsageError) {
          console.error(`berth conformance: ${error.message}`);
          process.exit(2);
        }
        throw error;
      }
    });
}
