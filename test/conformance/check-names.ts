import type { ConformanceReport } from '../../conformance/runner.ts';
import type { Outcome } from '../../conformance/check.ts';

/** `spec: title` of each check that ended with `status`, in run order: what the tests compare. */
export const checkNames = (report: ConformanceReport, status: Outcome['status']) =>
  report.results.filter((result) => result.outcome.status === status).map((result) => `${result.spec}: ${result.title}`);
