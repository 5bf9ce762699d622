import type { Outcome } from '../../conformance/check.ts';
import { WORKFLOW_DEFINITIONS, type ConformanceReport } from '../../conformance/runner.ts';

/** The id of each check that ended with `status`, in run order: what the tests compare. */
export const checkIds = (report: ConformanceReport, status: Outcome['status']) =>
  report.results.filter((result) => result.outcome.status === status).map((result) => result.id);

/** Every check id the runner has, cleanups included. */
export const allCheckIds = (): string[] =>
  WORKFLOW_DEFINITIONS.flatMap((workflow) => [...workflow.checks, ...(workflow.teardown ? [workflow.teardown] : [])]).map((check) => check.id);
