import { connect } from 'node:net';

/** Reads per receive call: sixteen times node:http's, into one buffer that is never reallocated. */
const RECEIVE_BUFFER = 1 << 20;

/**
 * GETs a URL over plain HTTP/1.1 and counts the body bytes without keeping them. node:http costs
 * the client more CPU per byte than either server does to send it (a fresh 64 KiB buffer per
 * read, a stream event each); on two cores that cost was the ceiling of both servers' figures.
 */
export function leanGet(url: URL): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let head = '';
    let status = 0;
    let length = Number.POSITIVE_INFINITY;
    let bytes = -1;
    const receive = Buffer.allocUnsafe(RECEIVE_BUFFER);
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 80),
      onread: {
        buffer: receive,
        callback(size) {
          if (bytes < 0) {
            head += receive.toString('latin1', 0, size);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return true;
            status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
            length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.POSITIVE_INFINITY);
            bytes = head.length - end - 4;
          } else {
            bytes += size;
          }
          if (bytes >= length) socket.end();
          return true;
        },
      },
    });
    socket.on('connect', () => socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status, bytes: Math.max(bytes, 0) }));
  });
}
