// Argument parsing, help and error reporting of the CLI, without a network (a fake Io).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { commandHelp, runCli, splitCommand } from '../../cli/src/cli.ts';
import { captureIo } from '../support/cli-io.ts';
import { canisterIdFor, hostFor, parseNetwork } from '../../cli/src/config.ts';
import { COMMANDS } from '../../cli/src/main.ts';
import {
  parseDuration, parseExpiry, parseId, parseMention, parseOps, parsePercent, parsePrincipal, parseRecordLocator, parseStrongRef,
} from '../../cli/src/values.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function fakeIo(env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-args-'));
  dirs.push(dir);
  return { ...captureIo(dir, env), dir };
}

describe('values', () => {
  it('durations, percentages, ids, principals', () => {
    assert.equal(parseDuration('90s'), 90_000_000_000n);
    assert.equal(parseDuration('1d12h'), 36n * 3600n * 1_000_000_000n);
    assert.throws(() => parseDuration('12'), /like 90s, 30m/);
    assert.throws(() => parseDuration('1h junk'), /like 90s/);
    assert.equal(parsePercent('50%', 'q'), 5000);
    assert.equal(parsePercent('66.67%', 'q'), 6667);
    assert.equal(parsePercent('0', 'q'), 0);
    assert.throws(() => parsePercent('101%', 'q'), /0% to 100%/);
    assert.throws(() => parsePercent('half', 'q'), /percentage/);
    assert.equal(parseId('42'), 42n);
    assert.throws(() => parseId('4x'), /must be a number/);
    assert.equal(parsePrincipal('aaaaa-aa'), 'aaaaa-aa');
    assert.throws(() => parsePrincipal('nope'), /not a principal/);
  });

  it('record references, strong refs, mentions, operations, expiry', () => {
    assert.deepEqual(parseRecordLocator('app.bsky.feed.post/3kabc'), { collection: 'app.bsky.feed.post', rkey: '3kabc' });
    assert.deepEqual(parseRecordLocator('at://did:plc:abc/app.bsky.feed.post/3kabc'), { collection: 'app.bsky.feed.post', rkey: '3kabc', repo: 'did:plc:abc' });
    assert.throws(() => parseRecordLocator('just-words'), /not a record reference/);
    assert.deepEqual(parseStrongRef('at://did:plc:abc/app.bsky.feed.post/3k#bafyx', '--quote'), { uri: 'at://did:plc:abc/app.bsky.feed.post/3k', cid: 'bafyx' });
    assert.deepEqual(parseStrongRef('at://did:plc:abc/app.bsky.feed.post/3k', '--quote'), { uri: 'at://did:plc:abc/app.bsky.feed.post/3k' });
    assert.throws(() => parseStrongRef('https://bsky.app/x', '--reply'), /--reply must be a record AT-URI/);
    assert.deepEqual(parseMention('@Alice.Example.com=did:plc:abc'), { handle: 'alice.example.com', did: 'did:plc:abc' });
    assert.throws(() => parseMention('alice'), /handle=did/);
    assert.deepEqual(parseOps('create, delete,create'), ['create', 'delete']);
    assert.throws(() => parseOps('create,erase'), /not "erase"/);
    assert.equal(parseExpiry('2026-12-31T00:00:00Z'), 1_798_675_200_000n * 1_000_000n);
    assert.equal(parseExpiry('1d', 1000), 1000n * 1_000_000n + 86_400_000_000_000n);
    assert.throws(() => parseExpiry('someday'), /--expires takes a date/);
  });
});

describe('configuration', () => {
  it('network, host and canister id resolution', () => {
    assert.equal(parseNetwork(undefined, {}), 'local');
    assert.equal(parseNetwork('ic', {}), 'ic');
    assert.throws(() => parseNetwork('mainnet', {}), /local or ic/);
    assert.equal(hostFor('local', undefined, {}), 'http://127.0.0.1:4943');
    assert.equal(hostFor('local', undefined, { CANOPY_REPLICA_PORT: '5000' }), 'http://127.0.0.1:5000');
    assert.equal(hostFor('ic', undefined, {}), 'https://icp-api.io');
    assert.equal(hostFor('ic', 'https://example.org/', {}), 'https://example.org');
    assert.throws(() => hostFor('ic', 'ftp://x', {}), /http\(s\) URL/);
    assert.equal(canisterIdFor('local', 'aaaaa-aa', '/', {}), 'aaaaa-aa');
    assert.equal(canisterIdFor('ic', undefined, '/', { CANOPY_CANISTER_ID: 'aaaaa-aa' }), 'aaaaa-aa');
    assert.throws(() => canisterIdFor('local', 'not-an-id', '/', {}), /not a canister id/);
  });
});

describe('command line', () => {
  it('finds command words around options and their values', () => {
    assert.deepEqual(splitCommand(['--identity', 'vote', 'vote', '3', 'yes'], COMMANDS), { words: ['vote'], rest: ['--identity', 'vote', '3', 'yes'] });
    assert.deepEqual(splitCommand(['--json', 'propose', 'post', '--text', 'post', '--json'], COMMANDS).words, ['propose', 'post']);
    assert.deepEqual(splitCommand(['propose', 'add-member', 'aaaaa-aa', '--power=2'], COMMANDS), { words: ['propose', 'add-member'], rest: ['aaaaa-aa', '--power=2'] });
    assert.deepEqual(splitCommand(['write', 'delete', 'app.bsky.feed.post/3k'], COMMANDS).words, ['write', 'delete']);
  });

  it('every propose kind and write command has help with examples', () => {
    const kinds = COMMANDS.filter((c) => c.name.startsWith('propose ')).map((c) => c.name.split(' ')[1]);
    assert.deepEqual(kinds, ['post', 'delete', 'put', 'profile', 'handle', 'add-member', 'remove-member', 'set-power', 'rules', 'grant-delegate', 'revoke-delegate', 'deactivate', 'reactivate', 'approve-upgrade', 'upgrade', 'rotation-keys', 'pds-endpoint', 'migrate-out']);
    for (const c of COMMANDS) {
      assert.ok(c.examples && c.examples.length > 0, `${c.name} has examples`);
      const help = commandHelp(c);
      assert.match(help, /Examples:/);
      assert.match(help, /--json/);
      assert.match(help, /--network/);
      assert.ok(c.examples!.some((e) => e.includes(`canopy ${c.name}`)), `${c.name}: an example runs the command itself`);
    }
  });

  it('prints help on --help (exit 0) and refuses unknown things with one line (exit 2)', async () => {
    const h = fakeIo();
    assert.equal(await runCli(['propose', 'post', '--help'], COMMANDS, h.io), 0);
    assert.match(h.out.join('\n'), /canopy propose post --text "Hello from our co-op/);
    const g = fakeIo();
    assert.equal(await runCli(['propose', '--help'], COMMANDS, g.io), 0);
    assert.match(g.out.join('\n'), /propose grant-delegate/);
    for (const [argv, reason] of [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['propose', 'bogus'], /unknown proposal kind "bogus"/],
      [['propose'], /needs a subcommand/],
      [['status', '--bogus'], /Unknown option '--bogus'/],
      [['vote', '1', 'maybe'], /a vote is yes, no or abstain/],
      [['vote', 'x', 'yes'], /proposal id must be a number/],
      [['proposals', '--status', 'nope'], /--status must be one of/],
      [['propose', 'rules', '--identity', 'x'], /no identity named "x"/],
      [['--network', 'mainnet', 'status'], /--network must be local or ic/],
      [['vote', '1', 'yes', 'extra'], /unexpected argument "extra"/],
    ] as [string[], RegExp][]) {
      const f = fakeIo();
      const code = await runCli(argv, COMMANDS, f.io);
      assert.equal(f.err.length, 1, `${argv.join(' ')}: ${f.err.join('|')}`);
      assert.match(f.err[0]!, /^canopy: /);
      assert.match(f.err[0]!, reason);
      assert.ok(code === 1 || code === 2, `${argv.join(' ')} exits non-zero`);
      assert.deepEqual(f.out, []);
    }
  });

  it('refuses writes without an identity before touching the network', async () => {
    const f = fakeIo({ CANOPY_CANISTER_ID: 'aaaaa-aa' });
    assert.equal(await runCli(['propose', 'post', '--text', 'hi'], COMMANDS, f.io), 1);
    assert.match(f.err[0]!, /no identity yet: run `canopy identity new <name>`/);
  });

  it('reports an unreachable replica as one line', async () => {
    const f = fakeIo({ CANOPY_CANISTER_ID: 'aaaaa-aa' });
    assert.equal(await runCli(['status'], COMMANDS, f.io), 1);
    assert.deepEqual(f.err, ['canopy: cannot reach http://127.0.0.1:9 (is `npm start` running?)']);
  });
});
