// Output formatting and error lines, and the identity store.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, type Io } from '../../cli/src/cli.ts';
import { proposalJson, proposalText } from '../../cli/src/commands/read.ts';
import type { ProposalViewC } from '../../canister/src/api/interface.ts';
import { defaultIdentityForDev } from '../../cli/src/dev-identity.ts';
import { cleanReject, errorLine } from '../../cli/src/errors.ts';
import { json, percent, table, toJsonValue } from '../../cli/src/format.ts';
import { IdentityStore, identityFromPem } from '../../cli/src/identity.ts';
import { COMMANDS } from '../../cli/src/main.ts';
import { imageSize, progressBar, sniffMime } from '../../cli/src/upload.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'canopy-out-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const proposal = (over: Partial<ProposalViewC> = {}): ProposalViewC => ({
  id: 7n, kind: 'post', proposer: 'aaaaa-aa', summary: '', action: { post: { text: 'hi', langs: [], mentions: [], reply: [], images: [], quote: [] } }, preview_json: [],
  status: { executed: null }, created_at_ns: 1_767_225_600_000_000_000n, deadline_ns: 1_767_312_000_000_000_000n,
  closed_at_ns: [1_767_225_660_000_000_000n], executed_at_ns: [1_767_225_661_000_000_000n],
  rules: { voting_period_ns: 86_400_000_000_000n, quorum_bps: 5000, threshold_bps: 5000 },
  electorate_size: 3, total_power: 3n, yes: 2n, no: 0n, abstain: 0n, failure: [],
  result: [{ rev: ['3lrev'], records: [{ uri: 'at://did:web:x/app.bsky.feed.post/3k', cid: ['bafyrei1'] }], module_hash: [] }],
  ...over,
});

describe('output', () => {
  it('proposal --json is exactly {id, kind, status, result?} with result {uri, cid, rev}', () => {
    assert.equal(json(proposalJson(proposal())), '{"id":7,"kind":"post","status":"executed","result":{"uri":"at://did:web:x/app.bsky.feed.post/3k","cid":"bafyrei1","rev":"3lrev"}}');
    assert.equal(json(proposalJson(proposal({ status: { open: null }, result: [] }))), '{"id":7,"kind":"post","status":"open"}');
    const failed = proposalText(proposal({ status: { failed: null }, result: [], failure: ['signing failed'] }));
    assert.match(failed, /Proposal 7: post — failed \(signing failed\)/);
    assert.match(proposalText(proposal()), /wrote {6}at:\/\/did:web:x\/app\.bsky\.feed\.post\/3k \(cid bafyrei1\)/);
  });

  it('JSON turns safe bigints into numbers, others into strings', () => {
    assert.deepEqual(toJsonValue({ a: 1n, b: [2n], c: 2n ** 60n, d: undefined }), { a: 1, b: [2], c: '1152921504606846976' });
    assert.equal(percent(5000), '50%');
    assert.equal(percent(6667), '66.67%');
  });

  it('tables align by characters', () => {
    assert.equal(table([['a', 'x'], ['ccc', 'y']], ['H', 'V']), 'H    V\na    x\nccc  y');
  });

  it('progress bar, MIME sniffing, image size', () => {
    assert.equal(progressBar(0, 2048, 10), '[..........]   0% 0 B / 2.0 KiB');
    assert.equal(progressBar(1024, 2048, 10), '[#####.....]  50% 1.0 KiB / 2.0 KiB');
    const png = new Uint8Array(32);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 2, 0, 0, 0, 1, 0x80]);
    assert.equal(sniffMime(png), 'image/png');
    assert.deepEqual(imageSize(png), { width: 512, height: 384 });
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0, 100, 0, 200, 3, 0, 0, 0, 0]);
    assert.equal(sniffMime(jpeg), 'image/jpeg');
    assert.deepEqual(imageSize(jpeg), { width: 200, height: 100 });
    assert.equal(sniffMime(new Uint8Array([1, 2, 3]), 'notes.txt'), 'text/plain');
    assert.equal(sniffMime(new Uint8Array([1, 2, 3]), 'blob'), 'application/octet-stream');
  });
});

describe('error lines', () => {
  it('reduces a canister trap to its reason', () => {
    const agentMessage = [
      'Call failed:',
      '  Canister: uxrrr-q7777-77774-qaaaq-cai',
      '  Method: vote (update)',
      '  "Reject code": "5"',
      "  Reject text: Error from Canister uxrrr-q7777-77774-qaaaq-cai: Canister called `ic0.trap` with message: 'Uncaught GovernanceError: proposal 3 is closed (rejected); votes are no longer accepted",
      '    at GovernanceError (main.js:9459:1)',
    ].join('\n');
    assert.equal(errorLine(new Error(agentMessage)), 'proposal 3 is closed (rejected); votes are no longer accepted');
    assert.equal(cleanReject("Canister called `ic0.trap` with message: 'Uncaught Error: boom'"), 'boom');
    assert.equal(cleanReject('delegate x may not write to y (allowed: a)'), 'delegate x may not write to y (allowed: a)');
    const refused = Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4943'), { code: 'ECONNREFUSED' }) });
    assert.equal(errorLine(refused, 'http://127.0.0.1:4943'), 'cannot reach http://127.0.0.1:4943 (is `npm start` running?)');
    assert.equal(errorLine(new Error('first line\nsecond line')), 'first line');
  });
});

describe('identities', () => {
  it('creates, lists, picks a default; files are private and keys never printed', async () => {
    const dir = tempDir();
    const store = new IdentityStore(join(dir, 'identity'));
    assert.deepEqual(store.list(), []);
    assert.throws(() => store.resolve(undefined, {}), /no identity yet/);
    const a = store.create('alice');
    assert.equal(store.defaultName(), 'alice', 'the first identity becomes the default');
    store.create('bob');
    assert.deepEqual(store.list(), ['alice', 'bob']);
    assert.equal(store.resolve(undefined, {}).name, 'alice');
    assert.equal(store.resolve('bob', {}).name, 'bob');
    assert.equal(store.resolve(undefined, { CANOPY_IDENTITY: 'bob' }).name, 'bob');
    store.setDefault('bob');
    assert.equal(store.defaultName(), 'bob');
    assert.equal(store.load('alice').getPrincipal().toText(), a.getPrincipal().toText());
    const pemPath = join(dir, 'identity', 'alice', 'identity.pem');
    assert.match(readFileSync(pemPath, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
    assert.equal(statSync(pemPath).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'identity', 'alice')).mode & 0o777, 0o700);
    assert.throws(() => store.create('alice'), /already exists/);
    assert.throws(() => store.create('../evil'), /identity names use/);
    assert.throws(() => store.setDefault('carol'), /no identity named "carol"/);

    // through the CLI: list and whoami print names and principals only
    const out: string[] = [];
    const io: Io = { stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), isTTY: false, env: { CANOPY_CONFIG_DIR: dir }, cwd: dir };
    assert.equal(await runCli(['identity', 'list', '--json'], COMMANDS, io), 0);
    assert.equal(await runCli(['identity', 'whoami'], COMMANDS, io), 0);
    assert.deepEqual(JSON.parse(out[0]!).map((i: any) => [i.name, i.default]), [['alice', false], ['bob', true]]);
    const pem = readFileSync(pemPath, 'utf8');
    const keyLine = pem.split('\n')[1]!;
    assert.ok(!out.join('\n').includes(keyLine), 'no key material in output');
  });

  it('imports secp256k1 (SEC1, PKCS#8) and Ed25519 PEMs, and refuses others', () => {
    const store = new IdentityStore(join(tempDir(), 'identity'));
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    const sec1 = k1.export({ type: 'sec1', format: 'pem' }) as string;
    const pkcs8 = k1.export({ type: 'pkcs8', format: 'pem' }) as string;
    const a = store.import('sec1', sec1);
    const b = store.import('pkcs8', pkcs8);
    assert.equal(a.getPrincipal().toText(), b.getPrincipal().toText(), 'same key, same principal');
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const e = store.import('ed', ed);
    assert.equal(e.getPrincipal().toText(), identityFromPem(ed).getPrincipal().toText());
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assert.throws(() => store.import('p256', p256), /unsupported key type ec \(P-256\)/);
    assert.throws(() => store.import('junk', 'not a pem'), /not a PEM private key/);
    assert.deepEqual(store.list(), ['ed', 'pkcs8', 'sec1']);
  });

  it('npm start gets the default identity, created once', async () => {
    const store = new IdentityStore(join(tempDir(), 'identity'));
    const first = await defaultIdentityForDev(store);
    assert.equal(first.created, true);
    assert.equal(first.name, 'default');
    const again = await defaultIdentityForDev(store);
    assert.equal(again.created, false);
    assert.equal(again.identity.getPrincipal().toText(), first.identity.getPrincipal().toText());
    store.create('mine');
    store.setDefault('mine');
    assert.equal((await defaultIdentityForDev(store)).name, 'mine', 'an existing default is used as is');
  });
});
