// "New proposal": one form per kind the CLI can propose. Every change re-runs the canister's own
// proposal check (checkAction) on the draft, so the form refuses what the canister would refuse and
// the preview is exactly the record the canister will write. A delegate can post the same draft
// directly, within its scope.
import {
  parseDuration, parseExpiry, parseMention, parseOps, parsePercent, parsePositiveInt, parsePrincipal, parseRecordLocator, parseStrongRef,
} from '../../../cli/src/values.ts';
import { bytes } from '../../../cli/src/format.ts';
import {
  actionToC, checkAction, countGraphemes, dataToJson, POST_COLLECTION, POST_MAX_BYTES, POST_MAX_GRAPHEMES, utf8Length,
  type GovernanceEnv, type ProposalAction, type RulesC, type StrongRef, type WriteAction,
} from '../canister.ts';
import { h, field, replace } from '../dom.ts';
import type { App } from '../app.ts';
import { postView, type PostJson } from '../post-view.ts';
import { uploadBlob, type Uploaded } from '../upload.ts';
import { stageChunks } from '../../../cli/src/wasm-chunks.ts';
import { getRecord } from '../xrpc.ts';

const KINDS: { kind: ProposalAction['kind']; label: string }[] = [
  { kind: 'post', label: 'Post' },
  { kind: 'delete_record', label: 'Delete a record' },
  { kind: 'put_record', label: 'Create or replace a record' },
  { kind: 'update_profile', label: 'Update the profile' },
  { kind: 'set_handle', label: 'Change the handle' },
  { kind: 'add_member', label: 'Add a member' },
  { kind: 'remove_member', label: 'Remove a member' },
  { kind: 'set_member_power', label: "Change a member's voting power" },
  { kind: 'set_rules', label: 'Change the voting rules' },
  { kind: 'grant_delegate', label: 'Grant a delegation' },
  { kind: 'revoke_delegate', label: 'Revoke a delegation' },
  { kind: 'set_account_active', label: 'Deactivate or reactivate the account' },
  { kind: 'approve_upgrade', label: 'Approve a canister upgrade' },
  { kind: 'upgrade', label: 'Upgrade a canister (Canopy or its steward)' },
  { kind: 'set_rotation_keys', label: 'Set the did:plc rotation keys' },
  { kind: 'set_pds_endpoint', label: "Change the DID's PDS endpoint" },
  { kind: 'migrate_out', label: 'Move the account to another PDS' },
];

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const input = (attrs: Record<string, string> = {}) => h('input', { type: 'text', autocomplete: 'off', ...attrs });
const area = (rows = 4, attrs: Record<string, string> = {}) => h('textarea', { rows, ...attrs });

/** A draft form: its fields, and how to read them into an action (throws with a message). */
type Form = { el: HTMLElement; read(): ProposalAction; post?: true };

export function composeView(app: App): HTMLElement {
  const uploaded = new Map<string, Uploaded>();
  const staged = new Set<string>();
  const env: GovernanceEnv = {
    did: () => app.status.did,
    handle: () => app.author.handle,
    blob: (cid) => uploaded.get(cid),
    wasmStaged: (hash) => staged.has(hash),
  };
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const kindSelect = h('select', { id: 'kind' }, KINDS.map((k) => h('option', { value: k.kind }, k.label)));
  kindSelect.value = params.get('kind') ?? 'post';
  const summary = input({ maxlength: '2000', placeholder: 'Why this proposal (shown to voters)' });
  const formBox = h('div', { class: 'kind-form' });
  const previewBox = h('div', { class: 'preview-box', 'aria-live': 'polite' });
  const problem = h('p', { class: 'problem', role: 'status' });
  const outcome = h('div', { role: 'alert', class: 'outcome' });
  const proposeBtn = h('button', { type: 'submit', class: 'primary' }, 'Propose');
  const directBtn = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Post directly (delegate)');
  let form: Form;

  const refresh = () => {
    let checked: { action: ProposalAction; preview: unknown | null };
    try {
      checked = checkAction(env, form.read(), nowNs());
    } catch (err) {
      problem.textContent = app.explain(err);
      replace(previewBox, h('p', { class: 'muted' }, 'The preview appears when the draft is valid.'));
      return null;
    }
    problem.textContent = '';
    const json = checked.preview === null ? null : dataToJson(checked.preview);
    replace(previewBox,
      form.post && json
        ? postView(json as PostJson, app.author, { preview: true, localBlobUrl: (cid) => uploaded.get(cid)?.objectUrl })
        : null,
      json !== null
        ? h('details', { open: !form.post }, h('summary', {}, form.post ? 'The record the canister will write' : 'What the canister will write'),
            h('pre', { class: 'json' }, JSON.stringify(json, null, 2)))
        : h('p', { class: 'muted' }, describeAction(checked.action)));
    return checked;
  };

  const switchKind = () => {
    form = formFor(kindSelect.value as ProposalAction['kind'], app, { uploaded, staged }, refresh);
    replace(formBox, form.el);
    const d = app.me?.delegate;
    directBtn.hidden = !(form.post && d && d.scope.collections.includes(POST_COLLECTION) && d.scope.actions.some((a) => 'create' in a));
    refresh();
  };
  kindSelect.addEventListener('change', switchKind);

  const send = async (how: 'propose' | 'direct') => {
    outcome.replaceChildren();
    const checked = refresh();
    if (!checked) {
      replace(outcome, h('p', { class: 'error' }, `Not sent: ${problem.textContent}`));
      return;
    }
    proposeBtn.disabled = directBtn.disabled = true;
    try {
      const actor = await app.session.actor();
      if (how === 'propose') {
        const id = await actor.propose({ action: actionToC(checked.action), summary: summary.value.trim() ? [summary.value.trim()] : [] });
        location.hash = `#/proposals/${id}`;
      } else {
        const record = { ...(dataToJson(checked.preview) as object), createdAt: new Date().toISOString() };
        const res = await actor.create_record({ collection: POST_COLLECTION, rkey: [], record_json: JSON.stringify(record) });
        replace(outcome, h('p', { class: 'ok' }, 'Posted: ', h('span', { class: 'mono' }, res.uri)));
      }
    } catch (err) {
      replace(outcome, h('p', { class: 'error' }, `${how === 'propose' ? 'Proposal refused' : 'Write refused'}: ${app.explain(err)}`));
    } finally {
      proposeBtn.disabled = directBtn.disabled = false;
    }
  };
  directBtn.addEventListener('click', () => void send('direct'));

  const el = h('section', { class: 'compose' },
    h('h1', {}, 'New proposal'),
    app.me && app.me.power === null
      ? h('p', { class: 'notice' }, 'You are not a member: the canister will refuse proposals from this principal until the members vote it in.')
      : null,
    h('form', { onsubmit: (e: Event) => { e.preventDefault(); void send('propose'); } },
      h('div', { class: 'grid2' },
        h('div', {},
          field('Kind', kindSelect),
          formBox,
          field('Summary', summary, 'Optional; shown to voters with the proposal.'),
          problem,
          h('div', { class: 'actions' }, proposeBtn, directBtn),
          outcome),
        h('aside', { class: 'preview-col', 'aria-label': 'Preview' }, h('h2', {}, 'Preview'), previewBox))));
  switchKind();
  return el;
}

function describeAction(a: ProposalAction): string {
  switch (a.kind) {
    case 'add_member': return `Add ${a.principal} with voting power ${a.power}.`;
    case 'remove_member': return `Remove member ${a.principal}.`;
    case 'set_member_power': return `Set the voting power of ${a.principal} to ${a.power}.`;
    case 'set_handle': return `Change the handle to @${a.handle}.`;
    case 'revoke_delegate': return `Revoke the delegation of ${a.principal}.`;
    case 'delete_record': return `Delete ${a.collection}/${a.rkey}.`;
    case 'set_account_active': return a.active ? 'Reactivate the account.' : 'Deactivate the account (relays stop serving it).';
    case 'approve_upgrade': return `Approve the canister module with SHA-256 ${a.wasmHash}.`;
    case 'set_rotation_keys': return `Rotation keys: the canister's own key, then ${a.keys.length ? a.keys.join(', ') : 'no other'}.`;
    case 'set_pds_endpoint': return `Point the DID at the PDS ${a.url}.`;
    case 'migrate_out': return a.credentials
      ? `Hand the DID over to ${a.pdsUrl}: signing key ${a.credentials.signingKey}, handle ${a.credentials.handle}.`
      : `Allow creating this account at ${a.pdsUrl} (${a.pdsDid}).`;
    case 'upgrade': return `Install the module with SHA-256 ${a.wasmHash} on ${a.target === 'canopy' ? 'Canopy (through the steward, rolled back if it fails)' : 'the steward'}${a.commit ? `, built from commit ${a.commit}` : ''}.`;
    case 'set_rules': return `Voting period ${a.rules.votingPeriodNs / 1_000_000_000n}s, quorum ${a.rules.quorumBps / 100}%, threshold ${a.rules.thresholdBps / 100}%.`;
    case 'grant_delegate': return `Let ${a.principal} ${a.scope.actions.join('/')} records in ${a.scope.collections.join(', ')}, ${a.scope.writesPerDay} writes a day.`;
    default: return '';
  }
}

/** https://bsky.app/profile/<actor>/post/<rkey>, or at://…, or at://…#cid → a strong ref (own records looked up). */
async function resolveRef(app: App, text: string, what: string): Promise<{ ref: StrongRef; value?: any }> {
  let t = text.trim();
  const web = /^https:\/\/bsky\.app\/profile\/([^/]+)\/post\/([^/?#]+)(#.*)?$/.exec(t);
  if (web) {
    const actor = web[1] === app.author.handle ? app.status.did : web[1]!;
    t = `at://${actor}/app.bsky.feed.post/${web[2]}${web[3] ?? ''}`;
  }
  const { uri, cid } = parseStrongRef(t, what);
  if (cid) return { ref: { uri, cid } };
  const [, , repo, collection, rkey] = uri.split('/');
  if (repo !== app.status.did) throw new Error(`${what}: only this account's records are looked up here; give other posts as at://…#<cid>`);
  const rec = await getRecord(repo!, collection!, rkey!);
  return { ref: { uri, cid: rec.cid }, value: rec.value };
}

/** What the draft's files became on the canister: blobs by CID, staged wasm modules by hash. */
type Uploads = { uploaded: Map<string, Uploaded>; staged: Set<string> };

function formFor(kind: ProposalAction['kind'], app: App, { uploaded, staged }: Uploads, changed: () => void): Form {
  const onInput = <E extends HTMLElement>(el: E): E => (el.addEventListener('input', changed), el);
  switch (kind) {
    case 'post': return postForm(app, uploaded, changed);
    case 'delete_record': {
      const rec = onInput(input({ placeholder: 'app.bsky.feed.post/3k… or at://…' }));
      return { el: h('div', {}, field('Record', rec, 'at://<did>/<collection>/<rkey> or <collection>/<rkey>')), read: () => ({ kind, ...parseRecordLocator(rec.value.trim() || undefined) }) };
    }
    case 'put_record': {
      const collection = onInput(input({ placeholder: 'app.bsky.graph.follow' }));
      const rkey = onInput(input({ placeholder: 'empty: a new record key' }));
      const json = onInput(area(8, { class: 'mono', placeholder: '{"$type": "…", …}' }));
      return {
        el: h('div', {}, field('Collection', collection), field('Record key', rkey, 'Leave empty to create a new record.'), field('Record (atproto JSON)', json)),
        read: () => ({ kind, collection: collection.value.trim(), ...(rkey.value.trim() ? { rkey: rkey.value.trim() } : {}), recordJson: json.value }),
      };
    }
    case 'update_profile': {
      const name = onInput(input({ placeholder: 'unchanged' }));
      const desc = onInput(area(3, { placeholder: 'unchanged' }));
      const avatar = imagePicker(app, uploaded, 'Avatar', changed);
      const banner = imagePicker(app, uploaded, 'Banner', changed);
      const clear = (label: string) => onInput(h('input', { type: 'checkbox', 'aria-label': label }));
      const clearName = clear('Remove the display name');
      const clearDesc = clear('Remove the description');
      return {
        el: h('div', {},
          field('Display name', name), h('label', { class: 'check' }, clearName, ' Remove the display name'),
          field('Description', desc), h('label', { class: 'check' }, clearDesc, ' Remove the description'),
          avatar.el, banner.el),
        read: () => ({
          kind,
          profile: {
            ...(clearName.checked ? { displayName: '' } : name.value ? { displayName: name.value } : {}),
            ...(clearDesc.checked ? { description: '' } : desc.value ? { description: desc.value } : {}),
            ...(avatar.cid() ? { avatar: avatar.cid() } : {}),
            ...(banner.cid() ? { banner: banner.cid() } : {}),
          },
        }),
      };
    }
    case 'set_handle': {
      const handle = onInput(input({ placeholder: 'coop.example.org' }));
      return { el: field('New handle', handle), read: () => ({ kind, handle: handle.value.trim().replace(/^@/, '') }) };
    }
    case 'add_member':
    case 'set_member_power': {
      const principal = onInput(input({ class: 'mono', placeholder: 'xxxxx-…-cai' }));
      const power = onInput(h('input', { type: 'number', min: '1', value: '1', inputmode: 'numeric' }));
      return {
        el: h('div', {}, field('Principal', principal, 'The member hands you the principal the app shows them after signing in.'), field('Voting power', power)),
        read: () => ({ kind, principal: parsePrincipal(principal.value.trim()), power: BigInt(parsePositiveInt(power.value, 'voting power')) }),
      };
    }
    case 'remove_member':
    case 'revoke_delegate': {
      const principal = onInput(input({ class: 'mono' }));
      return { el: field('Principal', principal), read: () => ({ kind, principal: parsePrincipal(principal.value.trim()) }) };
    }
    case 'set_rules': {
      const period = onInput(input({ placeholder: '3d' }));
      const quorum = onInput(input({ placeholder: '50%' }));
      const threshold = onInput(input({ placeholder: '50%' }));
      void app.session.actor().then((a) => a.get_rules()).then((r: RulesC) => {
        const s = Number(r.voting_period_ns / 1_000_000_000n);
        period.value = s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : `${s}s`;
        quorum.value = `${r.quorum_bps / 100}%`;
        threshold.value = `${r.threshold_bps / 100}%`;
        changed();
      }).catch(() => undefined);
      return {
        el: h('div', {}, field('Voting period', period, 'Like 90m, 24h, 3d or 1d12h.'), field('Quorum', quorum, 'Share of all voting power that must vote.'),
          field('Threshold', threshold, 'Share of yes among yes + no needed to adopt.')),
        read: () => ({
          kind,
          rules: { votingPeriodNs: parseDuration(period.value.trim(), 'voting period'), quorumBps: parsePercent(quorum.value, 'quorum'), thresholdBps: parsePercent(threshold.value, 'threshold') },
        }),
      };
    }
    case 'grant_delegate': {
      const principal = onInput(input({ class: 'mono' }));
      const collections = onInput(input({ value: POST_COLLECTION }));
      const ops = (['create', 'put', 'delete'] as const).map((op) => onInput(h('input', { type: 'checkbox', value: op, checked: op === 'create' })) as HTMLInputElement);
      const perDay = onInput(h('input', { type: 'number', min: '1', value: '20', inputmode: 'numeric' }));
      const expires = onInput(input({ placeholder: 'never; or 30d, or 2027-06-30' }));
      return {
        el: h('div', {}, field('Principal', principal), field('Collections', collections, 'Comma-separated NSIDs.'),
          h('fieldset', {}, h('legend', {}, 'Allowed operations'), ops.map((o) => h('label', { class: 'check' }, o, ` ${o.value}`))),
          field('Writes per day', perDay), field('Expires', expires)),
        read: () => ({
          kind,
          principal: parsePrincipal(principal.value.trim()),
          scope: {
            collections: collections.value.split(',').map((s) => s.trim()).filter(Boolean),
            actions: parseOps(ops.filter((o) => o.checked).map((o) => o.value).join(',')) as WriteAction[],
            writesPerDay: parsePositiveInt(perDay.value, 'writes per day'),
            expiresAtNs: expires.value.trim() ? parseExpiry(expires.value.trim()) : null,
          },
        }),
      };
    }
    case 'set_account_active': {
      const active = onInput(h('select', {}, h('option', { value: 'false' }, 'Deactivate the account'), h('option', { value: 'true' }, 'Reactivate the account')));
      return { el: field('Account', active), read: () => ({ kind, active: active.value === 'true' }) };
    }
    case 'approve_upgrade': {
      const hash = onInput(input({ class: 'mono', placeholder: '64 hex digits', maxlength: '64' }));
      return { el: field('Module SHA-256', hash, 'sha256sum of the wasm the controllers will install.'), read: () => ({ kind, wasmHash: hash.value.trim() }) };
    }
    case 'upgrade': return upgradeForm(app, staged, changed);
    case 'set_rotation_keys': {
      const keys = onInput(area(5, { class: 'mono', placeholder: 'did:key:zQ3s…  (one per line)' }));
      return {
        el: field('Further rotation keys', keys, "The canister's own key always stays first; up to 4 more did:keys, one per line (e.g. a recovery key)."),
        read: () => ({ kind, keys: keys.value.split(/\s+/).filter(Boolean) }),
      };
    }
    case 'set_pds_endpoint': {
      const url = onInput(input({ placeholder: 'https://pds.example.org' }));
      return { el: field('PDS endpoint', url, 'The origin the DID document names as its #atproto_pds service.'), read: () => ({ kind, url: url.value.trim() }) };
    }
    case 'migrate_out': {
      const pdsUrl = onInput(input({ placeholder: 'https://pds.example.org' }));
      const pdsDid = onInput(input({ class: 'mono', placeholder: 'did:web:pds.example.org' }));
      const signingKey = onInput(input({ class: 'mono', placeholder: 'did:key:… (second step only)' }));
      const rotation = onInput(area(3, { class: 'mono', placeholder: 'did:key:… one per line (second step only)' }));
      const handle = onInput(input({ placeholder: 'coop.example.org (second step only)' }));
      return {
        el: h('div', {},
          h('p', { class: 'muted' }, 'Two votes: the first names the destination and lets a member create the account there; the second carries the credentials the new PDS recommends and hands the DID over. `canopy migrate out` runs both steps.'),
          field('Destination PDS', pdsUrl), field("Destination's DID", pdsDid),
          field('Signing key', signingKey), field('Rotation keys', rotation), field('Handle', handle)),
        read: () => {
          const key = signingKey.value.trim();
          return {
            kind, pdsUrl: pdsUrl.value.trim(), pdsDid: pdsDid.value.trim(),
            credentials: key ? { signingKey: key, rotationKeys: rotation.value.split(/\s+/).filter(Boolean), handle: handle.value.trim() } : null,
          };
        },
      };
    }
  }
}

const hex = (b: ArrayBuffer): string => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

/** A wasm module staged on the canister in chunks as soon as it is picked; the proposal names its SHA-256. */
function upgradeForm(app: App, staged: Set<string>, changed: () => void): Form {
  const file = h('input', { type: 'file', accept: '.wasm,.gz,application/wasm' });
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  const target = h('select', {}, h('option', { value: 'canopy' }, 'Canopy (installed by the steward)'), h('option', { value: 'steward' }, 'The steward (installed by Canopy)'));
  const commit = input({ class: 'mono', placeholder: 'optional: the git commit it is built from', maxlength: '64' });
  let wasmHash = '';
  target.addEventListener('change', changed);
  commit.addEventListener('input', changed);
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    status.className = 'muted';
    try {
      const wasm = new Uint8Array(await f.arrayBuffer());
      const hash = hex(await crypto.subtle.digest('SHA-256', wasm));
      await stageChunks(await app.session.actor(), wasm, hash, (d, t) => (status.textContent = `staging ${bytes(d)} / ${bytes(t)}`));
      staged.add(hash);
      wasmHash = hash;
      status.textContent = `staged ${bytes(wasm.length)}, SHA-256 ${hash}`;
    } catch (err) {
      status.className = 'error';
      status.textContent = `staging refused: ${app.explain(err)}`;
    }
    changed();
  });
  return {
    el: h('div', {}, field('Wasm module', file, 'Staged on the canister in 128 KiB chunks; voters check its hash with `canopy verify`.'), status,
      field('Target', target), field('Commit', commit)),
    read: () => ({ kind: 'upgrade', wasmHash, target: target.value as 'canopy' | 'steward', arg: new Uint8Array(), commit: commit.value.trim() || null }),
  };
}

function imagePicker(app: App, uploaded: Map<string, Uploaded>, label: string, changed: () => void) {
  let cid = '';
  const file = h('input', { type: 'file', accept: 'image/png,image/jpeg' });
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    status.className = 'muted';
    try {
      const up = await uploadBlob(await app.session.actor(), f, (d, t) => (status.textContent = `uploading ${bytes(d)} / ${bytes(t)}`));
      uploaded.set(up.cid, up);
      cid = up.cid;
      status.textContent = `uploaded ${bytes(up.size)}`;
    } catch (err) {
      status.className = 'error';
      status.textContent = `upload refused: ${app.explain(err)}`;
    }
    changed();
  });
  return { el: h('div', {}, field(label, file), status), cid: () => cid };
}

type ImageDraft = { cid?: string; alt: HTMLTextAreaElement; el: HTMLElement };

function postForm(app: App, uploaded: Map<string, Uploaded>, changed: () => void): Form {
  const text = h('textarea', { id: 'post-text', rows: 5, placeholder: 'What should the account say?' });
  const counter = h('p', { class: 'counter', 'aria-live': 'polite' });
  const langs = input({ placeholder: 'en' });
  const mentions = area(2, { class: 'mono', placeholder: 'alice.example.com=did:plc:…' });
  const reply = input({ placeholder: 'https://bsky.app/profile/…/post/… or at://…' });
  const quote = input({ placeholder: 'https://bsky.app/profile/…/post/… or at://…' });
  const refNote = h('p', { class: 'muted', 'aria-live': 'polite' });
  const files = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', multiple: true });
  const imageList = h('div', { class: 'image-drafts' });
  const images: ImageDraft[] = [];
  let replyRef: { root: StrongRef; parent: StrongRef } | undefined;
  let quoteRef: StrongRef | undefined;
  let refError = '';

  const count = () => {
    const g = countGraphemes(text.value);
    const b = utf8Length(text.value);
    counter.textContent = `${g} / ${POST_MAX_GRAPHEMES} graphemes · ${b} / ${POST_MAX_BYTES} bytes`;
    counter.classList.toggle('over', g > POST_MAX_GRAPHEMES || b > POST_MAX_BYTES);
  };
  text.addEventListener('input', () => (count(), changed()));
  for (const el of [langs, mentions]) el.addEventListener('input', changed);

  const resolveRefs = async () => {
    refError = '';
    refNote.textContent = '';
    try {
      if (reply.value.trim()) {
        const parent = await resolveRef(app, reply.value, 'reply to');
        const root = parent.value?.reply?.root;
        replyRef = { root: root?.uri && root?.cid ? { uri: root.uri, cid: root.cid } : parent.ref, parent: parent.ref };
      } else replyRef = undefined;
      quoteRef = quote.value.trim() ? (await resolveRef(app, quote.value, 'quote')).ref : undefined;
    } catch (err) {
      refError = app.explain(err);
      refNote.textContent = refError;
    }
    changed();
  };
  reply.addEventListener('change', () => void resolveRefs());
  quote.addEventListener('change', () => void resolveRefs());

  files.addEventListener('change', async () => {
    for (const f of Array.from(files.files ?? [])) {
      const n = images.length + 1;
      const progress = h('progress', { max: f.size, value: 0, 'aria-label': `Upload of image ${n}` });
      const status = h('span', { class: 'muted' }, `uploading ${f.name}…`);
      const alt = h('textarea', { rows: 2, placeholder: 'Describe the image for people who cannot see it' });
      alt.addEventListener('input', changed);
      const draft: ImageDraft = { alt, el: h('div', { class: 'image-draft' }) };
      const remove = h('button', { type: 'button', class: 'link' }, 'Remove');
      remove.addEventListener('click', () => {
        images.splice(images.indexOf(draft), 1);
        draft.el.remove();
        changed();
      });
      replace(draft.el, h('div', { class: 'thumb' }, h('img', { src: URL.createObjectURL(f), alt: '' })),
        h('div', {}, field(`Alt text for image ${n}`, alt), progress, ' ', status, ' ', remove));
      images.push(draft);
      imageList.append(draft.el);
      try {
        const up = await uploadBlob(await app.session.actor(), f, (done, total) => {
          progress.max = total;
          progress.value = done;
          status.textContent = `${bytes(done)} / ${bytes(total)}`;
        });
        uploaded.set(up.cid, up);
        draft.cid = up.cid;
        status.textContent = `uploaded ${bytes(up.size)}`;
      } catch (err) {
        progress.hidden = true;
        status.className = 'error';
        status.textContent = `upload refused: ${app.explain(err)}`;
      }
      changed();
    }
    files.value = '';
  });
  count();

  return {
    post: true,
    el: h('div', {},
      field('Post text', text),
      counter,
      field('Images', files, 'Uploaded in chunks as soon as you pick them; up to 4 images of 1 MB.'),
      imageList,
      h('details', {},
        h('summary', {}, 'Reply, quote, languages, mentions'),
        field('Reply to', reply, 'A post URL or at:// URI (this account\'s posts are looked up; others as at://…#<cid>).'),
        field('Quote', quote),
        refNote,
        field('Languages', langs, 'Comma-separated tags, like en, fr.'),
        field('Mention DIDs', mentions, 'handle=did, one per line, for @mentions of other accounts.'))),
    read: () => {
      if (refError) throw new Error(refError);
      const pending = images.find((i) => !i.cid);
      if (pending) throw new Error('an image is still uploading (or its upload failed: remove it)');
      return {
        kind: 'post',
        post: {
          text: text.value,
          langs: langs.value.split(',').map((s) => s.trim()).filter(Boolean),
          mentions: mentions.value.split('\n').map((s) => s.trim()).filter(Boolean).map(parseMention),
          images: images.map((i) => {
            const up = uploaded.get(i.cid!)!;
            return { cid: i.cid!, alt: i.alt.value, ...(up.aspectRatio ? { aspectRatio: up.aspectRatio } : {}) };
          }),
          ...(replyRef ? { reply: replyRef } : {}),
          ...(quoteRef ? { quote: quoteRef } : {}),
        },
      };
    },
  };
}
