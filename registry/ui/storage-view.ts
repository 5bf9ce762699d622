import type { AnalysisReport, RepositoryFigures } from '../../analysis/analysis.ts';
import type { DeepScan, Figures } from './figure-cache.ts';

/** The storage page: the analysis without its per-image list, and the repositories that weigh most. */
export interface StorageView {
  figuresAt?: string;
  computing: boolean;
  report?: Omit<AnalysisReport, 'images' | 'repositories' | 'deep'>;
  /** The repositories storing most, most first. */
  largestRepositories: RepositoryFigures[];
  repositoryCount: number;
  deep?: DeepScan['report'] & { at: string };
  deepScanning: boolean;
}

const LARGEST = 20;

export function viewStorage(figures: Figures | undefined, computing: boolean, deep: DeepScan | undefined, deepScanning: boolean): StorageView {
  const view: StorageView = { computing, deepScanning, largestRepositories: [], repositoryCount: 0 };
  if (figures) {
    const { images: _images, repositories, deep: _deep, ...report } = figures.report;
    view.figuresAt = figures.at.toISOString();
    view.report = report;
    view.repositoryCount = repositories.length;
    view.largestRepositories = [...repositories].sort((a, b) => b.storedBytes - a.storedBytes || a.name.localeCompare(b.name)).slice(0, LARGEST);
  }
  // The per-image list can be as long as the catalog: the page shows the images wasting most.
  if (deep)
    view.deep = { ...deep.report, images: [...deep.report.images].sort((a, b) => b.wastedBytes - a.wastedBytes).slice(0, LARGEST), at: deep.at.toISOString() };
  return view;
}
