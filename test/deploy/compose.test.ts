/** docker-compose.yml is checked, not run: no Docker engine runs here (README "Deploying"). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { needs } from '../helpers/peers.ts';

const ROOT = join(import.meta.dirname, '../..');

interface ComposeFile {
  services: Record<string, { image?: string; build?: unknown; command?: string[]; depends_on?: Record<string, unknown>; environment?: Record<string, string> }>;
  volumes: Record<string, unknown>;
}

it('is valid for docker-compose and resolves to MinIO, a bucket job, Redis, two Berth replicas and a balancer', needs('docker-compose'), async () => {
  const { stdout } = await promisify(execFile)('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT });
  const compose = parse(stdout) as ComposeFile;
  const services = compose.services;
  assert.match(services.minio?.image ?? '', /^minio\/minio/);
  assert.ok(services['create-bucket']?.depends_on?.minio, 'create-bucket waits for minio');
  const replicas = Object.entries(services).filter(([, service]) => service.command?.[0] === 'serve');
  assert.ok(replicas.length >= 2, 'two or more Berth replicas');
  for (const [, replica] of replicas) {
    assert.match(replica.command?.join(' ') ?? '', /--storage s3:\/\//);
    assert.equal(replica.environment?.AWS_ENDPOINT_URL_S3, 'http://minio:9000');
    assert.equal(replica.environment?.BERTH_S3_REDIS, 'redis://redis:6379', 'the replicas share their lookups');
    assert.ok(replica.depends_on?.redis, 'a replica waits for redis');
  }
  assert.match(services.redis?.image ?? '', /^redis:/);
  assert.ok(services['load-balancer']?.depends_on, 'the load balancer waits for the replicas');
  assert.ok('minio-data' in compose.volumes, 'a minio-data volume');
});
