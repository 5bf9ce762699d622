import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogSettings } from './log-settings.ts';

export interface RequestLogger {
  logger: Logger;
  /** Writes out what is still buffered: called as the server closes, before the process exits. */
  flush(): void;
}

/** Lines are gathered up to this many bytes before a write: a write call per line cost some 15 µs of CPU a request. */
const BUFFER_BYTES = 8 * 1024;

/** ...and written at least this often, so a quiet server's lines show without waiting for more. */
const FLUSH_EVERY_MS = 200;

/**
 * The request log's pino logger, on stdout (beside the startup line) or on `destination` (tests).
 * JSON goes through an asynchronous sonic-boom that gathers lines (BUFFER_BYTES, FLUSH_EVERY_MS), so
 * a busy server makes far fewer write calls than requests. Text, for a person at a terminal, is
 * pino-pretty's, written line by line, and loaded only when asked for.
 */
export async function createRequestLogger(settings: LogSettings, destination?: DestinationStream): Promise<RequestLogger> {
  const text = settings.format === 'text' || (settings.format === 'auto' && process.stdout.isTTY === true);
  // The level by name ("info"), not pino's number: read by people and matched by collectors alike.
  const options = {
    level: settings.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (text) {
    const { default: pretty } = await import('pino-pretty');
    const stream = pretty({
      destination: destination ?? 1,
      sync: true,
      colorize: !destination && process.stdout.isTTY === true,
      // What the message shows is not repeated after it.
      ignore: 'pid,hostname,method,path,status,durationMs,bytesIn,bytesOut,endpoint',
      translateTime: 'SYS:HH:MM:ss.l',
      messageFormat: '{method} {path} {status} {durationMs} ms {bytesIn}/{bytesOut} B {endpoint}',
      singleLine: true,
    });
    return { logger: pino(options, stream), flush: () => undefined };
  }
  if (destination) return { logger: pino(options, destination), flush: () => undefined };
  const stdout = pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES });
  setInterval(() => {
    try {
      stdout.flush();
    } catch {
      // Not open yet, or closed: the next tick or the final flush writes it.
    }
  }, FLUSH_EVERY_MS).unref();
  return {
    logger: pino(options, stdout),
    flush: () => {
      try {
        stdout.flushSync();
      } catch {
        // Not ready yet (nothing was written) or stdout is gone: nothing to keep.
      }
    },
  };
}
