/**
 * `berth retention plan` and `apply` (issue 22 "berth retention plan", "Tests": the plan's "frees"
 * equals the bytes gc then deletes, to the byte, for images sharing base layers across repositories).
 * The expected figure is recomputed here from what the test pushed, not from Berth's own accounting.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RetentionPlan } from '../../analysis/retention.ts';
import { MediaType } from '../../oci/media-types.ts';
import { S3Driver } from '../../storage/drivers/s3/s3-driver.ts';
import type { GcReport } from '../../storage/gc/gc.ts';
import { s3Settings } from '../../storage/open-driver.ts';
import { startS3Server, type S3Server } from '../../peers/s3-server.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { startBerth, type RunningBerth } from '../helpers/berth.ts';
import { blobOf, imageIndex, imageManifest, randomBlob, type TestBlob } from '../helpers/content.ts';
import { pullCompletely } from '../helpers/pull-check.ts';
import { RegistryAPI } from '../helpers/registry-api.ts';
import { totalSize } from '../helpers/shared-fixture.ts';

/** An image as pushed: its manifest and every blob it reaches (manifests included). */
interface Pushed {
  manifest: TestBlob;
  blobs: TestBlob[];
}

const POLICY = `
retention:
  policies:
    - repositories: ["ci/**"]
      deleteUntagged: true
      deleteReferrers: true
      keepTags:
        - patterns: ["^v[0-9]"]
        - patterns: ["^build-"]
          mostRecentlyPushedCount: 1
  immutableTags:
    - repositories: ["ci/tool"]
      tags: ["build-*"]
`;

for (const backend of ['disk', 's3'] as const)
  describe(`retention plan and apply over images sharing base layers across repositories, on ${backend}`, () => {
    let berth: RunningBerth;
    let s3: S3Server | undefined;
    /** What `--storage` takes, and the environment `berth` needs for it (S3's endpoint and keys). */
    let location: string;
    let env: NodeJS.ProcessEnv = {};
    let api: RegistryAPI;
    let config: string;
    const images = new Map<string, Pushed>();
    /** ci/app:multi's index and its two children. */
    let multi: TestBlob[];
    const base = randomBlob(50_000);
    const runtime = randomBlob(30_000);

    /** Pushes an image of `layers` (and a fresh config) to `repository` under `reference`. */
    const pushImage = async (repository: string, reference: string | undefined, layers: TestBlob[], extra: { subject?: TestBlob } = {}): Promise<Pushed> => {
      const config = blobOf(JSON.stringify({ architecture: 'amd64', os: 'linux', note: `${repository}:${reference}:${Math.random()}` }));
      for (const blob of [config, ...layers]) await api.pushBlob(repository, blob);
      const manifest = imageManifest(config, layers, extra.subject ? { subject: extra.subject, artifactType: 'application/example.signature' } : {});
      assert.equal((await api.pushManifest(repository, reference ?? `${manifest.digest}`, manifest)).status, 201);
      await sleep(5); // distinct push times, for mostRecentlyPushedCount
      return { manifest, blobs: [manifest, config, ...layers] };
    };
    /** Pushes the same manifest (and its blobs) to another repository: one manifest blob, two repositories. */
    const pushCopy = async (repository: string, tag: string, image: Pushed): Promise<Pushed> => {
      for (const blob of image.blobs.slice(1)) await api.pushBlob(repository, blob);
      assert.equal((await api.pushManifest(repository, tag, image.manifest)).status, 201);
      return image;
    };

    before(async () => {
      if (backend === 's3') {
        s3 = await startS3Server('retention-plan');
        location = `s3://${s3.bucket}/registry`;
        env = s3.env;
        berth = await startBerth({ driver: new S3Driver(s3Settings(location, {}, s3.env)) });
      } else {
        berth = await startBerth();
        location = berth.root;
      }
      api = new RegistryAPI(berth.url);
      images.set('ci/app:v1.0', await pushImage('ci/app', 'v1.0', [base, runtime, randomBlob(20_000)]));
      images.set('ci/app:build-1', await pushImage('ci/app', 'build-1', [base, runtime, randomBlob(21_000)]));
      images.set('ci/app:build-2', await pushImage('ci/app', 'build-2', [base, randomBlob(22_000)]));
      const signature = await pushImage('ci/app', undefined, [randomBlob(300)], { subject: images.get('ci/app:build-1')!.manifest });
      images.set('ci/app@signature-of-build-1', signature);
      images.set('ci/app@untagged', await pushImage('ci/app', undefined, [base, randomBlob(23_000)]));
      const children = [await pushImage('ci/app', undefined, [base, randomBlob(24_000)]), await pushImage('ci/app', undefined, [base, randomBlob(25_000)])];
      const index = imageIndex(children.map(({ manifest }) => ({ manifest })));
      assert.equal((await api.pushManifest('ci/app', 'multi', index, MediaType.ociIndex)).status, 201);
      images.set('ci/app:multi', { manifest: index, blobs: [index, ...children.flatMap((child) => child.blobs)] });
      multi = [index, ...children.map((child) => child.manifest)];
      images.set('ci/app:build-3', await pushImage('ci/app', 'build-3', [base, runtime, randomBlob(26_000)]));
      images.set('ci/tool:build-1', await pushImage('ci/tool', 'build-1', [base, randomBlob(27_000)]));
      images.set('ci/tool:build-2', await pushImage('ci/tool', 'build-2', [base, randomBlob(28_000)]));
      // prod/app:v1 is ci/app:build-2 itself: deleting build-2 from ci/app frees none of its blobs.
      images.set('prod/app:v1', await pushCopy('prod/app', 'v1', images.get('ci/app:build-2')!));
      config = join(berth.root, 'retention.yml');
      await writeFile(config, POLICY);
    });
    after(async () => {
      await berth.stop();
      if (s3) {
        await s3.stop();
        await rm(berth.root, { recursive: true, force: true });
      }
    });

    const going = [
      'ci/app:build-1',
      'ci/app:build-2',
      'ci/app@signature-of-build-1',
      'ci/app@untagged',
      'ci/app:multi',
      // ci/tool:build-1 is not the most recent build, but immutable: it stays.
    ];

    /** Independently: the bytes of blobs the deleted images reach that no remaining image reaches. */
    const expectedFreed = (): number => {
      const remaining = new Set([...images].filter(([name]) => !going.includes(name)).flatMap(([, image]) => image.blobs.map((blob) => `${blob.digest}`)));
      const freed = new Map(
        going.flatMap((name) =>
          images
            .get(name)!
            .blobs.filter((blob) => !remaining.has(`${blob.digest}`))
            .map((blob) => [`${blob.digest}`, blob] as const),
        ),
      );
      return totalSize(freed.values());
    };

    it('plan --json names the tags and manifests that go, and frees only what no remaining image reaches', async () => {
      const { code, stdout, stderr } = await runBerth(['retention', 'plan', '--storage', location, '--config', config, '--json'], '', env);
      assert.equal(code, 0, stderr);
      const plan = JSON.parse(stdout) as RetentionPlan;
      assert.deepEqual(
        plan.repositories.map(({ name, tags }) => ({ name, tags })),
        [{ name: 'ci/app', tags: ['build-1', 'build-2', 'multi'] }],
        'ci/tool: build-1 is immutable; prod/app: no policy matches',
      );
      const manifests = [...going.filter((name) => name !== 'ci/app:multi').map((name) => images.get(name)!.manifest), ...multi].map(
        (blob) => `${blob.digest}`,
      );
      assert.deepEqual(plan.repositories[0]!.manifests, manifests.sort(), 'the index goes with its children, the signature with its subject');
      assert.equal(plan.bytesFreed, expectedFreed());
      assert.ok(plan.bytesFreed < going.reduce((total, name) => total + totalSize(images.get(name)!.blobs), 0), 'shared layers are not counted as freed');
    });

    it('the table states the same figure', async () => {
      const { code, stdout, stderr } = await runBerth(['retention', 'plan', '--storage', location, '--config', config], '', env);
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`would free \\S+ \\S+ \\(${expectedFreed()} bytes\\)`));
      assert.match(stdout, /would delete tag ci\/app:build-1\n/);
    });

    it('apply deletes it; then gc --dry-run --grace-period 0 frees exactly the plan’s bytes, and what stays still pulls', async () => {
      const planned = JSON.parse((await runBerth(['retention', 'plan', '--storage', location, '--config', config, '--json'], '', env)).stdout) as RetentionPlan;
      const applied = await runBerth(['retention', 'apply', '--storage', location, '--config', config], '', env);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /deleted 3 tags and 7 manifests/);
      const gc = await runBerth(['gc', '--dry-run', '--grace-period', '0', '--json', '--storage', location], '', env);
      assert.equal(gc.code, 0, gc.stderr);
      const report = JSON.parse(gc.stdout) as GcReport;
      assert.equal(report.blobBytes + report.uploadBytes, planned.bytesFreed, 'plan frees = gc deletes, to the byte');
      assert.equal(planned.bytesFreed, expectedFreed());
      console.log(`fixture: plan frees ${planned.bytesFreed} bytes, gc deletes ${report.blobBytes + report.uploadBytes} bytes in ${report.blobs.length} blobs`);

      for (const [name] of [...images].filter(([name]) => !going.includes(name))) {
        const [repository, tag] = name.split(':') as [string, string];
        assert.ok((await pullCompletely(berth.url, repository, tag)) > 0, `${name} still pulls`);
      }
      const real = await runBerth(['gc', '--grace-period', '0', '--settle', '0', '--json', '--storage', location], '', env);
      assert.equal((JSON.parse(real.stdout) as GcReport).blobBytes, planned.bytesFreed);
      for (const name of ['ci/app:v1.0', 'ci/app:build-3', 'ci/tool:build-1', 'ci/tool:build-2', 'prod/app:v1']) {
        const [repository, tag] = name.split(':') as [string, string];
        assert.ok((await pullCompletely(berth.url, repository, tag)) > 0, `${name} still pulls after gc`);
      }
      const again = JSON.parse((await runBerth(['retention', 'plan', '--storage', location, '--config', config, '--json'], '', env)).stdout) as RetentionPlan;
      assert.deepEqual(again.repositories, [], 'applied: nothing more goes');
    });
  });
