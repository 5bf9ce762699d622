import type { AnalysisReport } from '../analysis/analysis.ts';
import type { RetentionPlan } from '../analysis/retention.ts';
import { skippedLayersSummary } from './analysis-skipped.ts';
import { repositoryCells } from './analysis-text.ts';
import { formatBytes } from './format-bytes.ts';
import { gracePeriodNote } from './gc-settings.ts';

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Bar {
  label: string;
  /** Stacked left to right; `kind` picks the colour (a CSS class). */
  segments: { value: number; kind: string; title: string }[];
  note: string;
}

const ROW = 30;
const LABEL_WIDTH = 200;
const NOTE_WIDTH = 200;
const WIDTH = 900;

/** A horizontal (stacked) bar chart as inline SVG, scaled to the largest bar. */
function barChart(id: string, bars: Bar[]): string {
  if (bars.length === 0) return '<p class="empty">Nothing to chart.</p>';
  const max = Math.max(1, ...bars.map((bar) => bar.segments.reduce((total, s) => total + s.value, 0)));
  const span = WIDTH - LABEL_WIDTH - NOTE_WIDTH;
  const rows = bars.map((bar, i) => {
    const y = i * ROW;
    let x = LABEL_WIDTH;
    const rects = bar.segments.map((segment) => {
      const width = (segment.value / max) * span;
      const rect = `<rect class="${segment.kind}" x="${x.toFixed(1)}" y="${y + 6}" width="${Math.max(width, segment.value > 0 ? 1 : 0).toFixed(1)}" height="${ROW - 12}" rx="3"><title>${escape(segment.title)}</title></rect>`;
      x += width;
      return rect;
    });
    return [
      `<text class="label" x="${LABEL_WIDTH - 10}" y="${y + ROW / 2 + 4}" text-anchor="end">${escape(bar.label)}</text>`,
      ...rects,
      `<text class="note" x="${x + 8}" y="${y + ROW / 2 + 4}">${escape(bar.note)}</text>`,
    ].join('');
  });
  return `<svg id="${id}" class="chart" viewBox="0 0 ${WIDTH} ${bars.length * ROW}" role="img">${rows.join('')}</svg>`;
}

function card(title: string, value: string, detail: string): string {
  return `<div class="card"><div class="card-title">${escape(title)}</div><div class="card-value">${escape(value)}</div><div class="card-detail">${escape(detail)}</div></div>`;
}

function htmlTable(header: string[], rows: string[][], numeric: number[]): string {
  const cell = (tag: string, text: string, i: number) => `<${tag}${numeric.includes(i) ? ' class="num"' : ''}>${escape(text)}</${tag}>`;
  return `<table><thead><tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((c, i) => cell('td', c, i)).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function short(digest: string): string {
  return digest.replace(/^(\w+:)([0-9a-f]{12})[0-9a-f]+$/, '$1$2');
}

const STYLE = `
:root { --unique: #2563eb; --shared: #f59e0b; --saved: #10b981; --waste: #ef4444; --ink: #0f172a; --muted: #64748b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f1f5f9; }
header { background: linear-gradient(120deg, #0f172a, #1e3a8a); color: white; padding: 28px 40px; }
header h1 { margin: 0; font-size: 26px; } header p { margin: 4px 0 0; color: #cbd5e1; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 40px 60px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 16px; margin-top: -44px; }
.card { background: white; border-radius: 12px; padding: 18px 20px; box-shadow: 0 4px 14px rgba(15, 23, 42, .08); }
.card-title { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .05em; }
.card-value { font-size: 28px; font-weight: 700; margin: 4px 0; }
.card-detail { color: var(--muted); font-size: 13px; }
section { background: white; border-radius: 12px; padding: 20px 24px; margin-top: 24px; box-shadow: 0 4px 14px rgba(15, 23, 42, .06); }
section h2 { margin: 0 0 12px; font-size: 18px; } .chart + h2, table + h2 { margin-top: 22px; }
.legend span { display: inline-flex; align-items: center; margin-right: 18px; color: var(--muted); font-size: 13px; }
.legend i { width: 12px; height: 12px; border-radius: 3px; margin-right: 6px; display: inline-block; }
.chart { width: 100%; height: auto; margin-top: 8px; }
.chart .label { font-size: 13px; fill: var(--ink); } .chart .note { font-size: 12px; fill: var(--muted); }
.unique { fill: var(--unique); background: var(--unique); } .shared { fill: var(--shared); background: var(--shared); }
.saved { fill: var(--saved); background: var(--saved); } .waste { fill: var(--waste); background: var(--waste); }
.logical { fill: #94a3b8; background: #94a3b8; } .untagged { fill: #a78bfa; background: #a78bfa; }
table { width: 100%; border-collapse: collapse; margin-top: 14px; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid #e2e8f0; } th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); }
`;

/** Logical against physical bytes, the physical bar split by what keeps the bytes alive. */
function overviewBars(report: AnalysisReport): Bar[] {
  const untaggedOnly = report.physicalBytes - report.referencedBytes - report.unreferencedBytes;
  return [
    { label: 'Logical', segments: [{ value: report.logicalBytes, kind: 'logical', title: 'sum of image sizes' }], note: formatBytes(report.logicalBytes) },
    {
      label: 'Physical',
      segments: [
        { value: report.referencedBytes, kind: 'unique', title: `used by images: ${formatBytes(report.referencedBytes)}` },
        { value: untaggedOnly, kind: 'untagged', title: `only untagged manifests: ${formatBytes(untaggedOnly)}` },
        { value: report.unreferencedBytes, kind: 'waste', title: `unreferenced: ${formatBytes(report.unreferencedBytes)}` },
      ],
      note: formatBytes(report.physicalBytes),
    },
  ];
}

/** `berth analyze --html`: one self-contained page (inline CSS and SVG, no scripts or external assets). */
export function renderHtmlReport(report: AnalysisReport): string {
  const repositories = [...report.repositories].sort((a, b) => b.uniqueBytes + b.sharedBytes - (a.uniqueBytes + a.sharedBytes));
  const repositoryBars = repositories.map((r) => ({
    label: r.name,
    segments: [
      { value: r.uniqueBytes, kind: 'unique', title: `unique ${formatBytes(r.uniqueBytes)}` },
      { value: r.sharedBytes, kind: 'shared', title: `shared ${formatBytes(r.sharedBytes)}` },
    ],
    note: `${formatBytes(r.uniqueBytes)} + ${formatBytes(r.sharedBytes)}`,
  }));
  const sharedBars = report.topSharedBlobs.slice(0, 10).map((b) => ({
    label: short(b.digest),
    segments: [{ value: b.bytesSaved, kind: 'saved', title: `${b.mediaType}: ${formatBytes(b.size)} in ${b.images} images` }],
    note: `${formatBytes(b.bytesSaved)} saved · ${b.images} images`,
  }));
  const parts = [
    `<header><h1>Berth storage analysis</h1><p>${escape(report.storage)} · ${escape(report.generatedAt)}</p></header><main>`,
    `<div class="cards">`,
    card('Logical size', formatBytes(report.logicalBytes), 'every image as if stored alone'),
    card('Physical size', formatBytes(report.physicalBytes), `${report.blobCount} distinct blobs stored`),
    card('Dedup ratio', `${report.dedupRatio.toFixed(2)}×`, 'logical ÷ physical'),
    card(
      'Reclaimable by gc now',
      formatBytes(report.gc.now.bytes),
      `${report.gc.now.blobs} unreferenced blobs, ${report.gc.now.uploads} stale uploads; ` +
        `${formatBytes(report.gc.afterGracePeriod.bytes)} more after ${gracePeriodNote(report.gc.gracePeriodMs)}`,
    ),
    `</div>`,
    `<section id="overview"><h2>What the images take</h2>`,
    `<div class="legend"><span><i class="logical"></i>logical: every image alone</span><span><i class="unique"></i>stored, used by images</span><span><i class="untagged"></i>stored, only untagged manifests use it</span><span><i class="waste"></i>stored, unreferenced</span></div>`,
    barChart('overview-chart', overviewBars(report)),
    `</section>`,
    `<section id="repositories"><h2>Unique and shared bytes per repository</h2>`,
    `<div class="legend"><span><i class="unique"></i>unique to the repository</span><span><i class="shared"></i>shared with other repositories</span></div>`,
    barChart('repository-chart', repositoryBars),
    htmlTable(['Repository', 'Tags', 'Images', 'Manifests', 'Logical', 'Unique', 'Shared'], repositories.map(repositoryCells), [1, 2, 3, 4, 5, 6]),
    `</section>`,
    `<section id="shared"><h2>Most shared blobs</h2>`,
    barChart('shared-chart', sharedBars),
    htmlTable(
      ['Digest', 'Media type', 'Size', 'Images', 'Repositories', 'Saved'],
      report.topSharedBlobs.map((b) => [short(b.digest), b.mediaType, formatBytes(b.size), `${b.images}`, `${b.repositories}`, formatBytes(b.bytesSaved)]),
      [2, 3, 4, 5],
    ),
    `</section>`,
  ];
  if (report.retention) parts.push(retentionSection(report.retention));
  const deep = report.deep;
  if (deep) {
    const skipped = skippedLayersSummary(deep, 'each in the report data');
    const wasteBars = deep.images
      .filter((image) => image.wastedBytes > 0)
      .sort((a, b) => b.wastedBytes - a.wastedBytes)
      .slice(0, 10)
      .map((image) => ({
        label: `${image.repository}:${image.tags[0] ?? short(image.digest)}`,
        segments: [{ value: image.wastedBytes, kind: 'waste', title: `${image.wastedFiles} files` }],
        note: formatBytes(image.wastedBytes),
      }));
    parts.push(
      `<section id="files"><h2>Inside the layers</h2>`,
      `<p>${deep.layersScanned} layers scanned (${deep.layersSkipped.length} skipped), ${deep.filesHashed} files, ${formatBytes(deep.fileBytes)}.
       File-level dedup would save <strong>${formatBytes(deep.duplicateFileBytes)}</strong> on top of layer dedup${deep.truncated ? ' (at least)' : ''};
       later layers overwrite or delete <strong>${formatBytes(deep.wastedBytes)}</strong> of files.</p>`,
      skipped ? `<p>${escape(skipped)}.</p>` : '',
      `<h2>Wasted space per image</h2>`,
      barChart('waste-chart', wasteBars),
      `<h2>Most duplicated files</h2>`,
      htmlTable(
        ['Path', 'Size', 'Copies', 'Saved'],
        deep.topDuplicateFiles.map((f) => [f.path, formatBytes(f.size), `${f.copies}`, formatBytes(f.bytesSaved)]),
        [1, 2, 3],
      ),
      `</section>`,
    );
  }
  parts.push('</main>');
  // The report's own numbers, for whoever wants to read the page by machine.
  const data = JSON.stringify(report).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Berth storage analysis</title><style>${STYLE}</style></head><body>${parts.join('\n')}<script type="application/json" id="report-data">${data}</script></body></html>\n`;
}

/** The last scheduled retention plan: what the policies would free in all, and what goes per repository. */
function retentionSection(plan: RetentionPlan): string {
  return [
    `<section id="retention"><h2>Retention: the last plan</h2>`,
    `<p>Planned ${escape(plan.plannedAt)}: the policies would free <strong>${formatBytes(plan.bytesFreed)}</strong> (${plan.bytesFreed} bytes), blobs no remaining image reaches.</p>`,
    htmlTable(
      ['Repository', 'Tags that go', 'Manifests that go'],
      plan.repositories.map((repository) => [repository.name, `${repository.tags.length}`, `${repository.manifests.length}`]),
      [1, 2],
    ),
    `</section>`,
  ].join('\n');
}
