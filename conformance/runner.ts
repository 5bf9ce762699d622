import { CheckFailure, CheckSkipped, describe, type Check, type CheckContext, type Outcome, type WorkflowDefinition } from './check.ts';
import { ConformanceClient, RegistryUnavailableError } from './http.ts';
import { UsageError, type ConformanceOptions, type Workflow } from './options.ts';
import { discoveryWorkflow } from './workflows/discovery.ts';
import { managementWorkflow } from './workflows/management.ts';
import { pullWorkflow } from './workflows/pull.ts';
import { pushWorkflow } from './workflows/push.ts';

export const WORKFLOW_DEFINITIONS: WorkflowDefinition[] = [pullWorkflow, pushWorkflow, discoveryWorkflow, managementWorkflow];

export interface CheckResult {
  workflow: Workflow;
  id: string;
  spec: string;
  title: string;
  outcome: Outcome;
  durationMs: number;
}

export interface ConformanceReport {
  registry: string;
  results: CheckResult[];
  passed: number;
  failed: number;
  skipped: number;
}

function outcomeOf(error: unknown): Outcome {
  if (error instanceof RegistryUnavailableError) throw error;
  if (error instanceof CheckSkipped) return { status: 'skipped', reason: error.message };
  if (error instanceof CheckFailure) return { status: 'failed', reason: error.message };
  return { status: 'failed', reason: `unexpected error: ${(error as Error).message}` };
}

function selected(options: ConformanceOptions, workflow: Workflow, check: Check): boolean {
  if (!options.only) return true;
  const pattern = options.only.toLowerCase();
  return [workflow, check.id, check.spec, check.title].some((text) => text.toLowerCase().includes(pattern));
}

/** Runs one check; a setup failure stands for every check that needs the setup. */
async function runCheck(context: CheckContext, workflow: Workflow, check: Check, setupFailure: Outcome | undefined): Promise<CheckResult> {
  const started = performance.now();
  const blocked = check.standalone ? undefined : setupFailure;
  let outcome: Outcome = blocked ?? { status: 'passed' };
  if (!blocked) {
    try {
      await check.run(context);
    } catch (error) {
      outcome = outcomeOf(error);
    }
  }
  const { id, spec, title } = check;
  return { workflow, id, spec, title, outcome, durationMs: performance.now() - started };
}

/** GET /v2/ (end-1) tells a registry that lets us in from a wrong URL or missing credentials. */
async function expectRegistry(client: ConformanceClient, withCredentials: boolean): Promise<void> {
  const probe = await client.request('GET', '/v2/');
  if (probe.status === 401) {
    const why = withCredentials ? 'refused the credentials' : 'wants credentials (OCI_USERNAME/OCI_PASSWORD or --username/--password)';
    throw new RegistryUnavailableError(`${client.rootURL} ${why}: ${describe(probe, ['www-authenticate'])}`);
  }
  if (probe.status === 404) throw new RegistryUnavailableError(`${client.rootURL} is not an OCI registry: ${describe(probe)}`);
}

/**
 * Runs the enabled workflows against the registry. Throws RegistryUnavailableError when the registry
 * cannot be reached at all; everything else is a check result.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const credentials = options.username !== undefined ? { username: options.username, password: options.password ?? '' } : undefined;
  const client = new ConformanceClient(options.rootURL, credentials);
  await expectRegistry(client, credentials !== undefined);
  const results: CheckResult[] = [];
  for (const workflow of WORKFLOW_DEFINITIONS) {
    if (!options.workflows[workflow.name]) continue;
    const checks = workflow.checks.filter((check) => selected(options, workflow.name, check));
    if (checks.length === 0) continue;
    const context: CheckContext = { client, options, state: new Map() };
    const needsSetup = !checks.every((check) => check.standalone);
    let setupFailure: Outcome | undefined;
    try {
      if (needsSetup) await workflow.setup?.(context);
    } catch (error) {
      setupFailure = outcomeOf(error);
    }
    // Cleanup runs whenever setup pushed something, whatever --only selected, so nothing is left behind.
    const cleanup = needsSetup && !setupFailure && workflow.teardown ? [workflow.teardown] : [];
    for (const check of [...checks, ...cleanup]) results.push(await runCheck(context, workflow.name, check, setupFailure));
  }
  if (results.length === 0) throw new UsageError(`no check matches --only "${options.only ?? ''}" in the selected workflows`);
  const count = (status: Outcome['status']) => results.filter((result) => result.outcome.status === status).length;
  return { registry: options.rootURL, results, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}
