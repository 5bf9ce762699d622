/** deploy/grafana-dashboard.json: valid JSON whose every query Prometheus' promtool parses, over metrics Berth exports. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { needs } from '../helpers/peers.ts';

const DASHBOARD = join(import.meta.dirname, '../../deploy/grafana-dashboard.json');

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

it('has queries promtool parses, each over berth_ metrics', needs('promtool'), async () => {
  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  // Grafana's variables, as it would fill them in.
  const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.*')));
  assert.ok(exprs.length >= 8, 'traffic, errors, latency, throughput and storage panels');
  for (const expr of exprs) assert.match(expr, /berth_\w+/, expr);
  const dir = await mkdtemp(join(tmpdir(), 'berth-dashboard-'));
  try {
    const rules = join(dir, 'rules.yml');
    await writeFile(rules, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `berth:panel_${i}`, expr })) }] }));
    await promisify(execFile)('promtool', ['check', 'rules', rules]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
