// What each command sends to the canister, checked against a recording stand-in for the actor
// (argument parsing end to end, no network). The real canister is exercised in e2e.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IDL } from '@dfinity/candid';
import { runCli } from '../../cli/src/cli.ts';
import { captureIo } from '../support/cli-io.ts';
import { Connection } from '../../cli/src/client.ts';
import { IdentityStore } from '../../cli/src/identity.ts';
import { COMMANDS } from '../../cli/src/main.ts';
import { methods } from '../../canister/src/api/interface.ts';

const DID = 'did:web:example.com';
const calls: [string, any][] = [];
const fakeActor: Record<string, (...a: any[]) => Promise<any>> = {
  get_status: async () => ({ did: DID, handle: 'coop.example.com', pds_url: 'https://example.com', plc_url: [], head_seq: 1n, rev: ['3k'], active: true, signing_key: 'did:key:z' }),
  get_rules: async () => ({ voting_period_ns: 86_400_000_000_000n, quorum_bps: 5000, threshold_bps: 5000 }),
  propose: async (a) => (calls.push(['propose', a]), 12n),
  create_record: async (a) => (calls.push(['create_record', a]), { uri: `at://${DID}/${a.collection}/3kx`, cid: ['bafyreix'], rev: '3krev', commit: 'c', seq: 2n }),
  put_record: async (a) => (calls.push(['put_record', a]), { uri: `at://${DID}/${a.collection}/${a.rkey}`, cid: ['bafyreiy'], rev: '3krev2', commit: 'c', seq: 3n }),
  delete_record: async (a) => (calls.push(['delete_record', a]), { uri: `at://${DID}/${a.collection}/${a.rkey}`, cid: [], rev: '3krev3', commit: 'c', seq: 4n }),
  blob_upload_start: async (a) => (calls.push(['blob_upload_start', a]), 'u1'),
  blob_upload_chunk: async (a) => (calls.push(['blob_upload_chunk', { ...a, data: a.data.length }]), 0n),
  blob_upload_finish: async () => ({ cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', mime_type: 'image/png', size: 1_500_000n }),
};

let dir: string;
let original: typeof Connection.prototype.actor;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'canopy-cmd-'));
  new IdentityStore(join(dir, 'identity')).create('me');
  original = Connection.prototype.actor;
  Connection.prototype.actor = async function (this: Connection, requireIdentity = true) {
    if (requireIdentity) this.identity(true);
    return fakeActor as never;
  };
});
after(() => {
  Connection.prototype.actor = original;
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string; sent: any }> {
  calls.length = 0;
  const { io, out, err } = captureIo(dir, { CANOPY_CANISTER_ID: 'aaaaa-aa' });
  const code = await runCli(argv, COMMANDS, io);
  const proposed = calls.find(([m]) => m === 'propose')?.[1];
  // what the CLI sends must be valid Candid for the canister's propose method
  if (proposed) IDL.encode(methods.propose.args, [proposed]);
  return { code, out: out.join('\n'), err: err.join('\n'), sent: proposed };
}

describe('propose: one Candid action per kind', () => {
  it('post with languages, mentions, reply and quote given with CIDs', async () => {
    const r = await cli('propose', 'post', '--text', 'Hi @alice.example.com and @coop.example.com #x', '--lang', 'en', '--lang', 'pt-BR',
      '--mention', 'alice.example.com=did:plc:alice', '--reply', `at://${DID}/app.bsky.feed.post/3kp#bafyparent`,
      '--quote', 'at://did:plc:q/app.bsky.feed.post/3kq#bafyquote', '--summary', 'say hi', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '{"id":12}');
    assert.equal(r.err, '', 'every mention resolved: no note');
    assert.deepEqual(r.sent, {
      action: { post: {
        text: 'Hi @alice.example.com and @coop.example.com #x', langs: ['en', 'pt-BR'],
        mentions: [{ handle: 'alice.example.com', did: 'did:plc:alice' }],
        reply: [{ root: { uri: `at://${DID}/app.bsky.feed.post/3kp`, cid: 'bafyparent' }, parent: { uri: `at://${DID}/app.bsky.feed.post/3kp`, cid: 'bafyparent' } }],
        images: [], quote: [{ uri: 'at://did:plc:q/app.bsky.feed.post/3kq', cid: 'bafyquote' }],
      } },
      summary: ['say hi'],
    });
  });

  it('post: unresolved mentions are reported on stderr, images by CID pair with alt texts, text from a file', async () => {
    const file = join(dir, 'post.txt');
    writeFileSync(file, 'From a file @nobody.example.org\n');
    const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
    const r = await cli('propose', 'post', '--text-file', file, '--image', cid, '--alt', 'first', '--image', cid);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /proposal 12 created — vote with: canopy vote 12 yes/);
    assert.match(r.err, /@nobody\.example\.org is not resolved to a DID/);
    assert.equal(r.sent.action.post.text, 'From a file @nobody.example.org');
    assert.deepEqual(r.sent.action.post.images, [{ cid, alt: 'first', aspect_ratio: [] }, { cid, alt: '', aspect_ratio: [] }]);
  });

  it('every other kind', async () => {
    const p = 'aaaaa-aa';
    const cases: [string[], unknown][] = [
      [['delete', `at://${DID}/app.bsky.feed.post/3kabc`], { delete_record: { collection: 'app.bsky.feed.post', rkey: '3kabc' } }],
      [['put', '--collection', 'app.bsky.graph.follow', '--record', '{"subject":"did:plc:x"}'], { put_record: { collection: 'app.bsky.graph.follow', rkey: [], record_json: '{"subject":"did:plc:x"}' } }],
      [['profile', '--display-name', 'Co-op', '--banner', ''], { update_profile: { display_name: ['Co-op'], description: [], avatar: [], banner: [''] } }],
      [['handle', 'coop.example.org'], { set_handle: { handle: 'coop.example.org' } }],
      [['add-member', p, '--power', '3'], { add_member: { principal: p, power: 3n } }],
      [['remove-member', p], { remove_member: { principal: p } }],
      [['set-power', p, '2'], { set_member_power: { principal: p, power: 2n } }],
      [['rules', '--quorum', '33%'], { set_rules: { voting_period_ns: 86_400_000_000_000n, quorum_bps: 3300, threshold_bps: 5000 } }],
      [['grant-delegate', p, '--collection', 'app.bsky.feed.post', '--allow', 'create,delete', '--per-day', '20', '--expires', '2027-01-01'],
        { grant_delegate: { principal: p, scope: { collections: ['app.bsky.feed.post'], actions: [{ create: null }, { delete: null }], writes_per_day: 20, expires_at_ns: [1_798_761_600_000_000_000n] } } }],
      [['revoke-delegate', p], { revoke_delegate: { principal: p } }],
      [['deactivate'], { set_account_active: { active: false } }],
      [['reactivate'], { set_account_active: { active: true } }],
      [['approve-upgrade', 'AB'.repeat(32)], { approve_upgrade: { wasm_hash: 'ab'.repeat(32) } }],
      [['rotation-keys', 'did:key:zQ3a', 'did:key:zQ3b'], { set_rotation_keys: { keys: ['did:key:zQ3a', 'did:key:zQ3b'] } }],
      [['rotation-keys'], { set_rotation_keys: { keys: [] } }],
      [['pds-endpoint', 'https://pds.example.com'], { set_pds_endpoint: { url: 'https://pds.example.com' } }],
    ];
    for (const [args, action] of cases) {
      const r = await cli('propose', ...args, '--json');
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.deepEqual(r.sent, { action, summary: [] }, args.join(' '));
    }
    const wasm = join(dir, 'x.wasm');
    writeFileSync(wasm, 'not really wasm');
    const byFile = await cli('propose', 'approve-upgrade', wasm, '--json');
    const { createHash } = await import('node:crypto');
    assert.equal(byFile.sent.action.approve_upgrade.wasm_hash, createHash('sha256').update('not really wasm').digest('hex'));
  });

  it('refuses bad arguments before sending anything', async () => {
    for (const [args, reason] of [
      [['post'], /needs --text/],
      [['post', '--text', 'a', '--text-file', 'b'], /not both/],
      [['post', '--text', 'a', '--alt', 'x'], /more --alt than --image/],
      [['post', '--text', 'a', '--image', 'nope.png'], /neither a file nor a blob CID/],
      [['post', '--text', 'a', '--mention', 'alice'], /handle=did/],
      [['delete'], /missing record/],
      [['put', '--collection', 'a.b.c'], /--record <json> or --record-file/],
      [['put', '--collection', 'a.b.c', '--record', '{nope'], /not valid JSON/],
      [['profile'], /nothing to change/],
      [['add-member', 'not-a-principal'], /not a principal/],
      [['set-power', 'aaaaa-aa', '0'], /whole number from 1/],
      [['rules'], /give --voting-period, --quorum and\/or --threshold/],
      [['rules', '--voting-period', 'soon'], /like 90s, 30m/],
      [['grant-delegate', 'aaaaa-aa'], /at least one --collection/],
      [['approve-upgrade', 'xyz'], /neither a 64-digit SHA-256/],
      [['handle'], /missing handle/],
    ] as [string[], RegExp][]) {
      const r = await cli('propose', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, reason);
      assert.equal(calls.filter(([m]) => m === 'propose').length, 0);
    }
  });
});

describe('write and upload', () => {
  it('write post builds the record locally (facets, createdAt) and prints {uri, cid, rev}', async () => {
    const r = await cli('write', 'post', '--text', 'Direct from @coop.example.com: https://example.org', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { uri: `at://${DID}/app.bsky.feed.post/3kx`, cid: 'bafyreix', rev: '3krev' });
    const [, sent] = calls.find(([m]) => m === 'create_record')!;
    assert.equal(sent.collection, 'app.bsky.feed.post');
    const record = JSON.parse(sent.record_json);
    assert.equal(record.$type, 'app.bsky.feed.post');
    assert.ok(!Number.isNaN(Date.parse(record.createdAt)));
    assert.deepEqual(record.facets.map((f: any) => f.features[0]), [
      { $type: 'app.bsky.richtext.facet#mention', did: DID },
      { $type: 'app.bsky.richtext.facet#link', uri: 'https://example.org' },
    ]);
    const tooLong = await cli('write', 'post', '--text', 'x'.repeat(301));
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.err, /^canopy: post text is 301 graphemes; the limit is 300$/);
  });

  it('write put / delete map to put_record, create_record and delete_record', async () => {
    const put = await cli('write', 'put', '--collection', 'app.bsky.feed.like', '--rkey', '3kl', '--record', '{"a":1}', '--json');
    assert.deepEqual(calls[0], ['put_record', { collection: 'app.bsky.feed.like', rkey: '3kl', record_json: '{"a":1}', swap_record: [] }]);
    assert.deepEqual(JSON.parse(put.out), { uri: `at://${DID}/app.bsky.feed.like/3kl`, cid: 'bafyreiy', rev: '3krev2' });
    await cli('write', 'put', '--collection', 'app.bsky.feed.like', '--record', '{"a":1}');
    assert.deepEqual(calls[0], ['create_record', { collection: 'app.bsky.feed.like', rkey: [], record_json: '{"a":1}' }]);
    const del = await cli('write', 'delete', 'app.bsky.feed.post/3kd', '--json');
    assert.deepEqual(calls[0], ['delete_record', { collection: 'app.bsky.feed.post', rkey: '3kd', swap_record: [] }]);
    assert.deepEqual(JSON.parse(del.out), { uri: `at://${DID}/app.bsky.feed.post/3kd`, cid: null, rev: '3krev3' });
  });

  it('upload sends 1 MB chunks at increasing offsets', async () => {
    const file = join(dir, 'big.bin');
    writeFileSync(file, new Uint8Array(2_500_000));
    const r = await cli('upload', file, '--mime', 'image/png', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(calls.map(([m, a]) => [m, a.offset ?? a.size, a.data]), [
      ['blob_upload_start', 2_500_000n, undefined],
      ['blob_upload_chunk', 0n, 1_000_000],
      ['blob_upload_chunk', 1_000_000n, 1_000_000],
      ['blob_upload_chunk', 2_000_000n, 500_000],
    ]);
    assert.deepEqual(JSON.parse(r.out), { cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', mimeType: 'image/png', size: 1_500_000 });
    const missing = await cli('upload', join(dir, 'nope.bin'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read file/);
  });
});
