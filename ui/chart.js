import { h } from './dom.js';

const ROW = 28;
const LABEL = 220;
const NOTE = 160;
const WIDTH = 860;

/**
 * A horizontal bar chart in SVG, bars stacked from `segments` ({value, kind, title}); `kind` picks
 * the colour from style.css. Labelled for screen readers; the figures are in the text beside it too.
 */
export function barChart(label, bars) {
  const max = Math.max(1, ...bars.map((bar) => bar.segments.reduce((total, segment) => total + segment.value, 0)));
  const span = WIDTH - LABEL - NOTE;
  const rows = bars.map((bar, i) => {
    const y = i * ROW;
    let x = LABEL;
    const rects = bar.segments.map((segment) => {
      const width = (segment.value / max) * span;
      const rect = h(
        'rect',
        { class: `bar ${segment.kind}`, x: x.toFixed(1), y: y + 5, width: Math.max(width, segment.value > 0 ? 1 : 0).toFixed(1), height: ROW - 10, rx: 3 },
        h('title', {}, segment.title),
      );
      x += width;
      return rect;
    });
    return h(
      'g',
      {},
      h('text', { x: LABEL - 8, y: y + ROW / 2 + 4, 'text-anchor': 'end', class: 'label' }, bar.label),
      rects,
      h('text', { x: x + 6, y: y + ROW / 2 + 4, class: 'note' }, bar.note),
    );
  });
  return h(
    'svg',
    { role: 'img', 'aria-label': label, viewBox: `0 0 ${WIDTH} ${Math.max(ROW, bars.length * ROW)}`, class: 'chart' },
    h('title', {}, label),
    rows,
  );
}
