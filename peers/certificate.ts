import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A self-signed certificate for loopback (openssl): P-256, one day, valid for 127.0.0.1 and
 * localhost, so both clients that check the address and those that check the name accept it.
 */
export async function selfSignedCertificate(cert: string, key: string): Promise<void> {
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
}
