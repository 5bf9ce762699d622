import { notificationCount, type NotificationCount } from '../metrics/notification-counts.ts';
import type { EventFormat } from './config.ts';
import { batchLimit, encode } from './encode.ts';
import type { RegistryEvent } from './event.ts';

export interface DeliverySettings {
  name: string;
  url: string;
  headers: Record<string, string[]>;
  format: EventFormat;
  timeoutMs: number;
  /** Attempts per batch. */
  threshold: number;
  backoffMs: number;
  queueSize: number;
}

/** No wait between retries grows past this, however long the receiver stays down. */
const MAX_BACKOFF_MS = 60_000;

/**
 * One receiver's queue, in memory, drained by one sender at a time. `add` only pushes onto an
 * array, so a request never waits on a receiver; when the receiver falls behind, the oldest events
 * go first (counted), so memory stays bounded. A batch is retried with a doubling wait up to
 * `threshold` attempts, then counted as failed; the queue keeps filling meanwhile.
 */
export class EndpointQueue {
  private readonly events: RegistryEvent[] = [];
  private readonly count: NotificationCount;
  private sending: Promise<void> | undefined;
  private accepting = true;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly settings: DeliverySettings) {
    this.count = notificationCount(settings.name);
  }

  add(event: RegistryEvent): void {
    if (!this.accepting) return;
    if (this.events.length >= this.settings.queueSize) {
      this.events.shift();
      this.count.dropped++;
    }
    this.events.push(event);
    this.sending ??= this.drain();
  }

  /**
   * Takes no more events and gives those queued until `graceMs` to go out (a clean stop); then
   * stops sending, and what is left is lost, as on a crash (README "Operations").
   */
  async close(graceMs: number): Promise<void> {
    this.accepting = false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.sending, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && this.events.length > 0) {
        const batch = this.events.splice(0, batchLimit(this.settings.format));
        if (await this.deliver(batch)) this.count.sent += batch.length;
        else this.count.failed += batch.length;
      }
    } finally {
      this.sending = undefined;
    }
  }

  /** Sends one batch, retrying; whether the receiver took it. */
  private async deliver(batch: RegistryEvent[]): Promise<boolean> {
    const { contentType, body } = encode(this.settings.format, batch);
    for (let attempt = 1; !this.closed; attempt++) {
      if (await this.post(contentType, body)) return true;
      if (attempt >= this.settings.threshold) return false;
      await this.wait(Math.min(this.settings.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
    }
    return false;
  }

  private async post(contentType: string, body: string): Promise<boolean> {
    const headers = new Headers();
    for (const [name, values] of Object.entries(this.settings.headers)) for (const value of values) headers.append(name, value);
    headers.set('Content-Type', contentType);
    try {
      const response = await fetch(this.settings.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.settings.timeoutMs) });
      // The body is not wanted, but left unread it would hold the connection.
      await response.body?.cancel();
      return response.ok;
    } catch {
      // Refused, reset or timed out: the same as a refusal, retried.
      return false;
    }
  }

  /** A wait that never keeps the process alive, and that `close` cuts short. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }
}
