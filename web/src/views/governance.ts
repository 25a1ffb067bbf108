// Members and voting power, delegates with their scope and today's usage, and the audit log.
import { Actor, type HttpAgent } from '@dfinity/agent';
import { isoFromNs, relative, percent, duration } from '../../../cli/src/format.ts';
import { sovereigntyOf, sovereigntyText } from '../../../cli/src/sovereignty.ts';
import { tag } from '../canister.ts';
import { h, replace } from '../dom.ts';
import { allMembers, type App } from '../app.ts';
import { poll, showWhenChanged, table } from './parts.ts';

export function membersView(app: App, signal: AbortSignal): HTMLElement {
  const box = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const show = showWhenChanged(box);
  poll(async () => {
    const actor = await app.session.actor();
    const [members, rules] = await Promise.all([allMembers(actor), actor.get_rules()]);
    const total = members.reduce((s, m) => s + m.power, 0n);
    show([members, rules, app.me?.principal], () => [
      h('p', {}, `${members.length} members, ${total} voting power in all. Rules: voting period ${duration(rules.voting_period_ns)}, quorum ${percent(rules.quorum_bps)}, threshold ${percent(rules.threshold_bps)}.`),
      table(['Member', 'Voting power', 'Share', 'Member since'], members.map((m) => [
        h('span', { class: 'mono' }, m.principal, m.principal === app.me?.principal ? h('span', { class: 'you' }, ' (you)') : null),
        `${m.power}`, total ? `${((Number(m.power) * 100) / Number(total)).toFixed(1)}%` : '', isoFromNs(m.since_ns).slice(0, 10)]))]);
  }, signal, (err) => replace(box, h('p', { class: 'error', role: 'alert' }, app.explain(err))));
  return h('section', {}, h('div', { class: 'row' }, h('h1', {}, 'Members'), h('a', { class: 'button', href: '#/new?kind=add_member' }, 'Propose a member')), box);
}

export function delegatesView(app: App, signal: AbortSignal): HTMLElement {
  const box = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const show = showWhenChanged(box);
  poll(async () => {
    const actor = await app.session.actor();
    const list = await actor.list_delegates();
    show([list, app.me?.principal], () => list.length === 0 ? h('p', { class: 'muted' }, 'No delegates: every write goes through a vote.') :
      table(['Delegate', 'May', 'In', 'Today', 'Expires', 'Granted by'], list.map((d) => [
        h('span', { class: 'mono' }, d.principal, d.principal === app.me?.principal ? h('span', { class: 'you' }, ' (you)') : null),
        d.scope.actions.map((a) => tag(a)).join(', '),
        d.scope.collections.join(', '),
        h('span', {}, `${d.writes_today} / ${d.scope.writes_per_day}`, ' ',
          h('meter', { min: 0, max: d.scope.writes_per_day, value: d.writes_today, 'aria-label': "Today's writes" })),
        d.scope.expires_at_ns[0] !== undefined ? relative(d.scope.expires_at_ns[0]) : 'never',
        d.granted_by[0] !== undefined ? h('a', { href: `#/proposals/${d.granted_by[0]}` }, `proposal #${d.granted_by[0]}`) : 'founding'])));
  }, signal, (err) => replace(box, h('p', { class: 'error', role: 'alert' }, app.explain(err))));
  return h('section', {}, h('div', { class: 'row' }, h('h1', {}, 'Delegates'), h('a', { class: 'button', href: '#/new?kind=grant_delegate' }, 'Propose a delegation')), box);
}

export function auditView(app: App, signal: AbortSignal): HTMLElement {
  const box = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const show = showWhenChanged(box);
  poll(async () => {
    const actor = await app.session.actor();
    const res = await actor.get_audit_log({ after: [], limit: [100], newest_first: [true] });
    show(res.entries, () => res.entries.length === 0 ? h('p', { class: 'muted' }, 'Nothing yet.') :
      table(['#', 'When', 'Who', 'What', 'Detail'], res.entries.map((e) => [
        `${e.seq}`, h('time', { datetime: isoFromNs(e.time_ns), title: isoFromNs(e.time_ns) }, relative(e.time_ns)),
        h('span', { class: 'mono small' }, e.actor),
        h('span', {}, e.event, e.proposal_id[0] !== undefined ? [' ', h('a', { href: `#/proposals/${e.proposal_id[0]}` }, `#${e.proposal_id[0]}`)] : null),
        h('span', {}, e.detail, e.uri[0] ? [h('br', {}), h('span', { class: 'mono small' }, e.uri[0])] : null)])));
  }, signal, (err) => replace(box, h('p', { class: 'error', role: 'alert' }, `The audit log: ${app.explain(err)}`)));
  return h('section', {}, h('h1', {}, 'Audit log'), box);
}

export function healthView(app: App, signal: AbortSignal): HTMLElement {
  const box = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const show = showWhenChanged(box);
  const na = (why: string) => h('span', { class: 'na' }, 'not available', h('small', { class: 'muted' }, ` — ${why}`));
  const T = (n: bigint) => `${(Number(n) / 1e12).toFixed(3)} T cycles`;
  poll(async () => {
    const actor = await app.session.actor();
    const [s, approvals, cycles, steward] = await Promise.all([
      actor.get_status(),
      actor.list_upgrade_approvals(),
      actor.get_cycles(),
      actor.get_steward(),
    ]);
    // Controllers and module hash as the IC certifies them (read_state): what the canister says of itself is not evidence.
    const sov = await sovereigntyOf(Actor.agentOf(actor) as HttpAgent, app.session.config.canisterId, steward[0] ?? null);
    const burn = cycles.burn_per_day[0];
    const days = cycles.days_left[0];
    show([s, approvals, cycles, sov], () => [
      h('dl', { class: 'facts' },
        h('dt', {}, 'Canister'), h('dd', { class: 'mono' }, app.session.config.canisterId),
        h('dt', {}, 'Network'), h('dd', {}, app.session.local ? 'local replica' : 'Internet Computer'),
        h('dt', {}, 'Account'), h('dd', {}, s.active ? 'active' : 'deactivated'),
        h('dt', {}, 'Repository revision'), h('dd', { class: 'mono' }, s.rev[0] ?? 'not initialized yet'),
        h('dt', {}, 'Event log head'), h('dd', {}, `seq ${s.head_seq}`),
        h('dt', {}, 'Signing key'), h('dd', { class: 'mono small' }, s.signing_key),
        s.plc_url[0] ? [h('dt', {}, 'PLC directory'), h('dd', { class: 'mono' }, s.plc_url[0])] : null,
        h('dt', {}, 'Cycle balance'), h('dd', {}, T(cycles.balance)),
        h('dt', {}, 'Burn rate'), h('dd', {}, burn === undefined ? na('needs an hour of samples') : `${T(burn)} a day`),
        h('dt', {}, 'Days left'), h('dd', {}, days === undefined ? na('no burn rate yet') : `${days.toFixed(1)} days until the balance is spent`),
        cycles.warning[0] ? [h('dt', {}, 'Warning'), h('dd', { class: 'error' }, cycles.warning[0])] : null,
        h('dt', {}, 'Controllers'), h('dd', { class: 'mono small' }, sov.controllers.join(', ') || '(none)'),
        h('dt', {}, 'Steward'), h('dd', { class: 'mono small' }, sov.steward ?? '(none)'),
        h('dt', {}, 'Module hash'), h('dd', { class: 'mono small' }, sov.moduleHash ?? '(no module)'),
        h('dt', {}, 'Who can change the code'), h('dd', { class: sov.people.length ? 'error' : '' }, sovereigntyText(sov))),
      h('h2', {}, 'Approved upgrades'),
      approvals.length === 0 ? h('p', { class: 'muted' }, 'No upgrade has been approved.') :
        table(['Module SHA-256', 'Proposal', 'When'], approvals.map((a) => [
          h('span', { class: 'mono small' }, a.wasm_hash), h('a', { href: `#/proposals/${a.proposal_id}` }, `#${a.proposal_id}`), relative(a.time_ns)]))]);
  }, signal, (err) => replace(box, h('p', { class: 'error', role: 'alert' }, app.explain(err))));
  return h('section', {}, h('h1', {}, 'Canister health'), box);
}
