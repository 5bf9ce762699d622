import { randomUUID, X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { run } from '../../peers/oci-image.ts';

/** A token request as the server saw it. */
export interface TokenRequest {
  service: string | null;
  scopes: string[];
  user?: string;
}

/**
 * Whether a token request asked for every one of `actions` on repository `name`. A scope's actions
 * are a list in no set order (auth-scope.md, "Resource Scope Grammar"): Distribution's challenges
 * say `pull,push` or `push,pull` as its map happens to iterate.
 */
export function asksFor(request: TokenRequest, name: string, actions: string[]): boolean {
  return request.scopes.some((scope) => {
    const [type, repository, list] = scope.split(':');
    return type === 'repository' && repository === name && actions.every((action) => list?.split(',').includes(action));
  });
}

/**
 * A registry token server (auth-token.md) for Distribution's `auth: token` mode: RS256 tokens with
 * an `x5c` header chaining to the self-signed certificate in `certPath`. Anyone gets pull; the one
 * user named in `users` also gets push and delete; wrong credentials get 401.
 */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  requests: TokenRequest[];
  /** The `auth:` section of a Distribution config using this server. */
  distributionConfig(): string[];
  stop(): Promise<void>;
}

export async function startTokenServer(users: Record<string, string>): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'token-server-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=berth-test-token']);
  const key = createPrivateKey(await readFile(keyPath));
  const certificate = new X509Certificate(await readFile(certPath));
  const x5c = [certificate.raw.toString('base64')];
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const requests: TokenRequest[] = [];

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://token');
      const scopes = url.searchParams.getAll('scope');
      const header = req.headers.authorization;
      let user: string | undefined;
      if (header?.startsWith('Basic ')) {
        const [name, password] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
        if (!name || users[name] !== password) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
          return;
        }
        user = name;
      }
      requests.push({ service: url.searchParams.get('service'), scopes, ...(user ? { user } : {}) });
      const access = scopes.flatMap((scope) => {
        const [type, name, actions] = scope.split(':');
        if (type !== 'repository' || !name || !actions) return [];
        const granted = actions.split(',').filter((action) => user || action === 'pull');
        return [{ type, name, actions: granted }];
      });
      const token = await new SignJWT({ access })
        .setProtectedHeader({ alg: 'RS256', x5c })
        .setIssuer(issuer)
        .setSubject(user ?? '')
        .setAudience(service)
        .setIssuedAt()
        .setNotBefore('-10s')
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(key);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return {
    realm,
    service,
    issuer,
    certPath,
    requests,
    distributionConfig: () => [
      'auth:',
      '  token:',
      `    realm: "${realm}"`,
      `    service: "${service}"`,
      `    issuer: "${issuer}"`,
      `    rootcertbundle: "${certPath}"`,
    ],
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
