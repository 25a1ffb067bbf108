// The `canopy` command end to end on the local replica: three members on three identities, a
// delegate and an outsider, each a separate CLI process (cli/bin/canopy.js), as a user runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Principal } from '@dfinity/principal';
import { startReplica, type Replica } from '../../replica/src/index.ts';
import { deployCanopy, getRecord as getRecordVia, settle, testInitArgs, type DeployedCanopy } from '../support/canopy.ts';

const BIN = fileURLToPath(new URL('../../cli/bin/canopy.js', import.meta.url));
const POST = 'app.bsky.feed.post';

let replica: Replica;
let canopy: DeployedCanopy;
let configDir: string;
const principals: Record<string, string> = {};

type Run = { code: number; stdout: string; stderr: string };

function canopyCli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: {
          ...process.env,
          CANOPY_CONFIG_DIR: configDir,
          CANOPY_HOST: replica?.url ?? 'http://127.0.0.1:9',
          ...(canopy ? { CANOPY_CANISTER_ID: canopy.canisterId.toText() } : {}),
          ...extraEnv,
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs and expects success; returns parsed --json output. */
async function ok(...args: string[]): Promise<any> {
  const r = await canopyCli([...args, '--json']);
  assert.equal(r.code, 0, `canopy ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Runs and expects a refusal: exit 1, one line on stderr matching `reason`, no stack trace. */
async function refused(reason: RegExp, ...args: string[]): Promise<string> {
  const r = await canopyCli(args);
  assert.equal(r.code, 1, `expected failure of canopy ${args.join(' ')}; got ${r.code}: ${r.stdout}${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^canopy: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error: /);
  assert.match(lines[0]!, reason);
  assert.equal(r.stdout, '');
  return lines[0]!;
}

const getRecord = (uri: string) => getRecordVia(canopy, uri);
/** Lets the canister's execution timer run, then reads the proposal through the CLI. */
const settled = (id: number): Promise<any> => settle(replica, () => ok('proposal', String(id)), (p) => p.status === 'adopted');

before(async () => {
  configDir = mkdtempSync(join(tmpdir(), 'canopy-cli-'));
  // identities first: the DAO is founded with their principals
  const made = await Promise.all(['m1', 'm2', 'm3', 'delegate', 'newcomer', 'outsider'].map((name) => canopyCli(['identity', 'new', name, '--json'])));
  for (const r of made) {
    assert.equal(r.code, 0, r.stderr);
    const { name, principal } = JSON.parse(r.stdout);
    principals[name] = principal;
  }
  replica = await startReplica({ port: 0 });
  canopy = await deployCanopy(replica, testInitArgs({
    members: ['m1', 'm2', 'm3'].map((n) => Principal.fromText(principals[n]!)),
    delegates: [{ principal: principals.delegate!, scope: { collections: [POST], actions: [{ create: null }], writes_per_day: 6, expires_at_ns: [] } }],
  }));
  await canopy.ready();
});

after(async () => {
  await replica?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('canopy CLI on the replica', () => {
  it('status --json follows the scripting contract', async () => {
    const s = await ok('status');
    assert.deepEqual(Object.keys(s).sort(), ['canisterId', 'controllers', 'cycles', 'did', 'handle', 'moduleHash', 'pdsUrl', 'sovereign', 'steward']);
    assert.equal(s.sovereign, false, 'deployed by a person, no steward');
    assert.equal(s.steward, null);
    assert.ok(BigInt(s.cycles.balance) > 0n, 'the cycle balance');
    assert.deepEqual(Object.keys(s.cycles).sort(), ['balance', 'burnPerDay', 'daysLeft', 'freezingThresholdSeconds', 'warning']);
    assert.equal(s.canisterId, canopy.canisterId.toText());
    assert.equal(s.did, 'did:web:localhost');
    assert.equal(s.handle, 'community.test');
    const members = await ok('members');
    assert.equal(members.count, 3);
  });

  it('a post proposal passes and the record appears (getRecord over HTTP)', async () => {
    const text = 'Hello from the co-op 🌳 https://example.org #canopy';
    const { id } = await ok('propose', 'post', '--text', text, '--lang', 'en', '--identity', 'm1');
    assert.equal(typeof id, 'number');
    const open = await ok('proposal', String(id));
    assert.deepEqual(open, { id, kind: 'post', status: 'open' });
    assert.deepEqual(await ok('vote', String(id), 'yes', '--identity', 'm1'), { id, vote: 'yes', status: 'open' });
    assert.equal((await ok('vote', String(id), 'yes', '--identity', 'm2')).status, 'adopted');
    const done = await settled(id);
    assert.equal(done.status, 'executed');
    assert.deepEqual(Object.keys(done).sort(), ['id', 'kind', 'result', 'status']);
    assert.deepEqual(Object.keys(done.result).sort(), ['cid', 'rev', 'uri']);
    const rec = await getRecord(done.result.uri);
    assert.equal(rec.status, 200);
    assert.equal(rec.body.value.text, text);
    assert.equal(rec.body.cid, done.result.cid);
    assert.deepEqual(rec.body.value.langs, ['en']);
    assert.deepEqual(rec.body.value.facets.map((f: any) => f.features[0].$type), ['app.bsky.richtext.facet#link', 'app.bsky.richtext.facet#tag']);
    const listed = await ok('proposals', '--status', 'executed');
    assert.ok(listed.some((p: any) => p.id === id));
  });

  it('a rejected proposal writes nothing', async () => {
    const before = await (await canopy.actor()).get_status();
    const { id } = await ok('propose', 'post', '--text', 'never posted', '--identity', 'm1');
    await ok('vote', String(id), 'no', '--identity', 'm2');
    assert.equal((await ok('vote', String(id), 'no', '--identity', 'm3')).status, 'rejected');
    await replica.advanceTime(2_000);
    assert.deepEqual(await ok('proposal', String(id)), { id, kind: 'post', status: 'rejected' });
    const after = await (await canopy.actor()).get_status();
    assert.equal(after.head_seq, before.head_seq);
    await refused(/proposal \d+ is closed \(rejected\)/, 'vote', String(id), 'yes', '--identity', 'm3');
  });

  it('a delegate posts within scope and is refused outside it', async () => {
    const w = await ok('write', 'post', '--text', 'Posted directly by our delegate', '--identity', 'delegate');
    assert.deepEqual(Object.keys(w).sort(), ['cid', 'rev', 'uri']);
    const rec = await getRecord(w.uri);
    assert.equal(rec.body.value.text, 'Posted directly by our delegate');
    assert.equal(rec.body.cid, w.cid);
    const record = JSON.stringify({ subject: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', createdAt: new Date().toISOString() });
    await refused(/may not write to app\.bsky\.graph\.follow/, 'write', 'put', '--collection', 'app.bsky.graph.follow', '--record', record, '--identity', 'delegate');
    await refused(/may not delete/, 'write', 'delete', w.uri, '--identity', 'delegate');
    await refused(/not a delegate/, 'write', 'post', '--text', 'members are not delegates', '--identity', 'm1');
    // an image file is uploaded by the command itself, and the post carries its blob ref and size
    const img = join(configDir, 'delegate.png');
    const png = new Uint8Array(3000);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 16, 0, 0, 0, 9]);
    writeFileSync(img, png);
    const withImage = await ok('write', 'post', '--text', 'a picture', '--image', img, '--alt', 'sixteen by nine', '--identity', 'delegate');
    const image = (await getRecord(withImage.uri)).body.value.embed.images[0];
    assert.equal(image.alt, 'sixteen by nine');
    assert.deepEqual(image.aspectRatio, { width: 16, height: 9 });
    assert.equal(image.image.size, 3000);
    const audit = await ok('audit', '--limit', '5');
    assert.ok(audit.some((e: any) => e.event === 'delegate_write' && e.actor === principals.delegate && e.rev === w.rev));
  });

  it('a member is added by proposal, votes, and is then removed', async () => {
    const newcomer = principals.newcomer!;
    const { id: add } = await ok('propose', 'add-member', newcomer, '--summary', 'welcome', '--identity', 'm2');
    await ok('vote', String(add), 'yes', '--identity', 'm1');
    await ok('vote', String(add), 'yes', '--identity', 'm3');
    assert.equal((await ok('proposal', String(add))).status, 'executed');
    assert.equal((await ok('members')).count, 4);
    const { id: post } = await ok('propose', 'post', '--text', 'the newcomer proposes', '--identity', 'newcomer');
    assert.equal((await ok('vote', String(post), 'abstain', '--identity', 'newcomer')).vote, 'abstain');
    const { id: remove } = await ok('propose', 'remove-member', newcomer, '--identity', 'm1');
    for (const m of ['m1', 'm2', 'm3']) await ok('vote', String(remove), 'yes', '--identity', m);
    assert.equal((await ok('proposal', String(remove))).status, 'executed');
    assert.equal((await ok('members')).count, 3);
    await refused(/is not a member; propose is refused/, 'propose', 'post', '--text', 'gone', '--identity', 'newcomer');
  });

  it('adding a member directly is refused, and other refusals are one clear line', async () => {
    await refused(/is not a member; propose is refused/, 'propose', 'add-member', principals.outsider!, '--identity', 'outsider');
    const { id } = await ok('propose', 'post', '--text', 'vote twice?', '--identity', 'm1');
    await ok('vote', String(id), 'yes', '--identity', 'm1');
    await refused(/already voted yes .*counts once/, 'vote', String(id), 'yes', '--identity', 'm1');
    await refused(/is not a member; vote is refused/, 'vote', String(id), 'yes', '--identity', 'outsider');
    await refused(/301 graphemes; the limit is 300/, 'propose', 'post', '--text', 'é'.repeat(301), '--identity', 'm1');
    await refused(/there is no proposal 999/, 'proposal', '999');
    await refused(/no identity named "nobody"/, 'vote', String(id), 'yes', '--identity', 'nobody');
    const usage = await canopyCli(['vote', String(id), 'maybe', '--identity', 'm1']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^canopy: a vote is yes, no or abstain/);
  });

  it('uploads a blob in chunks and proposes a post with the image', async () => {
    const file = join(configDir, 'pic.png');
    // a PNG header (4x3) followed by enough bytes to need two chunks
    const png = new Uint8Array(1_200_000);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 4, 0, 0, 0, 3]);
    writeFileSync(file, png);
    const big = await ok('upload', file, '--identity', 'm1');
    assert.equal(big.mimeType, 'image/png');
    assert.equal(big.size, png.length);
    await refused(/image 1: blob \S+ is 1200000 bytes; the limit is 1000000/, 'propose', 'post', '--text', 'too big', '--image', big.cid, '--identity', 'm1');
    writeFileSync(file, png.subarray(0, 5000));
    const blob = await ok('upload', file, '--identity', 'm1');
    const { id } = await ok('propose', 'post', '--text', 'with a picture', '--image', blob.cid, '--alt', 'a test image', '--identity', 'm1');
    await ok('vote', String(id), 'yes', '--identity', 'm1');
    await ok('vote', String(id), 'yes', '--identity', 'm2');
    const done = await settled(id);
    assert.equal(done.status, 'executed');
    const rec = await getRecord(done.result.uri);
    assert.equal(rec.body.value.embed.images[0].image.ref.$link, blob.cid);
    assert.equal(rec.body.value.embed.images[0].alt, 'a test image');
  });
});
