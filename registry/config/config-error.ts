/** A configuration `berth serve` cannot run with: the message is the one line the user sees. */
export class ConfigError extends Error {}
