/** Issue 23: the `mirror:` section of the config file, and which upstream a name a client sends goes to. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseConfigFile } from '../../registry/config/config-file.ts';
import { refusal } from '../helpers/config-refusal.ts';
import { MirrorRouting } from '../../registry/mirror/routing.ts';
import { Upstream } from '../../registry/mirror/upstream.ts';

/** The example, with a second upstream limited by globs. */
const EXAMPLE = `
mirror:
  upstreams:
    - name: docker.io
      url: https://registry-1.docker.io
      default: true
      username: someone
      password: 12345
      repositories: ["library/**", "bitnami/*"]
      tagTtl: 10m
    - name: ghcr.io
      url: https://ghcr.io
`;

describe('the mirror section', () => {
  it("takes the issue's shape, with defaults for what it leaves out", () => {
    const { mirror } = parseConfigFile(parse(EXAMPLE), 'berth.yml');
    assert.equal(mirror.upstreams.length, 2);
    assert.deepEqual(
      { ...mirror.upstreams[0]!, password: '(kept)' },
      {
        name: 'docker.io',
        url: 'https://registry-1.docker.io',
        default: true,
        username: 'someone',
        password: '(kept)',
        repositories: ['library/**', 'bitnami/*'],
        tagTtl: 600_000,
        timeout: 20_000,
      },
    );
    assert.equal(mirror.upstreams[0]!.password, '12345', 'a password YAML reads as a number is taken as written');
    assert.deepEqual(parseConfigFile({}, 'none').mirror, { upstreams: [] });
  });

  it('refuses what cannot work, naming the key', () => {
    const upstream = (extra: string) => `mirror:\n  upstreams:\n    - { name: docker.io, url: "https://registry-1.docker.io"${extra} }\n`;
    assert.equal(refusal(upstream(', ttl: 5m')), 'config file berth.yml: unknown key "mirror.upstreams[0].ttl"');
    assert.equal(
      refusal(upstream(', tagTtl: soon')),
      'config file berth.yml: mirror.upstreams[0].tagTtl must be a duration such as 30s, 15m, 1h or 7d, not "soon"',
    );
    assert.equal(
      refusal(upstream(', password: a, passwordEnv: B')),
      'config file berth.yml: mirror.upstreams[0].passwordEnv and password cannot both be given',
    );
    assert.match(
      refusal('mirror:\n  upstreams:\n    - { name: "localhost:5000", url: "http://localhost:5000" }\n'),
      /mirror\.upstreams\[0\]\.name must be a registry name/,
    );
    assert.match(
      refusal('mirror:\n  upstreams:\n    - { name: hub, url: "ftp://hub" }\n'),
      /mirror\.upstreams\[0\]\.url must be an http:\/\/ or https:\/\/ URL/,
    );
    assert.equal(
      refusal('mirror:\n  upstreams:\n    - { name: a, url: "https://a", default: true }\n    - { name: b, url: "https://b", default: true }\n'),
      'config file berth.yml: mirror.upstreams may have one default upstream at most',
    );
    assert.equal(
      refusal('mirror:\n  upstreams:\n    - { name: a, url: "https://a" }\n    - { name: a, url: "https://b" }\n'),
      'config file berth.yml: mirror.upstreams must each have a name of their own',
    );
  });
});

describe('routing a repository name to its upstream', () => {
  const { mirror } = parseConfigFile(parse(EXAMPLE), 'berth.yml');
  const routing = new MirrorRouting(mirror.upstreams.map((settings) => new Upstream(settings)));
  const route = (name: string, ns?: string) => {
    const target = routing.route(name, ns);
    return target && `${target.upstream.name} ${target.remote} -> ${target.local}`;
  };

  it("by path prefix (podman, CRI-O, skopeo), by ?ns= (containerd), else to the default, with Docker Hub's library/", () => {
    assert.equal(route('docker.io/library/alpine'), 'docker.io library/alpine -> docker.io/library/alpine');
    assert.equal(route('docker.io/alpine'), 'docker.io library/alpine -> docker.io/library/alpine');
    assert.equal(route('library/alpine', 'docker.io'), 'docker.io library/alpine -> docker.io/library/alpine');
    assert.equal(route('alpine'), 'docker.io library/alpine -> docker.io/library/alpine', "Docker's registry-mirrors: the default upstream");
    assert.equal(route('ghcr.io/owner/tool'), 'ghcr.io owner/tool -> ghcr.io/owner/tool');
    assert.equal(route('owner/tool', 'ghcr.io'), 'ghcr.io owner/tool -> ghcr.io/owner/tool');
    assert.equal(route('ghcr.io/alpine'), 'ghcr.io alpine -> ghcr.io/alpine', "library/ is Docker Hub's only");
  });

  it("leaves Berth's own repositories alone: outside the upstream's globs, or a namespace no upstream answers to", () => {
    assert.equal(route('team/app'), undefined, "not in docker.io's repositories");
    assert.equal(route('docker.io/team/app'), undefined);
    assert.equal(route('bitnami/redis'), 'docker.io bitnami/redis -> docker.io/bitnami/redis');
    assert.equal(route('bitnami/redis/extra'), undefined, '* stays within one segment');
    assert.equal(route('library/alpine', 'quay.io'), undefined, "another registry's content is not the default upstream's");
  });
});
