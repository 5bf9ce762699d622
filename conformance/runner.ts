import { CheckFailure, CheckSkipped, describe, type CheckContext, type Outcome, type WorkflowDefinition } from './check.ts';
import { ConformanceClient, RegistryUnavailableError } from './http.ts';
import { UsageError, type ConformanceOptions, type Workflow } from './options.ts';
import { discoveryWorkflow } from './workflows/discovery.ts';
import { managementWorkflow } from './workflows/management.ts';
import { pullWorkflow } from './workflows/pull.ts';
import { pushWorkflow } from './workflows/push.ts';

export const WORKFLOW_DEFINITIONS: WorkflowDefinition[] = [pullWorkflow, pushWorkflow, discoveryWorkflow, managementWorkflow];

export interface CheckResult {
  workflow: Workflow;
  spec: string;
  title: string;
  outcome: Outcome;
  durationMs: number;
}

export interface ConformanceReport {
  registry: string;
  results: CheckResult[];
  /** Things worth knowing that are not failures (a registry refusing deletes, say). */
  notes: string[];
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

function selected(options: ConformanceOptions, workflow: Workflow, spec: string, title: string): boolean {
  if (!options.only) return true;
  const pattern = options.only.toLowerCase();
  return [workflow, spec, title].some((text) => text.toLowerCase().includes(pattern));
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
  const notes: string[] = [];
  for (const workflow of WORKFLOW_DEFINITIONS) {
    if (!options.workflows[workflow.name]) continue;
    const checks = workflow.checks.filter((check) => selected(options, workflow.name, check.spec, check.title));
    if (checks.length === 0) continue;
    const context: CheckContext = { client, options, state: new Map() };
    let setupFailure: Outcome | undefined;
    try {
      if (!checks.every((check) => check.standalone)) await workflow.setup?.(context);
    } catch (error) {
      setupFailure = outcomeOf(error);
    }
    for (const check of checks) {
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
      results.push({ workflow: workflow.name, spec: check.spec, title: check.title, outcome, durationMs: performance.now() - started });
    }
    const note = await workflow.teardown?.(context).catch((error: unknown) => {
      if (error instanceof RegistryUnavailableError) throw error;
      return `${workflow.name}: cleanup failed: ${(error as Error).message}`;
    });
    if (note) notes.push(note);
  }
  if (results.length === 0) throw new UsageError(`no check matches --only "${options.only ?? ''}" in the selected workflows`);
  const count = (status: Outcome['status']) => results.filter((result) => result.outcome.status === status).length;
  return { registry: options.rootURL, results, notes, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}
