/** What `berth serve` (and `npm start`) uses when neither a flag, the environment nor the config file says. */
export const DEFAULT_LISTEN = '0.0.0.0:5000';
export const DEFAULT_STORAGE = './data';
