/**
 * The policy rules themselves (issue 22 "Policies", Zot's spelling), on repository states written
 * out by hand, and the config file's `retention:` section with its one-line errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globToRegExp } from '../../analysis/glob.ts';
import { planRepository, type ManifestState, type RepositoryState } from '../../analysis/retention-plan.ts';
import type { RetentionPolicy, RetentionSettings } from '../../analysis/retention-policy.ts';
import { ConfigError } from '../../registry/config/config-error.ts';
import { parseConfigFile } from '../../registry/config/config-file.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const hoursAgo = (hours: number): Date => new Date(NOW.getTime() - hours * 3_600_000);

/** A repository of images `d<i>`, tagged `t<i>`, pushed i hours ago and pulled as given. */
function repository(name: string, pulled: (number | undefined)[], extra: ManifestState[] = []): RepositoryState {
  const manifests: ManifestState[] = pulled.map((hours, i) => ({
    digest: `d${i}`,
    pushed: hoursAgo(i),
    ...(hours !== undefined ? { pulled: hoursAgo(hours) } : {}),
    children: [],
  }));
  return { name, tags: new Map(pulled.map((_, i) => [`t${i}`, `d${i}`])), manifests: [...manifests, ...extra] };
}

const settings = (policy: Partial<RetentionPolicy>, rest: Partial<RetentionSettings> = {}): RetentionSettings => ({
  policies: [{ repositories: ['**'], deleteUntagged: true, deleteReferrers: false, ...policy }],
  immutableTags: [],
  ...rest,
});

describe('retention policies (pure)', () => {
  it('repository globs: * stays within a segment, ** crosses them; the first policy that matches applies', () => {
    assert.ok(globToRegExp('ci/**').test('ci/a/b'), 'ci/** matches nested');
    assert.ok(globToRegExp('ci/**').test('ci'), 'ci/** matches ci itself');
    assert.ok(!globToRegExp('ci/*').test('ci/a/b'), '* stays in one segment');
    assert.ok(!globToRegExp('ci/**').test('cinema'), 'no partial segment');
    const state = repository('ci/app', [undefined, undefined]);
    const first: RetentionSettings = {
      policies: [
        { repositories: ['ci/*'], deleteUntagged: true, deleteReferrers: false, keepTags: [] },
        { repositories: ['**'], deleteUntagged: true, deleteReferrers: false },
      ],
      immutableTags: [],
    };
    assert.deepEqual(planRepository(state, first, NOW).tags, ['t0', 't1'], 'the first policy (keep nothing) applies');
    assert.deepEqual(planRepository({ ...state, name: 'other' }, { ...first, policies: first.policies.slice(0, 1) }, NOW).tags, [], 'no policy: keep all');
  });

  it('within an entry, patterns AND any of the counts and durations; entries OR', () => {
    const state = repository('r', [0.5, 30, undefined, 2, undefined]);
    const keep = (keepTags: RetentionPolicy['keepTags']) => planRepository(state, settings({ keepTags }), NOW).tags;
    assert.deepEqual(keep([{ mostRecentlyPushedCount: 2 }]), ['t2', 't3', 't4']);
    assert.deepEqual(keep([{ mostRecentlyPulledCount: 2 }]), ['t1', 't2', 't4'], 'never-pulled tags are not among the most recently pulled');
    assert.deepEqual(keep([{ pulledWithin: 24 * 3_600_000 }]), ['t1', 't2', 't4']);
    assert.deepEqual(keep([{ pushedWithin: 2.5 * 3_600_000 }]), ['t3', 't4']);
    assert.deepEqual(keep([{ patterns: ['^t[34]$'] }]), ['t0', 't1', 't2'], 'patterns alone keep what they match');
    assert.deepEqual(keep([{ patterns: ['^t[34]$'], mostRecentlyPushedCount: 1, pulledWithin: 3 * 3_600_000 }]), ['t0', 't1', 't2', 't4']);
    assert.deepEqual(keep([{ patterns: ['^t0$'] }, { patterns: ['^t4$'] }]), ['t1', 't2', 't3']);
    assert.deepEqual(keep(undefined), [], 'no keepTags: every tag stays');
    assert.deepEqual(keep([]), ['t0', 't1', 't2', 't3', 't4'], 'keepTags: [] keeps none');
  });

  it('immutable tags are never deleted, whatever the policy', () => {
    const state = repository('r', [undefined, undefined]);
    const plan = planRepository(state, settings({ keepTags: [] }, { immutableTags: [{ repositories: ['r'], tags: ['t1'] }] }), NOW);
    assert.deepEqual(plan, { name: 'r', tags: ['t0'], manifests: ['d0'] });
  });

  it('untagged manifests go only with deleteUntagged; an index keeps its children; referrers follow deleteReferrers', () => {
    const extra: ManifestState[] = [
      { digest: 'index', children: ['child'] },
      { digest: 'child', children: [] },
      { digest: 'loose', children: [] },
      { digest: 'sig0', children: [], subject: 'd0' },
      { digest: 'sig1', children: [], subject: 'd1' },
      { digest: 'sigsig1', children: [], subject: 'sig1' },
    ];
    const state = repository('r', [undefined, undefined], extra);
    state.tags.set('multi', 'index');
    const keepT0 = [{ patterns: ['^(t0|multi)$'] }];
    assert.deepEqual(planRepository(state, settings({ keepTags: keepT0, deleteReferrers: true }), NOW).manifests, ['d1', 'loose', 'sig1', 'sigsig1']);
    assert.deepEqual(planRepository(state, settings({ keepTags: keepT0, deleteReferrers: false }), NOW).manifests, ['d1', 'loose']);
    assert.deepEqual(planRepository(state, settings({ keepTags: keepT0, deleteUntagged: false, deleteReferrers: true }), NOW).manifests, [
      'd1',
      'sig1',
      'sigsig1',
    ]);
    assert.deepEqual(
      planRepository(state, settings({ keepTags: [{ patterns: ['^t'] }] }), NOW).manifests,
      ['child', 'index', 'loose'],
      'the index goes with its child',
    );
  });
});

describe('the retention: section of the config file', () => {
  const parse = (content: unknown) => parseConfigFile(content, 'berth.yml');

  it('reads Zot’s spelling, with durations in ms and Zot’s defaults', () => {
    const file = parse({
      retention: {
        policies: [{ repositories: ['ci/**'], keepTags: [{ patterns: ['^v[0-9]'], mostRecentlyPushedCount: 5, pushedWithin: '720h', pulledWithin: '30d' }] }],
        immutableTags: [{ repositories: ['**'], tags: ['v*'] }],
      },
    });
    assert.deepEqual(file.retention.policies, [
      {
        repositories: ['ci/**'],
        deleteUntagged: true,
        deleteReferrers: false,
        keepTags: [{ patterns: ['^v[0-9]'], mostRecentlyPushedCount: 5, pushedWithin: 720 * 3_600_000, pulledWithin: 30 * 86_400_000 }],
      },
    ]);
    assert.deepEqual(parse({}).retention, { policies: [], immutableTags: [] });
  });

  it('refuses a mistake in one line naming the key', () => {
    const error = (content: unknown): string => {
      try {
        parse(content);
      } catch (caught) {
        assert.ok(caught instanceof ConfigError, 'a ConfigError');
        return caught.message;
      }
      throw new Error('accepted');
    };
    assert.equal(
      error({ retention: { policies: [{ repositories: ['a'], keepTags: [{ pushedWithin: 'soon' }] }] } }),
      'config file berth.yml: retention.policies[0].keepTags[0].pushedWithin must be a duration such as 30s, 15m, 1h or 7d, not "soon"',
    );
    assert.match(error({ retention: { policies: [{ repositories: ['a'], keepTags: [{ patterns: ['(('] }] }] } }), /patterns\[0\] must be a regular expression/);
    assert.match(error({ retention: { policies: [{ repositories: ['a'], deleteUntaged: true }] } }), /did you mean "retention.policies\[0\].deleteUntagged"/);
    assert.match(error({ retention: { policies: [{ keepTags: [] }] } }), /retention.policies\[0\].repositories is required/);
    for (const message of [error({ retention: { policies: 'x' } })]) assert.doesNotMatch(message, /\n/);
  });
});
