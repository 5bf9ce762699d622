/** Passwords asked on a terminal without echo, and still read from a pipe (issue 20, item 6). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCredentials } from '../../client/credentials.ts';
import { Htpasswd } from '../../registry/auth/htpasswd.ts';
import { startAuthBerth, USERS, type AuthBerth } from '../helpers/auth-berth.ts';
import { runBerth } from '../helpers/berth-cli.ts';
import { needs } from '../helpers/peers.ts';
import { berthOnTerminal } from '../helpers/terminal.ts';

/** A pseudo-terminal from `script`: essential on Debian, and required like every peer under BERTH_REQUIRE_PEERS. */
const pseudoTerminal = needs('script');

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-prompts-'));
});
after(() => rm(scratch, { recursive: true, force: true }));

describe('berth user add', () => {
  test('on a terminal asks twice without echo; the password never shows', pseudoTerminal, async () => {
    const file = join(scratch, 'tty.htpasswd');
    const { code, screen } = await berthOnTerminal(
      ['user', 'add', 'carol', '--htpasswd', file],
      [
        { expect: /Password for carol: $/, type: 'tty-secret\r' },
        { expect: /Retype it: $/, type: 'tty-secret\r' },
      ],
    );
    assert.equal(code, 0, screen);
    assert.doesNotMatch(screen, /tty-secret/);
    assert.match(screen, /added carol/);
    assert.ok(await new Htpasswd(file).verify('carol', 'tty-secret'), 'the typed password is the one stored');
  });

  test('on a terminal refuses two passwords that differ', pseudoTerminal, async () => {
    const { code, screen } = await berthOnTerminal(
      ['user', 'add', 'dave', '--htpasswd', join(scratch, 'differ.htpasswd')],
      [
        { expect: /Password for dave: $/, type: 'one\r' },
        { expect: /Retype it: $/, type: 'two\r' },
      ],
    );
    assert.equal(code, 1);
    assert.match(screen, /the two passwords differ/);
  });

  test('from a pipe reads the first line, asking nothing', async () => {
    const file = join(scratch, 'pipe.htpasswd');
    const added = await runBerth(['user', 'add', 'erin', '--htpasswd', file], 'piped-secret\n');
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stderr, '');
    assert.ok(await new Htpasswd(file).verify('erin', 'piped-secret'), 'the piped password is the one stored');
  });
});

describe('berth login', () => {
  let berth: AuthBerth;
  before(async () => {
    berth = await startAuthBerth('htpasswd');
  });
  after(() => berth?.stop());

  test('HOST -u alice on a terminal asks for the password without echo', pseudoTerminal, async () => {
    const docker = join(scratch, 'docker-tty');
    const { code, screen } = await berthOnTerminal(
      ['login', berth.host, '-u', 'alice'],
      [{ expect: /Password for alice at \S+: $/, type: `${USERS.alice}\r` }],
      {
        DOCKER_CONFIG: docker,
      },
    );
    assert.equal(code, 0, screen);
    assert.doesNotMatch(screen, new RegExp(USERS.alice));
    assert.match(screen, new RegExp(`logged in to ${berth.host} as alice`));
    assert.deepEqual(await readCredentials(berth.host, join(docker, 'config.json')), { username: 'alice', password: USERS.alice });
  });

  test('with --password-stdin reads a pipe; without it and without a terminal says how to give the password', async () => {
    const docker = join(scratch, 'docker-pipe');
    const piped = await runBerth(['login', berth.host, '-u', 'alice', '--password-stdin'], `${USERS.alice}\n`, { DOCKER_CONFIG: docker });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(await readFile(join(docker, 'config.json'), 'utf8'), /"auths"/);
    const none = await runBerth(['login', berth.host, '-u', 'alice'], '', { DOCKER_CONFIG: docker });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no password: give --password-stdin, --password or BERTH_PASSWORD, or run on a terminal to be asked/);
  });
});
