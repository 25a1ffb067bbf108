// Proposals: the list (filtered by status) and one proposal's view with tallies, quorum and
// threshold progress, time left, who voted what, the preview or result, and the vote buttons.
// Both poll the canister while shown, so state changes appear without a reload.
import { percent, relative } from '../../../cli/src/format.ts';
import { tag, tagged, type ProposalView } from '../canister.ts';
import { h, replace } from '../dom.ts';
import type { App } from '../app.ts';
import { postView, type PostJson } from '../post-view.ts';
import { poll, showWhenChanged, table } from './parts.ts';

const STATUSES = ['open', 'adopted', 'executed', 'rejected', 'expired', 'failed'] as const;

const statusWord = (p: ProposalView): string => tag(p.status);
const statusBadge = (p: ProposalView) => h('span', { class: `status s-${statusWord(p)}` }, statusWord(p));

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** A bar per choice (share of the electorate's power), with the quorum marked. */
function tallies(p: ProposalView): HTMLElement {
  const total = Number(p.total_power) || 1;
  const voted = Number(p.yes + p.no + p.abstain);
  const decided = Number(p.yes + p.no);
  const yesShare = decided === 0 ? 0 : (Number(p.yes) * 10000) / decided;
  const bar = (label: string, v: bigint, cls: string) =>
    h('div', { class: 'tally' },
      h('span', { class: 'tally-label' }, label),
      h('span', { class: 'track', role: 'img', 'aria-label': `${label}: ${v} of ${p.total_power}` },
        h('span', { class: `fill ${cls}`, style: `width:${(Number(v) * 100) / total}%` })),
      h('span', { class: 'tally-num' }, `${v}`));
  return h('div', { class: 'tallies' },
    bar('Yes', p.yes, 'yes'), bar('No', p.no, 'no'), bar('Abstain', p.abstain, 'abstain'),
    h('p', { class: 'muted' },
      `Turnout ${voted} of ${p.total_power} voting power (${p.electorate_size} members) · quorum ${percent(p.rules.quorum_bps)} `,
      voted * 10000 >= p.rules.quorum_bps * total ? '✓ reached' : `(needs ${Math.ceil((p.rules.quorum_bps * total) / 10000)})`,
      ` · yes ${decided ? percent(Math.round(yesShare)) : '—'} of yes+no; threshold: more than ${percent(p.rules.threshold_bps)}`));
}

function timing(p: ProposalView): string {
  if (statusWord(p) === 'open') return `voting ends ${relative(p.deadline_ns)}`;
  const closed = p.closed_at_ns[0];
  return closed !== undefined ? `closed ${relative(closed)}` : `ended ${relative(p.deadline_ns)}`;
}

export function proposalListView(app: App, signal: AbortSignal): HTMLElement {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const wanted = params.get('status') ?? '';
  const status = (STATUSES as readonly string[]).includes(wanted) ? (wanted as (typeof STATUSES)[number]) : '';
  const filter = h('select', { id: 'status-filter' }, h('option', { value: '' }, 'All'), STATUSES.map((s) => h('option', { value: s }, s)));
  filter.value = status;
  filter.addEventListener('change', () => (location.hash = filter.value ? `#/proposals?status=${filter.value}` : '#/proposals'));
  const list = h('ol', { class: 'proposal-list', 'aria-live': 'polite' }, h('li', { class: 'muted' }, 'Loading…'));
  const show = showWhenChanged(list);
  const load = async () => {
    const actor = await app.session.actor();
    const res = await actor.list_proposals({ status: status ? [tagged(status)] : [], after: [], limit: [50], oldest_first: [] });
    show(res.proposals, () => res.proposals.length === 0 ? h('li', { class: 'muted' }, status ? `No ${status} proposals.` : 'No proposals yet.') : res.proposals.map((p) =>
      h('li', {},
        h('a', { href: `#/proposals/${p.id}`, class: 'proposal-card' },
          h('span', { class: 'pid' }, `#${p.id}`), ' ', statusBadge(p), ' ', h('strong', {}, p.kind.replace(/_/g, ' ')),
          p.summary ? h('span', { class: 'summary' }, ` — ${p.summary}`) : null,
          h('span', { class: 'meta muted' }, `yes ${p.yes} · no ${p.no} · abstain ${p.abstain} of ${p.total_power} · ${timing(p)}`)))));
  };
  poll(load, signal, (err) => replace(list, h('li', { class: 'error', role: 'alert' }, app.explain(err))));
  return h('section', {},
    h('div', { class: 'row' }, h('h1', {}, 'Proposals'), h('a', { href: '#/new', class: 'button primary' }, 'New proposal')),
    h('div', { class: 'field inline' }, h('label', { for: 'status-filter' }, 'Status'), filter),
    list);
}

export function proposalView(app: App, id: bigint, signal: AbortSignal): HTMLElement {
  const head = h('div', { class: 'proposal-head' }, h('p', { class: 'muted' }, 'Loading…'));
  const body = h('div', { 'aria-live': 'polite' });
  const votesBox = h('div', {});
  const message = h('div', { role: 'alert', class: 'outcome' });
  const buttons = (['yes', 'no', 'abstain'] as const).map((v) =>
    h('button', { type: 'button', class: `vote v-${v}`, onclick: () => void vote(v) }, v === 'abstain' ? 'Abstain' : `Vote ${v}`));
  const voteBox = h('div', { class: 'vote-box' });
  let lastKey = '';
  let lastStatus = '';

  const vote = async (choice: 'yes' | 'no' | 'abstain') => {
    message.replaceChildren();
    for (const b of buttons) b.disabled = true;
    try {
      const actor = await app.session.actor();
      await actor.vote({ id, vote: tagged(choice) });
      await load();
    } catch (err) {
      replace(message, h('p', { class: 'error' }, `Vote refused: ${app.explain(err)}`));
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };

  const load = async () => {
    const actor = await app.session.actor();
    const [found, votes] = await Promise.all([
      actor.get_proposal(id),
      actor.list_votes({ id, after: [], limit: [500] }),
    ]);
    const p = found[0];
    if (!p) {
      replace(head, h('h1', {}, `Proposal #${id}`), h('p', { class: 'error' }, 'There is no such proposal.'));
      return;
    }
    // Rebuild only when something changed, so focus and scroll stay where the reader left them.
    const key = json([p, votes.votes]) + (app.me?.principal ?? '');
    if (key === lastKey) {
      replace(head.querySelector('.timing') ?? h('span', {}), timing(p));
      return;
    }
    lastKey = key;
    // A refusal describes the state it happened in; drop it once the state moves on.
    if (lastStatus && lastStatus !== statusWord(p)) message.replaceChildren();
    lastStatus = statusWord(p);
    const mine = votes.votes.find((v) => v.principal === app.me?.principal);
    replace(head,
      h('h1', {}, `Proposal #${p.id}: ${p.kind.replace(/_/g, ' ')}`),
      h('p', { class: 'status-line' }, statusBadge(p), ' ', h('span', { class: 'timing muted' }, timing(p))),
      p.summary ? h('p', { class: 'summary' }, p.summary) : null,
      h('p', { class: 'muted small' }, 'Proposed by ', h('span', { class: 'mono' }, p.proposer), ` ${relative(p.created_at_ns)}`));
    const result = p.result[0];
    const preview = p.preview_json[0];
    replace(body,
      tallies(p),
      p.failure[0] ? h('p', { class: 'error' }, `Execution failed: ${p.failure[0]}`) : null,
      result ? h('div', { class: 'result' }, h('h2', {}, 'Written'),
        result.records.map((r) => h('p', { class: 'mono' }, r.uri)),
        result.rev[0] ? h('p', { class: 'muted small' }, `commit rev ${result.rev[0]}`) : null) : null,
      preview && p.kind === 'post'
        ? h('div', {}, h('h2', {}, statusWord(p) === 'executed' ? 'The post' : 'The post it will write'),
            postView({ ...(JSON.parse(preview) as PostJson) }, app.author, { preview: statusWord(p) !== 'executed', uri: result?.records[0]?.uri }))
        : preview ? h('details', {}, h('summary', {}, 'What it writes'), h('pre', { class: 'json' }, JSON.stringify(JSON.parse(preview), null, 2))) : null,
      h('details', {}, h('summary', {}, 'The action as proposed'), h('pre', { class: 'json' }, json(p.action))));
    replace(votesBox, h('h2', {}, `Votes (${votes.votes.length})`),
      votes.votes.length === 0 ? h('p', { class: 'muted' }, 'No votes yet.') :
        table(['Member', 'Vote', 'Power', 'When'], votes.votes.map((v) => [h('span', { class: 'mono' }, v.principal), tag(v.vote), `${v.power}`, relative(v.time_ns)])));
    const open = statusWord(p) === 'open';
    replace(voteBox,
      open
        ? [h('div', { class: 'actions' }, buttons),
           h('p', { class: 'muted small', role: 'status' }, !app.me ? 'Sign in to vote.' : mine ? `You voted ${tag(mine.vote)}; you can change your vote while the proposal is open.` : 'You have not voted.')]
        : h('p', { class: 'muted' }, `Voting is closed: ${statusWord(p)}.`));
  };
  poll(load, signal, (err) => replace(message, h('p', { class: 'error' }, app.explain(err))));
  return h('section', { class: 'proposal' }, head, voteBox, message, body, votesBox);
}
