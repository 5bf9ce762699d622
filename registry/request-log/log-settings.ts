/** pino's levels, and `silent` for no request log at all. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one JSON object a line, for collectors; `text`: readable lines; `auto`: text on a terminal, else JSON. */
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The `log` section of the config file (README "Operations"). */
export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

export const DEFAULT_LOG: LogSettings = { level: 'info', format: 'auto' };
