// A member's side of moving the account to another PDS, step by step and resumable (each step checks
// what is already done): the two migrate_out votes, createAccount there with the canister's
// service-auth token, repo and blobs copied, the DID handed over, the new account activated.
import { fromOpt, tagOf } from '../../canister/src/api/candid.ts';
import type { ProposalActionC, ProposalViewC } from '../../canister/src/api/interface.ts';
import type { CanopyActor } from './client.ts';
import { CliError } from './errors.ts';

export type MigrateOptions = { to: string; handle: string; email: string; password: string; inviteCode?: string; from?: string };
export type Progress = (step: string, detail: string) => void;
export type MigrateResult =
  | { did: string; pds: string; status: 'migrated' }
  | { did: string; pds: string; status: 'waiting'; proposal: bigint; waitingFor: string };

type Credentials = { signing_key: string; rotation_keys: string[]; handle: string };

async function xrpc(base: string, nsid: string, opts: { token?: string; params?: Record<string, string>; body?: unknown; raw?: Uint8Array; type?: string; post?: boolean } = {}) {
  const url = new URL(`/xrpc/${nsid}`, base);
  for (const [k, v] of Object.entries(opts.params ?? {})) url.searchParams.set(k, v);
  const post = opts.post || opts.body !== undefined || opts.raw !== undefined;
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(url, { method: post ? 'POST' : 'GET', headers, body: opts.raw ? new Blob([opts.raw as Uint8Array<ArrayBuffer>]) : opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      const e = JSON.parse(text) as { error?: string; message?: string };
      message = `${e.error ?? res.status}: ${e.message ?? ''}`;
    } catch {
      // not JSON
    }
    throw new CliError(`${new URL(base).host} ${nsid} failed (${res.status}) ${message}`.trim());
  }
  return res;
}

const jsonOf = async <T>(res: Response) => (await res.json()) as T;

/** Newest migrate_out proposal to `pdsUrl` with (or without) credentials that is open, adopted or executed. */
async function findProposal(actor: CanopyActor, pdsUrl: string, withCredentials: boolean): Promise<ProposalViewC | undefined> {
  const page = await actor.list_proposals({ status: [], after: [], limit: [100], oldest_first: [] });
  return page.proposals.find((p) => {
    const a = p.action as ProposalActionC;
    if (!('migrate_out' in a) || a.migrate_out.pds_url !== pdsUrl) return false;
    if ((a.migrate_out.credentials.length > 0) !== withCredentials) return false;
    return ['open', 'adopted', 'executed'].includes(tagOf(p.status));
  });
}

/** Proposes (unless already proposed), votes yes, and waits briefly for execution. */
async function adopted(actor: CanopyActor, me: string, found: ProposalViewC | undefined, action: ProposalActionC, summary: string, progress: Progress): Promise<ProposalViewC> {
  let p = found;
  if (!p) {
    const id = await actor.propose({ action, summary: [summary] });
    progress('propose', `proposal ${id}: ${summary}`);
    p = fromOpt(await actor.get_proposal(id))!;
  }
  if (tagOf(p.status) === 'open') {
    const votes = await actor.list_votes({ id: p.id, after: [], limit: [1000] });
    if (!votes.votes.some((v) => v.principal === me)) {
      p = await actor.vote({ id: p.id, vote: { yes: null } });
      progress('vote', `voted yes on proposal ${p.id}`);
    }
  }
  // The canister executes adopted proposals on a timer: give it a moment.
  for (let i = 0; i < 60 && tagOf(p.status) === 'adopted'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    p = fromOpt(await actor.get_proposal(p.id))!;
  }
  return p;
}

export async function migrateOut(actor: CanopyActor, me: string, o: MigrateOptions, progress: Progress): Promise<MigrateResult> {
  const to = new URL(o.to).origin;
  const status = await actor.get_status();
  const did = status.did;
  const plcUrl = fromOpt(status.plc_url);
  if (!did.startsWith('did:plc:') || !plcUrl) throw new CliError(`${did} is not a did:plc account: only a did:plc account can move to another PDS`);
  const from = o.from ?? status.pds_url;
  const pdsDid = (await jsonOf<{ did: string }>(await xrpc(to, 'com.atproto.server.describeServer'))).did;
  progress('destination', `${to} (${pdsDid})`);

  // 1. The destination, adopted by vote.
  const auth = await adopted(
    actor, me, await findProposal(actor, to, false),
    { migrate_out: { pds_url: to, pds_did: pdsDid, credentials: [] } }, `move the account to ${to}`, progress,
  );
  if (tagOf(auth.status) !== 'executed') return { did, pds: to, status: 'waiting', proposal: auth.id, waitingFor: `votes on proposal ${auth.id} (moving to ${to})` };

  // 2. The account there, created with the canister's service-auth token (or logged into on a resumed run).
  let session: { accessJwt: string };
  try {
    session = await jsonOf(await xrpc(to, 'com.atproto.server.createSession', { body: { identifier: did, password: o.password } }));
    progress('account', `account for ${did} exists at ${to}`);
  } catch {
    const token = await actor.migration_service_auth();
    session = await jsonOf(await xrpc(to, 'com.atproto.server.createAccount', {
      token,
      body: { did, handle: o.handle, email: o.email, password: o.password, ...(o.inviteCode ? { inviteCode: o.inviteCode } : {}) },
    }));
    progress('account', `created ${o.handle} for ${did} at ${to}`);
  }
  const tok = session.accessJwt;

  // 3. Repo and blobs (importing again is harmless: the destination applies only the difference).
  const car = new Uint8Array(await (await xrpc(from, 'com.atproto.sync.getRepo', { params: { did } })).arrayBuffer());
  await xrpc(to, 'com.atproto.repo.importRepo', { token: tok, raw: car, type: 'application/vnd.ipld.car' });
  progress('repo', `imported the repository (${car.length} bytes)`);
  let blobs = 0;
  for (let cursor: string | undefined; ; ) {
    const page = await jsonOf<{ blobs: { cid: string }[]; cursor?: string }>(
      await xrpc(to, 'com.atproto.repo.listMissingBlobs', { token: tok, params: { limit: '500', ...(cursor ? { cursor } : {}) } }),
    );
    for (const b of page.blobs) {
      const res = await xrpc(from, 'com.atproto.sync.getBlob', { params: { did, cid: b.cid } });
      await xrpc(to, 'com.atproto.repo.uploadBlob', { token: tok, raw: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type') ?? 'application/octet-stream' });
      blobs++;
    }
    if (!page.cursor || page.blobs.length === 0) break;
    cursor = page.cursor;
  }
  progress('blobs', `copied ${blobs} blob(s)`);

  // 4. The DID handed over, on the credentials the destination recommends, by vote.
  const rec = await jsonOf<{ rotationKeys: string[]; alsoKnownAs: string[]; verificationMethods: { atproto: string } }>(
    await xrpc(to, 'com.atproto.identity.getRecommendedDidCredentials', { token: tok }),
  );
  const credentials: Credentials = { signing_key: rec.verificationMethods.atproto, rotation_keys: rec.rotationKeys, handle: (rec.alsoKnownAs[0] ?? `at://${o.handle}`).replace(/^at:\/\//, '') };
  const hand = await adopted(
    actor, me, await findProposal(actor, to, true),
    { migrate_out: { pds_url: to, pds_did: pdsDid, credentials: [credentials] } }, `hand the DID to ${to} (its signing and rotation keys)`, progress,
  );
  if (tagOf(hand.status) !== 'executed') return { did, pds: to, status: 'waiting', proposal: hand.id, waitingFor: `votes on proposal ${hand.id} (the DID handed to ${to})` };

  // 5. The directory accepts the operation (the canister submits it, retrying); the account here is deactivated.
  for (let i = 0; i < 120 && (await actor.get_status()).active; i++) await new Promise((r) => setTimeout(r, 500));
  if ((await actor.get_status()).active) {
    const plc = await actor.get_plc_status();
    throw new CliError(`the PLC directory has not accepted the operation yet (${fromOpt(plc.last_error) ?? 'pending'}); run this again later`);
  }
  const data = await jsonOf<{ services: { atproto_pds?: { endpoint: string } } }>(await fetch(`${plcUrl}/${did}/data`));
  if (data.services.atproto_pds?.endpoint !== to) throw new CliError(`the PLC directory still names ${data.services.atproto_pds?.endpoint} for ${did}`);
  progress('directory', `${did} now points at ${to}; the account here is deactivated`);

  // 6. The new account activated.
  const st = await jsonOf<{ activated: boolean }>(await xrpc(to, 'com.atproto.server.checkAccountStatus', { token: tok }));
  if (!st.activated) await xrpc(to, 'com.atproto.server.activateAccount', { token: tok, post: true });
  progress('activate', `activated at ${to}`);
  return { did, pds: to, status: 'migrated' };
}
