// The account as the world sees it: DID, handle, profile and the latest posts, read through the
// PDS's own XRPC.
import { h, replace } from '../dom.ts';
import type { App } from '../app.ts';
import { postView, type PostJson } from '../post-view.ts';
import { blobUrl, getRecord, listRecords } from '../xrpc.ts';
import { poll } from './parts.ts';

type Profile = { displayName?: string; description?: string; avatar?: { ref: { $link: string } }; banner?: { ref: { $link: string } } };

export function accountView(app: App, signal: AbortSignal): HTMLElement {
  const { did } = app.status;
  const profileBox = h('div', { class: 'profile' });
  const posts = h('div', { class: 'posts', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading posts…'));
  let lastKey = '';
  const load = async () => {
    const [profile, list] = await Promise.all([
      getRecord<Profile>(did, 'app.bsky.actor.profile', 'self').then((r) => r.value).catch(() => ({}) as Profile),
      listRecords<PostJson>(did, 'app.bsky.feed.post', 25),
    ]);
    const key = JSON.stringify([profile, list.records.map((r) => r.cid)]);
    if (key === lastKey) return;
    lastKey = key;
    const author = { ...app.author, displayName: profile.displayName, avatarCid: profile.avatar?.ref.$link };
    replace(profileBox,
      profile.banner ? h('img', { class: 'banner', src: blobUrl(did, profile.banner.ref.$link), alt: '' }) : h('div', { class: 'banner empty' }),
      h('div', { class: 'profile-main' },
        h('div', { class: 'avatar big', 'aria-hidden': 'true' },
          author.avatarCid ? h('img', { src: blobUrl(did, author.avatarCid), alt: '' }) : (profile.displayName || app.author.handle).slice(0, 1).toUpperCase()),
        h('div', {},
          h('h1', {}, profile.displayName || app.author.handle),
          h('p', { class: 'muted' }, `@${app.author.handle}`),
          profile.description ? h('p', { class: 'description' }, profile.description) : null)),
      h('dl', { class: 'facts' },
        h('dt', {}, 'DID'), h('dd', { class: 'mono' }, did),
        h('dt', {}, 'PDS'), h('dd', { class: 'mono' }, app.status.pds_url),
        h('dt', {}, 'Account'), h('dd', {}, app.status.active ? 'active' : 'deactivated')));
    replace(posts, list.records.length === 0
      ? h('p', { class: 'muted' }, 'No posts yet. Propose one: members vote, the canister posts.')
      : list.records.map((r) => postView(r.value, author, { uri: r.uri })));
  };
  poll(load, signal, (err) => replace(posts, h('p', { class: 'error', role: 'alert' }, app.explain(err))));
  return h('section', {}, profileBox, h('h2', {}, 'Posts'), posts);
}
