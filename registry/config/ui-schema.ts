import { parseDurationMs } from './parsers.ts';
import { duration, flag, optionalSection } from './values.ts';

/** `ui:` (README "Web interface"): the pages at `/` and the JSON under `/api/v1/` they read. */
export const uiSection = optionalSection({
  enabled: flag.default(true),
  /** How old the background figures (sizes, sharing, last push) may get before a page asks for new ones. */
  refresh: duration.optional(),
});

/** The `ui:` section as the server reads it. */
export interface UiSettings {
  enabled: boolean;
  refreshMs: number;
}

/** Five minutes: a push shows its tags at once (read live); only sizes and sharing wait for this. */
const DEFAULT_REFRESH_MS = 5 * 60_000;

export function toUiSettings(section: { enabled: boolean; refresh?: number | string }): UiSettings {
  return { enabled: section.enabled, refreshMs: section.refresh === undefined ? DEFAULT_REFRESH_MS : parseDurationMs(section.refresh)! };
}
