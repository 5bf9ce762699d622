import { get, request } from '../api.js';
import { barChart } from '../chart.js';
import { announce, fill, h } from '../dom.js';
import { formatBytes, formatTime, plural, shortDigest } from '../format.js';
import { repositoryHref } from './repositories.js';

function figure(label, value, note) {
  return h('div', { class: 'figure' }, h('dt', {}, label), h('dd', {}, h('strong', {}, value), note ? h('span', { class: 'note' }, ` ${note}`) : null));
}

function deepSection(view, rerender) {
  const start = async () => {
    await request('POST', 'storage/deep-scan');
    announce('Deep scan started.');
    rerender();
  };
  const button = h('button', { type: 'button', onclick: start, disabled: view.deepScanning }, view.deepScanning ? 'Deep scan running…' : 'Run a deep scan');
  const intro = h('p', {}, 'A deep scan opens every layer: files stored in several layers, and bytes a later layer of the same image overwrites or deletes.');
  if (!view.deep) return [h('h2', {}, 'Deep scan'), intro, button];
  const deep = view.deep;
  return [
    h('h2', {}, 'Deep scan'),
    intro,
    h('p', {}, `As of ${formatTime(deep.at)}: ${plural(deep.layersScanned, 'layer')} scanned, ${plural(deep.filesHashed, 'file')} hashed.`),
    h(
      'dl',
      { class: 'figures' },
      figure('Duplicate file bytes', formatBytes(deep.duplicateFileBytes), 'identical files kept once per layer'),
      figure('Wasted bytes', formatBytes(deep.wastedBytes), 'overwritten or deleted by a later layer'),
    ),
    deep.topDuplicateFiles.length
      ? barChart(
          'Most duplicated files, by bytes a file-level dedup would save',
          deep.topDuplicateFiles.slice(0, 10).map((file) => ({
            label: file.path.length > 30 ? `…${file.path.slice(-29)}` : file.path,
            segments: [{ value: file.bytesSaved, kind: 'shared', title: `${file.path}: ${file.copies} copies of ${formatBytes(file.size)}` }],
            note: formatBytes(file.bytesSaved),
          })),
        )
      : null,
    button,
  ];
}

/** The storage analysis as charts: logical vs physical, what gc would free, most shared blobs, largest repositories. */
export async function storagePage(main, rerender) {
  const view = await get('storage');
  if (!view.report) {
    fill(main, h('h1', {}, 'Storage'), h('p', {}, 'The storage figures are being computed…'));
    setTimeout(rerender, 2000);
    return;
  }
  const report = view.report;
  const gc = report.gc;
  fill(
    main,
    h('h1', {}, 'Storage'),
    h(
      'p',
      {},
      `As of ${formatTime(view.figuresAt)}${view.computing ? ' (updating)' : ''}; ${plural(view.repositoryCount, 'repository', 'repositories')}, ${plural(report.blobCount, 'blob')}.`,
    ),
    h(
      'dl',
      { class: 'figures', id: 'storage-figures' },
      figure('Dedup ratio', `${report.dedupRatio.toFixed(2)}×`, 'logical ÷ physical'),
      figure('Logical', formatBytes(report.logicalBytes), 'every image counted whole'),
      figure('Physical', formatBytes(report.physicalBytes), 'every blob stored once'),
      figure('gc would free now', formatBytes(gc.now.bytes), `${plural(gc.now.blobs, 'blob')}, ${plural(gc.now.uploads, 'stale upload')}`),
    ),
    h('h2', {}, 'Logical and physical bytes'),
    barChart('Logical, referenced and physical bytes', [
      {
        label: 'Logical (images whole)',
        segments: [{ value: report.logicalBytes, kind: 'logical', title: 'logical' }],
        note: formatBytes(report.logicalBytes),
      },
      {
        label: 'Referenced blobs',
        segments: [{ value: report.referencedBytes, kind: 'unique', title: 'referenced' }],
        note: formatBytes(report.referencedBytes),
      },
      {
        label: 'Physical (stored)',
        segments: [
          { value: report.referencedBytes, kind: 'unique', title: 'referenced' },
          { value: Math.max(0, report.physicalBytes - report.referencedBytes), kind: 'garbage', title: 'unreferenced' },
        ],
        note: formatBytes(report.physicalBytes),
      },
    ]),
    h('h2', {}, 'What gc would free'),
    barChart('Bytes garbage collection frees', [
      { label: 'Now', segments: [{ value: gc.now.bytes, kind: 'garbage', title: 'now' }], note: formatBytes(gc.now.bytes) },
      {
        label: 'After the grace period',
        segments: [{ value: gc.afterGracePeriod.bytes, kind: 'garbage', title: 'later' }],
        note: formatBytes(gc.afterGracePeriod.bytes),
      },
    ]),
    h('h2', {}, 'Most shared blobs'),
    report.topSharedBlobs.length
      ? barChart(
          'Blobs in several images, by bytes storing them once saves',
          report.topSharedBlobs.slice(0, 10).map((blob) => ({
            label: shortDigest(blob.digest),
            segments: [{ value: blob.bytesSaved, kind: 'shared', title: `${blob.digest}: ${blob.images} images in ${blob.repositories} repositories` }],
            note: `${formatBytes(blob.bytesSaved)} saved, ${blob.images} images`,
          })),
        )
      : h('p', {}, 'No blob is in more than one image.'),
    h('h2', {}, 'Largest repositories'),
    view.largestRepositories.length
      ? [
          barChart(
            'Repositories by stored bytes: unique and shared',
            view.largestRepositories.map((repository) => ({
              label: repository.name,
              segments: [
                { value: repository.uniqueBytes, kind: 'unique', title: `unique: ${formatBytes(repository.uniqueBytes)}` },
                { value: repository.sharedBytes, kind: 'shared', title: `shared: ${formatBytes(repository.sharedBytes)}` },
              ],
              note: formatBytes(repository.storedBytes),
            })),
          ),
          h(
            'p',
            { class: 'legend' },
            h('span', { class: 'key unique' }),
            ' unique to the repository ',
            h('span', { class: 'key shared' }),
            ' shared with others',
          ),
          h(
            'ul',
            { class: 'inline' },
            view.largestRepositories.map((repository) => h('li', {}, h('a', { href: repositoryHref(repository.name) }, repository.name))),
          ),
        ]
      : h('p', {}, 'No images yet.'),
    deepSection(view, rerender),
  );
  if (view.computing || view.deepScanning) setTimeout(rerender, 2000);
}
