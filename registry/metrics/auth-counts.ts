/**
 * Refused logins, counted as plain numbers: the auth code that counts them also runs in a cluster's
 * primary (which checks the htpasswd file before forking), where no metrics library is loaded.
 * metrics.ts reports them as counters.
 */
export const authCounts = { failedLogins: 0, rateLimited: 0 };
