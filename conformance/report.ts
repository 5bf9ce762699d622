import { WORKFLOWS } from './options.ts';
import type { ConformanceReport } from './runner.ts';

const MARK = { passed: '✓', failed: '✗', skipped: '-' } as const;

/** The closing line every report ends with (and CI systems read). */
export function summaryLine(report: ConformanceReport): string {
  return `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`;
}

/** A per-workflow table for a terminal, each failure and skip with its reason. */
export function formatText(report: ConformanceReport): string {
  const lines = [`OCI distribution-spec conformance: ${report.registry}`, ''];
  for (const workflow of WORKFLOWS) {
    const results = report.results.filter((result) => result.workflow === workflow);
    if (results.length === 0) continue;
    const passed = results.filter((result) => result.outcome.status === 'passed').length;
    lines.push(`${workflow} (${passed}/${results.length})`);
    const idWidth = Math.max(...results.map((result) => result.id.length));
    const specWidth = Math.max(...results.map((result) => result.spec.length));
    for (const { id, spec, title, outcome } of results) {
      lines.push(`  ${MARK[outcome.status]} ${id.padEnd(idWidth)}  ${spec.padEnd(specWidth)}  ${title}`);
      if (outcome.status !== 'passed') lines.push(`      ${outcome.status === 'failed' ? 'why' : 'skip'}: ${outcome.reason}`);
    }
    lines.push('');
  }
  lines.push(summaryLine(report));
  return lines.join('\n');
}

export function formatJSON(report: ConformanceReport): string {
  return JSON.stringify(report, null, 2);
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** JUnit XML: one testsuite per workflow, one testcase per check. */
export function formatJUnit(report: ConformanceReport): string {
  const suites = WORKFLOWS.map((workflow) => {
    const results = report.results.filter((result) => result.workflow === workflow);
    if (results.length === 0) return '';
    const failures = results.filter((result) => result.outcome.status === 'failed').length;
    const skipped = results.filter((result) => result.outcome.status === 'skipped').length;
    const seconds = results.reduce((sum, result) => sum + result.durationMs, 0) / 1000;
    const cases = results.map(({ id, spec, title, outcome, durationMs }) => {
      const open = `    <testcase classname="${xml(workflow)}" name="${xml(`${id} (${spec}): ${title}`)}" time="${(durationMs / 1000).toFixed(3)}"`;
      if (outcome.status === 'failed') return `${open}>\n      <failure message="${xml(outcome.reason)}"/>\n    </testcase>`;
      if (outcome.status === 'skipped') return `${open}>\n      <skipped message="${xml(outcome.reason)}"/>\n    </testcase>`;
      return `${open}/>`;
    });
    return `  <testsuite name="${xml(workflow)}" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  }).filter(Boolean);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="OCI distribution-spec conformance" tests="${report.results.length}" failures="${report.failed}" skipped="${report.skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
