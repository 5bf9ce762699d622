/** ListObjectsV2 answers read without the SDK (storage/drivers/s3/key-page.ts): what S3 writes, and what it must not be taken for. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKeyPage } from '../../storage/drivers/s3/key-page.ts';

const answer = (inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ListBucketResult>`;

describe('a ListObjectsV2 page', () => {
  it('reads keys as written: one alone, digits, spaces at the ends, entities and character references', () => {
    const page = parseKeyPage(
      answer(
        '<IsTruncated>false</IsTruncated><Contents><Key>0012</Key><Size>12</Size><LastModified>2026-12-06T10:00:00.000Z</LastModified></Contents>' +
          '<Contents><Key> a&amp;b&#13;&#x41; </Key><Size>3</Size><LastModified>not a time</LastModified></Contents><CommonPrefixes><Prefix>x/</Prefix></CommonPrefixes>',
      ),
    );
    assert.deepEqual(page, {
      keys: [
        { key: '0012', size: 12, modified: new Date('2026-12-06T10:00:00.000Z') },
        { key: ' a&b\rA ', size: 3, modified: new Date(0) },
      ],
      prefixes: ['x/'],
    });
    assert.deepEqual(parseKeyPage(answer('<IsTruncated>false</IsTruncated>')), { keys: [], prefixes: [] });
  });

  it('names the next page where one follows', () => {
    const page = parseKeyPage(answer('<IsTruncated>true</IsTruncated><NextContinuationToken>1/a+b=</NextContinuationToken><Contents><Key>k</Key></Contents>'));
    assert.equal(page?.next, '1/a+b=');
  });

  it('is none where the body is cut short, is something else, or says more follows without saying where', () => {
    const whole = answer('<IsTruncated>false</IsTruncated><Contents><Key>a</Key></Contents><Contents><Key>b</Key></Contents>');
    assert.equal(parseKeyPage(whole.slice(0, whole.lastIndexOf('<Contents>') + 20)), undefined);
    assert.equal(parseKeyPage('<Error><Code>AccessDenied</Code></Error>'), undefined);
    assert.equal(parseKeyPage('not xml at all'), undefined);
    assert.equal(parseKeyPage(answer('<IsTruncated>true</IsTruncated><Contents><Key>k</Key></Contents>')), undefined);
  });
});
