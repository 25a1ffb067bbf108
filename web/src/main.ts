// The members' web app: a header with the sign-in state, and one view per route (#/…).
import { App } from './app.ts';
import { h, replace } from './dom.ts';
import { loadConfig, Session } from './session.ts';
import { accountView } from './views/account.ts';
import { composeView } from './views/compose.ts';
import { auditView, delegatesView, healthView, membersView } from './views/governance.ts';
import { proposalListView, proposalView } from './views/proposals.ts';

const NAV: [string, string][] = [
  ['#/', 'Account'], ['#/proposals', 'Proposals'], ['#/new', 'New proposal'], ['#/members', 'Members'],
  ['#/delegates', 'Delegates'], ['#/audit', 'Audit log'], ['#/health', 'Health'],
];

function route(app: App, signal: AbortSignal): HTMLElement {
  const path = location.hash.replace(/^#/, '').split('?')[0] || '/';
  const proposal = /^\/proposals\/(\d+)$/.exec(path);
  if (proposal) return proposalView(app, BigInt(proposal[1]!), signal);
  switch (path) {
    case '/': return accountView(app, signal);
    case '/proposals': return proposalListView(app, signal);
    case '/new': return composeView(app);
    case '/members': return membersView(app, signal);
    case '/delegates': return delegatesView(app, signal);
    case '/audit': return auditView(app, signal);
    case '/health': return healthView(app, signal);
    default: return h('section', {}, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the account')));
  }
}

function whoBox(app: App, rerender: () => void): HTMLElement {
  const { session } = app;
  const current = session.current;
  const error = h('span', { class: 'error', role: 'alert' });
  if (!current) {
    const btn = h('button', { type: 'button', class: 'primary' }, 'Sign in');
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        await session.signIn();
        await app.refreshMe();
        rerender();
      } catch (err) {
        error.textContent = app.explain(err);
        btn.disabled = false;
      }
    });
    return h('div', { class: 'who' },
      btn,
      h('small', { class: 'muted' }, session.local ? 'with a local test identity kept in this browser' : 'with Internet Identity'),
      error);
  }
  const me = app.me;
  const copy = h('button', { type: 'button', class: 'link', 'aria-label': 'Copy the principal' }, 'Copy');
  copy.addEventListener('click', () => void navigator.clipboard?.writeText(current.principal).then(() => (copy.textContent = 'Copied')));
  const out = h('button', { type: 'button', class: 'link' }, 'Sign out');
  out.addEventListener('click', async () => {
    await session.signOut();
    await app.refreshMe();
    rerender();
  });
  const role = me?.power != null
    ? h('span', { class: 'role member' }, `member · power ${me.power}${me.delegate ? ' · delegate' : ''}`)
    : h('span', { class: 'role outsider' }, me?.delegate ? 'delegate (not a member)' : 'not a member');
  return h('div', { class: 'who' },
    current.kind === 'local' ? h('span', { class: 'local-badge', title: 'No Internet Identity runs on the local stack' }, 'Local identity') : null,
    h('span', { class: 'principal-label' }, 'Your principal: '),
    h('code', { class: 'principal', 'data-principal': current.principal }, current.principal),
    copy, role, out);
}

async function main(): Promise<void> {
  const root = document.getElementById('app')!;
  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    replace(root, h('main', {}, h('p', { class: 'error', role: 'alert' }, (err as Error).message)));
    return;
  }
  const session = new Session(config);
  const app = new App(session);
  await session.restore();
  try {
    await app.load();
  } catch (err) {
    replace(root, h('main', {}, h('h1', {}, 'Canopy'), h('p', { class: 'error', role: 'alert' }, `The canister cannot be reached: ${app.explain(err)}`)));
    return;
  }

  const header = h('header', { class: 'top' });
  const nav = h('nav', { 'aria-label': 'Main' });
  const notice = h('div', { class: 'notice-bar' });
  const main = h('main', { id: 'main', tabindex: '-1' });
  replace(root, h('a', { href: '#main', class: 'skip' }, 'Skip to content'), header, nav, notice, main);

  let controller = new AbortController();
  const renderChrome = () => {
    replace(header,
      h('a', { href: '#/', class: 'brand' }, h('img', { src: '/favicon.svg', alt: '' }), h('span', {}, 'Canopy'), h('small', { class: 'muted' }, ` @${app.author.handle}`)),
      whoBox(app, render));
    const here = location.hash.split('?')[0] || '#/';
    replace(nav, NAV.map(([href, label]) => h('a', { href, ...(here === href ? { 'aria-current': 'page' } : {}) }, label)));
    const me = app.me;
    replace(notice, me && me.power === null && !me.delegate
      ? h('p', { class: 'notice' }, 'This principal is not a member yet. Hand it to the DAO: once a proposal to add it is adopted, you can propose and vote here.')
      : null);
  };
  const render = () => {
    controller.abort();
    controller = new AbortController();
    renderChrome();
    replace(main, route(app, controller.signal));
  };
  window.addEventListener('hashchange', () => {
    render();
    main.focus({ preventScroll: true });
  });
  // Membership can change while the app is open (a proposal adds this principal).
  setInterval(() => {
    if (session.current) void app.refreshMe().then(renderChrome).catch(() => undefined);
  }, 10_000);
  render();
}

void main();
