// Error statuses and names measured against the reference PDS: the same bad requests go to @atproto/pds
// (in-process on loopback) and to our XRPC face (in-process over a read model holding the same DID,
// handle, record and blob), and status + error name must agree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KvReadModel } from '../xrpc/fixtures/model.ts';
import { call } from '../xrpc/fixtures/call.ts';
import { face } from '../xrpc/fixtures/face.ts';
import { startReferencePds, type ReferencePds } from './reference-pds.ts';

const POST = 'app.bsky.feed.post';
const OTHER_DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const MISSING_CID = 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy';
const BLOB_BYTES = new Uint8Array([137, 80, 78, 71, 1, 2, 3, 4]);

let ref: ReferencePds;
let ours: KvReadModel;
let rkey: string;
let blobCid: string;

before(async () => {
  ref = await startReferencePds();
  const uploaded = await ref.agent.com.atproto.repo.uploadBlob(BLOB_BYTES, { encoding: 'image/png' });
  blobCid = uploaded.data.blob.ref.toString();
  const record = {
    $type: POST,
    text: 'hello',
    createdAt: '2026-01-01T00:00:00.000Z',
    embed: { $type: 'app.bsky.embed.images', images: [{ image: uploaded.data.blob, alt: '' }] },
  };
  const created = await ref.agent.com.atproto.repo.createRecord({ repo: ref.did, collection: POST, record });
  rkey = created.data.uri.split('/').pop();
  ours = await KvReadModel.create({ did: ref.did, handle: ref.handle });
  await ours.commit([{ action: 'create', collection: POST, rkey, record: { $type: POST, text: 'hello', createdAt: record.createdAt } }]);
  assert.equal(ours.addBlob(BLOB_BYTES, 'image/png').toString(), blobCid);
});
after(() => ref?.close());

type Answer = { status: number; error?: string; headers: Headers | Map<string, string> };

async function askReference(url: string, method: string): Promise<Answer> {
  const res = await fetch(ref.url + url, { method });
  const text = await res.text();
  let error: string | undefined;
  try {
    error = JSON.parse(text).error;
  } catch {}
  return { status: res.status, error, headers: res.headers };
}

function askOurs(url: string, method: string): Answer {
  const r = call(face, ours, url, { method });
  let error: string | undefined;
  try {
    error = r.json().error;
  } catch {}
  return { status: r.status_code, error, headers: new Map(r.headers.map(([k, v]) => [k.toLowerCase(), v])) };
}

function askOursJson(url: string): unknown {
  return call(face, ours, url).json();
}

/**
 * Where the reference raises the generic InvalidRequest and we send the lexicon's own error name for
 * that endpoint (a subtype the client library maps to a typed error), the name may differ; the status
 * may not. Every other case must match name for name.
 */
const LEXICON_NAMES_FOR_GENERIC = new Set(['RepoNotFound', 'RecordNotFound', 'BlobNotFound', 'BlockNotFound', 'RepoDeactivated', 'RepoTakendown']);

function sameError(url: string, refAns: Answer, ourAns: Answer): void {
  assert.equal(ourAns.status, refAns.status, `status of ${url}: ours ${ourAns.status} (${ourAns.error}), reference ${refAns.status} (${refAns.error})`);
  if (refAns.status < 400) return;
  assert.ok(ourAns.error, `our answer to ${url} names an error`);
  // Outside XRPC the reference answers express's HTML 404; ours is the same status as XRPC JSON.
  if (refAns.error === undefined && !url.includes('/xrpc/')) return;
  if (refAns.error === ourAns.error) return;
  assert.ok(
    refAns.error === 'InvalidRequest' && LEXICON_NAMES_FOR_GENERIC.has(ourAns.error!),
    `error of ${url}: ours ${ourAns.error}, reference ${refAns.error}`,
  );
}

const R = (p: string) => `/xrpc/com.atproto.repo.${p}`;
const S = (p: string) => `/xrpc/com.atproto.sync.${p}`;

/**
 * Not compared: an unknown XRPC method. xrpc-server answers 501 MethodNotImplemented (and so do we), but the
 * reference PDS first proxies methods it does not implement to its AppView, so without one it says 400
 * "No service configured" — a property of its deployment, not of the protocol.
 */
function activeCases(): { url: string; method?: string }[] {
  const D = ref.did;
  return [
    { url: R(`getRecord?repo=${D}&collection=${POST}&rkey=3jzfcijpj2z2a`) },
    { url: R(`getRecord?repo=${OTHER_DID}&collection=${POST}&rkey=3jzfcijpj2z2a`) },
    { url: R(`getRecord?repo=${D}&collection=${POST}&rkey=${rkey}&cid=${MISSING_CID}`) },
    { url: R(`getRecord?repo=${D}&collection=${POST}&rkey=${rkey}&cid=notacid`) },
    { url: R(`getRecord?repo=${D}`) },
    { url: R(`getRecord?repo=${D}&collection=notansid&rkey=abc`) },
    { url: R(`describeRepo?repo=${OTHER_DID}`) },
    { url: R(`describeRepo?repo=nobody.test`) },
    { url: R(`listRecords?repo=${D}&collection=${POST}&limit=0`) },
    { url: R(`listRecords?repo=${D}&collection=${POST}&limit=101`) },
    { url: S(`getBlob?did=${D}&cid=${MISSING_CID}`) },
    { url: S(`getBlob?did=${OTHER_DID}&cid=${MISSING_CID}`) },
    { url: S(`getBlob?did=${D}`) },
    { url: S(`getBlocks?did=${D}&cids=${MISSING_CID}`) },
    { url: S(`getBlocks?did=${D}&cids=notacid`) },
    { url: S(`getBlocks?did=${OTHER_DID}&cids=${MISSING_CID}`) },
    { url: S(`getRepo?did=${OTHER_DID}`) },
    { url: S(`getRepo?did=${D}&since=notatid`) },
    { url: S(`getRepo?did=notadid`) },
    { url: S(`getLatestCommit?did=${OTHER_DID}`) },
    { url: S(`getRepoStatus?did=${OTHER_DID}`) },
    { url: S(`listBlobs?did=${OTHER_DID}`) },
    { url: S(`listBlobs?did=${D}&limit=0`) },
    { url: S(`getRecord?did=${OTHER_DID}&collection=${POST}&rkey=abc`) },
    { url: S('listRepos?limit=0') },
    { url: S('listRepos?limit=1001') },
    { url: S('listRepos?cursor=xyz') },
    { url: '/xrpc/com.atproto.identity.resolveHandle?handle=nobody.test' },
    { url: '/xrpc/com.atproto.identity.resolveHandle?handle=not_a_handle' },
    { url: '/xrpc/com.atproto.identity.resolveHandle' },
    { url: S(`getLatestCommit?did=${D}`), method: 'POST' },
    { url: S(`getRepo?did=${D}`), method: 'PUT' },
    { url: '/xrpc/com.atproto.server.describeServer', method: 'DELETE' },
    { url: R('createRecord'), method: 'POST' },
    { url: R('uploadBlob'), method: 'POST' },
    { url: '/no/such/route' },
  ];
}

test('active account: every bad request gets the reference status and error name', async () => {
  const cases = activeCases();
  for (const c of cases) {
    const method = c.method ?? 'GET';
    sameError(`${method} ${c.url}`, await askReference(c.url, method), askOurs(c.url, method));
  }
});

test('getBlob: same Content-Disposition as the reference, plus nosniff and a sandbox CSP', async () => {
  const url = S(`getBlob?did=${ref.did}&cid=${blobCid}`);
  const refAns = await askReference(url, 'GET');
  const ourAns = askOurs(url, 'GET');
  assert.equal(refAns.status, 200);
  assert.equal(ourAns.status, 200);
  assert.equal(refAns.headers.get('content-disposition'), `attachment; filename="${blobCid}"`);
  assert.equal(ourAns.headers.get('content-disposition'), refAns.headers.get('content-disposition'));
  assert.equal(ourAns.headers.get('x-content-type-options'), 'nosniff');
  assert.match(ourAns.headers.get('content-security-policy') ?? '', /sandbox/);
});

test('listRepos pages with an opaque cursor as the reference does: cursor on a full page, then an empty page', async () => {
  const walk = async (get: (q: string) => Promise<any>) => {
    const first = await get('limit=1');
    const second = await get(`limit=1&cursor=${encodeURIComponent(first.cursor)}`);
    return { firstRepos: first.repos.map((r: any) => r.did), firstHasCursor: typeof first.cursor === 'string', second };
  };
  const theirs = await walk(async (q) => (await fetch(`${ref.url}${S(`listRepos?${q}`)}`)).json());
  const mine = await walk(async (q) => askOursJson(S(`listRepos?${q}`)));
  assert.deepEqual(theirs.firstRepos, [ref.did]);
  assert.deepEqual(mine, theirs);
});

function inactiveUrls(): string[] {
  const D = ref.did;
  return [
    R(`describeRepo?repo=${D}`),
    R(`getRecord?repo=${D}&collection=${POST}&rkey=${rkey}`),
    R(`listRecords?repo=${D}&collection=${POST}`),
    S(`getRepo?did=${D}`),
    S(`getLatestCommit?did=${D}`),
    S(`getRepoStatus?did=${D}`),
    S(`getRecord?did=${D}&collection=${POST}&rkey=${rkey}`),
    S(`getBlocks?did=${D}&cids=${MISSING_CID}`),
    S(`listBlobs?did=${D}`),
    S(`getBlob?did=${D}&cid=${blobCid}`),
  ];
}

test('deactivated account: the reference status and error name on every read', async () => {
  await ref.agent.com.atproto.server.deactivateAccount({});
  ours.status = { active: false, status: 'deactivated' };
  try {
    for (const url of inactiveUrls()) sameError(url, await askReference(url, 'GET'), askOurs(url, 'GET'));
  } finally {
    await ref.agent.com.atproto.server.activateAccount();
    ours.status = { active: true };
  }
});

test('taken-down account: the reference status and error name on every read', async () => {
  const admin = { headers: { authorization: `Basic ${Buffer.from('admin:test-admin').toString('base64')}` } };
  const subject = { $type: 'com.atproto.admin.defs#repoRef', did: ref.did };
  await ref.agent.com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: true, ref: 'test' } }, admin);
  ours.status = { active: false, status: 'takendown' };
  try {
    const reference = await askReference(S(`getRepo?did=${ref.did}`), 'GET');
    assert.equal(reference.error, 'RepoTakendown', 'the reference reports the takedown');
    for (const url of inactiveUrls()) sameError(url, await askReference(url, 'GET'), askOurs(url, 'GET'));
  } finally {
    await ref.agent.com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: false } }, admin);
    ours.status = { active: true };
  }
});
