/**
 * Small reads on S3 signed by Berth (storage/drivers/s3/s3-signed-requests.ts): their SigV4 signatures pass a
 * server that checks them, they find what the SDK finds, and any answer they cannot read for
 * certain (errors, a cut body, a server that is gone) is left to the SDK rather than guessed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import { after, before, describe, it } from 'node:test';
import { s3Settings } from '../../storage/open-driver.ts';
import { S3Bucket } from '../../storage/drivers/s3/s3-bucket.ts';
import type { KeyPage } from '../../storage/drivers/s3/key-page.ts';
import { SignedRequests } from '../../storage/drivers/s3/s3-signed-requests.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';

describe('small reads against an S3 server that checks signatures', { timeout: 60_000 }, () => {
  let s3: S3Server;
  let bucket: S3Bucket;
  let reads: SignedRequests;

  before(async () => {
    s3 = await startS3Server('signed', [], { checkSignatures: true });
    bucket = new S3Bucket(s3Settings(`s3://${s3.bucket}/registry`, {}, s3.env));
    reads = new SignedRequests(bucket.client, s3.bucket);
  });
  after(async () => {
    reads.close();
    bucket.close();
    await s3.stop();
  });

  it('find an object, its size and content, under keys with characters that need escaping', async () => {
    for (const path of ['docker/registry/v2/repositories/app/_layers/sha256/ab/link', "odd keys/a+b=c,d;e@f~g!h(i)*j'k"]) {
      const content = Buffer.from(`content of ${path}`);
      await bucket.putObject(bucket.key(path), content);
      const head = await reads.head(bucket.key(path));
      assert.ok(head !== undefined && head !== 'missing', `HEAD ${path} was answered`);
      assert.equal(head.found.size, content.length);
      assert.ok(Math.abs(head.found.modified.getTime() - Date.now()) < 60_000, 'modified is the upload time');
      assert.deepEqual(await reads.get(bucket.key(path)), { found: content });
    }
  });

  it('presign URLs that fetch the object with no credentials, until they expire', async () => {
    for (const path of ['docker/registry/v2/blobs/sha256/ab/abcd/data', "odd keys/a+b=c,d;e@f~g!h(i)*j'k"]) {
      await bucket.putObject(bucket.key(path), `bytes of ${path}`);
      const url = await reads.presignedGet(bucket.key(path), 60);
      assert.ok(url, 'a URL was signed');
      const response = await fetch(url);
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(await response.text(), `bytes of ${path}`);
    }
    const expiring = (await reads.presignedGet(bucket.key('docker/registry/v2/blobs/sha256/ab/abcd/data'), 1))!;
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.equal((await fetch(expiring)).status, 403, 'an expired URL is refused');
  });

  it('sign again once credentials that were not there at first arrive', async () => {
    let asked = 0;
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: () => (asked++ === 0 ? Promise.reject(new Error('not yet')) : Promise.resolve({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })),
    });
    const late = new SignedRequests(client, s3.bucket);
    try {
      await bucket.putObject(bucket.key('late'), 'here');
      assert.equal(await late.head(bucket.key('late')), undefined, 'unsigned: left to the SDK');
      const head = await late.head(bucket.key('late'));
      assert.ok(head !== undefined && head !== 'missing', 'signed on the second try');
      assert.equal(head.found.size, 4);
    } finally {
      late.close();
      client.destroy();
    }
  });

  it('say missing for a key that is not there', async () => {
    assert.equal(await reads.head(bucket.key('nothing/here')), 'missing');
    assert.equal(await reads.get(bucket.key('nothing/here')), 'missing');
  });

  it('list keys and common prefixes page by page, under keys that need escaping', async () => {
    // More than s3rver's 1,000 keys a page, so that a continuation token is followed. Not !'()* in
    // the prefix: s3rver leaves them unescaped when it checks a query's signature (no Berth path has them).
    const root = bucket.key('listing/odd keys/a+b=c,d;e@f~g');
    const keys = [
      ...Array.from({ length: 1003 }, (_, i) => `${root}/flat/${String(i).padStart(4, '0')}`),
      `${root}/tree/x/1`,
      `${root}/tree/x/2`,
      `${root}/tree/y`,
    ];
    await pMap(keys, (key) => bucket.putObject(key, key), { concurrency: 32 });
    const pages = async (prefix: string, delimiter?: string) => {
      const found: KeyPage[] = [];
      let token: string | undefined;
      do {
        const page = await reads.list(prefix, delimiter, token);
        assert.ok(page, `ListObjectsV2 of ${prefix} was answered`);
        found.push(page);
        token = page.next;
      } while (token);
      return found;
    };
    // Each object holds its own key: its size is the key's length.
    const listed = (page: KeyPage) => page.keys.map(({ key, size }) => [key, size]);
    const flat = await pages(`${root}/flat/`);
    assert.equal(flat.length, 2, 'two pages');
    assert.deepEqual(
      flat.flatMap(listed),
      keys.slice(0, 1003).map((key) => [key, Buffer.byteLength(key)]),
    );
    const tree = await pages(`${root}/tree/`, '/');
    assert.deepEqual(
      tree.map((page) => ({ keys: listed(page), prefixes: page.prefixes })),
      [{ keys: [[`${root}/tree/y`, Buffer.byteLength(`${root}/tree/y`)]], prefixes: [`${root}/tree/x/`] }],
    );
    assert.ok(Math.abs(tree[0]!.keys[0]!.modified.getTime() - Date.now()) < 60_000, 'modified is the upload time');
    assert.deepEqual(await pages(bucket.key('listing/none/')), [{ keys: [], prefixes: [] }]);
  });

  it('leave requests signed with the wrong secret to the SDK (403 is not missing)', async () => {
    const wrong = new S3Bucket(s3Settings(`s3://${s3.bucket}/registry`, {}, { ...s3.env, AWS_SECRET_ACCESS_KEY: 'wrong' }));
    const wrongReads = new SignedRequests(wrong.client, s3.bucket);
    try {
      await bucket.putObject(bucket.key('present'), 'x');
      assert.equal(await wrongReads.head(bucket.key('present')), undefined);
      assert.equal(await wrongReads.get(bucket.key('present')), undefined);
      assert.equal(await wrongReads.list(bucket.key(''), '/', undefined), undefined);
    } finally {
      wrongReads.close();
      wrong.close();
    }
  });
});

describe('addresses keys where the SDK does', () => {
  it('on AWS, under the bucket as host name (virtual-hosted style), in the configured region', async () => {
    const client = new S3Client({ region: 'eu-west-3', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
    const signed = new SignedRequests(client, 'team-images');
    try {
      const url = new URL((await signed.presignedGet('registry/docker/registry/v2/blobs/sha256/ab/abcd/data', 60))!);
      assert.equal(url.origin, 'https://team-images.s3.eu-west-3.amazonaws.com');
      assert.equal(url.pathname, '/registry/docker/registry/v2/blobs/sha256/ab/abcd/data');
      assert.match(url.searchParams.get('X-Amz-Credential')!, /^k\/\d{8}\/eu-west-3\/s3\/aws4_request$/);
    } finally {
      signed.close();
      client.destroy();
    }
  });
});

describe('answers a small read leaves to the SDK', { timeout: 30_000 }, () => {
  const answers: Record<string, (res: ServerResponse) => void> = {
    '/bucket/error': (res) => res.writeHead(500, { 'Content-Length': 0 }).end(),
    '/bucket/short': (res) => {
      res.writeHead(200, { 'Content-Length': 100 });
      res.write('only part', () => res.socket?.destroy());
    },
    '/bucket?list-type=2&prefix=&delimiter=%2F': (res) => res.writeHead(200, { 'Content-Length': 11 }).end('<Error/>\n  '),
    '/bucket/no-length': (res) => {
      res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
      res.end();
    },
  };
  let server: Server;
  let endpoint: string;

  before(async () => {
    server = createServer((req, res) => (answers[req.url!] ?? ((response) => response.writeHead(404).end()))(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server.close());

  const env = () => ({ AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint });

  it('a server error, a body cut short, a HEAD without a size, and no server at all', async () => {
    const bucket = new S3Bucket(s3Settings('s3://bucket', {}, env()));
    const reads = new SignedRequests(bucket.client, 'bucket');
    try {
      assert.equal(await reads.head('error'), undefined);
      assert.equal(await reads.get('error'), undefined);
      assert.equal(await reads.get('short'), undefined);
      assert.equal(await reads.head('no-length'), undefined);
      assert.equal(await reads.list('', '/', undefined), undefined, 'a listing answered with anything but a ListBucketResult');
      assert.equal(await reads.head('elsewhere'), 'missing', 'the fake answers 404 for anything else');
    } finally {
      reads.close();
      bucket.close();
    }
    const gone = new S3Bucket(s3Settings('s3://bucket', {}, { ...env(), AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }));
    const goneReads = new SignedRequests(gone.client, 'bucket');
    try {
      assert.equal(await goneReads.head('any'), undefined);
    } finally {
      goneReads.close();
      gone.close();
    }
  });
});
