/**
 * Webhook deliveries per endpoint name (a bounded label: the names come from the config file),
 * counted as plain numbers by the notifications code; metrics.ts reports them as counters.
 */
export interface NotificationCount {
  sent: number;
  failed: number;
  dropped: number;
}

export const notificationCounts = new Map<string, NotificationCount>();

/** The counts of endpoint `name`, made on first use. */
export function notificationCount(name: string): NotificationCount {
  let count = notificationCounts.get(name);
  if (!count) notificationCounts.set(name, (count = { sent: 0, failed: 0, dropped: 0 }));
  return count;
}
