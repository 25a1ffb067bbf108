// The members' web app in headless Chromium (Debian's package, driven by playwright-core) against
// the whole local stack, as a new member uses it: sign in with the local identity, be voted in by
// the founding member (CLI), propose a post with an image and alt text, both vote yes, see it
// executed with its at:// URI and rendered on the account view. Then the refusals a non-member sees.
// CANOPY_SCREENSHOTS=docs saves the README's screenshots of the main views (docs/web-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { AtpAgent } from '@atproto/api';
import { startHarness, type Harness } from './harness.ts';
import { PROPOSAL_KINDS } from '../../canister/src/governance/types.ts';

const WAIT_MS = 60_000;
let hs: Harness;
/** The member of the first test, kept signed in for the delegate test. */
let member: { page: Page; principal: string; postUri: string } | undefined;
const shotsDir = process.env.CANOPY_SCREENSHOTS;

async function shot(page: Page, name: string): Promise<void> {
  if (!shotsDir) return;
  await page.mouse.move(1, 899); // no hover highlight in the picture
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `web-${name}.png`), fullPage: true });
}

/**
 * Two refusals are expected: the profile record does not exist yet, and an open proposal's image is
 * not served until a record references it. Anything else failing, or on the console, is a defect.
 */
const realErrors = (errors: string[]) =>
  errors.filter((e) => !/^http 40[04] \S+\/xrpc\/com\.atproto\.(repo\.getRecord\?.*collection=app\.bsky\.actor\.profile|sync\.getBlob\?)/.test(e));

const ALT = 'A green hill under a wide tree, with the words Co-op picnic';

/** A real PNG, drawn by the browser (a canvas), for the upload. */
async function drawPng(page: Page, width: number, height: number): Promise<Buffer> {
  const bytes = await page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext('2d')!;
    const sky = g.createLinearGradient(0, 0, 0, h);
    sky.addColorStop(0, '#bfe3f5');
    sky.addColorStop(1, '#f4f9ee');
    g.fillStyle = sky;
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#3f9a5f';
    g.beginPath();
    g.ellipse(w / 2, h * 1.05, w * 0.7, h * 0.45, 0, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = '#7a4b1d';
    g.fillRect(w * 0.62, h * 0.3, w * 0.03, h * 0.35);
    g.fillStyle = '#2f855a';
    g.beginPath();
    g.arc(w * 0.635, h * 0.28, h * 0.2, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = '#1c2420';
    g.font = `bold ${Math.round(h / 7)}px sans-serif`;
    g.fillText('Co-op picnic', w * 0.06, h * 0.22);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  }, [width, height] as const);
  return Buffer.from(bytes);
}

async function signIn(page: Page): Promise<string> {
  await page.goto(hs.appUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const principal = page.locator('[data-principal]');
  await principal.waitFor({ timeout: WAIT_MS });
  await page.getByText('Local identity', { exact: true }).waitFor();
  return (await principal.textContent())!.trim();
}

before(async () => {
  hs = await startHarness();
}, { timeout: 300_000 });

after(async () => {
  await member?.page.context().close();
  await hs?.close();
});

test('a new member signs in, is voted in, proposes a post with an image; it is executed and shown on the account', { timeout: 300_000 }, async (t) => {
  const { page, errors } = await hs.newPage();
  try {
    const principal = await signIn(page);
    assert.match(principal, /^[a-z0-9]{5}(-[a-z0-9]{1,5})+$/);
    await page.getByText('This principal is not a member yet').waitFor();
    
    // The founding member adds the principal the page shows; alone, the founder adopts it at once.
    const { id: addId } = await hs.founder.canopy(hs.stack, ['propose', 'add-member', principal, '--power', '1']);
    const voted = await hs.founder.canopy(hs.stack, ['vote', String(addId), 'yes']);
    assert.equal(voted.status, 'executed');

    // The app notices the membership without a reload (it polls the member list).
    await page.locator('.role.member').waitFor({ timeout: WAIT_MS });

    await page.getByRole('link', { name: 'New proposal' }).first().click();
    const text = 'Hello from the browser @canopy.test #canopy https://example.org/co-op';
    await page.getByLabel('Post text').fill(text);
    await page.getByLabel('Images').setInputFiles({ name: 'picnic.png', mimeType: 'image/png', buffer: await drawPng(page, 480, 240) });
    await page.getByText(/^uploaded /).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Alt text for image 1').fill(ALT);
    // The live preview shows the facets and the image with its alt text, before anything is sent.
    const preview = page.locator('.post.preview');
    await preview.getByRole('link', { name: '#canopy' }).waitFor();
    await preview.getByRole('link', { name: 'https://example.org/co-op' }).waitFor();
    await preview.getByRole('img', { name: ALT }).waitFor();
    assert.match((await page.locator('.counter').textContent())!, new RegExp(`^${[...new Intl.Segmenter().segment(text)].length} / 300 graphemes`));
    await shot(page, 'composer');

    await page.getByRole('button', { name: 'Propose' }).click();
    await page.waitForURL(/#\/proposals\/\d+$/, { timeout: WAIT_MS });
    const postId = Number(/#\/proposals\/(\d+)$/.exec(page.url())![1]);
    await page.getByText('open', { exact: true }).waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: 'Vote yes' }).click();
    await page.getByText('You voted yes; you can change your vote while the proposal is open.').waitFor({ timeout: WAIT_MS });
    // A vote can change while the proposal is open.
    await page.getByRole('button', { name: 'Abstain' }).click();
    await page.getByText('You voted abstain; you can change your vote while the proposal is open.').waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Vote yes' }).click();
    await page.getByText('You voted yes; you can change your vote while the proposal is open.').waitFor({ timeout: WAIT_MS });
    // Two members of power 1: one yes is not yet a majority of yes+no for sure; the founder's vote decides.
    assert.equal((await hs.founder.canopy(hs.stack, ['proposal', String(postId)])).status, 'open');
    await shot(page, 'proposal');
    await hs.founder.canopy(hs.stack, ['vote', String(postId), 'yes']);

    // The open page follows: executed, with the post's at:// URI, without a reload.
    await page.getByText('executed', { exact: true }).waitFor({ timeout: WAIT_MS });
    const uri = (await page.locator('.result .mono').first().textContent())!.trim();
    assert.match(uri, /^at:\/\/did:web:localhost%3A\d+\/app\.bsky\.feed\.post\/[a-z2-7]{13}$/);
    const executed = await hs.founder.canopy(hs.stack, ['proposal', String(postId)]);
    assert.equal(executed.result.uri, uri);
    
    // The record as an independent client reads it: the text, facets and the image with its alt.
    const agent = new AtpAgent({ service: hs.stack.pdsUrl });
    const rkey = uri.split('/').pop()!;
    const rec = await agent.com.atproto.repo.getRecord({ repo: hs.stack.did, collection: 'app.bsky.feed.post', rkey });
    const value = rec.data.value as { text: string; facets: unknown[]; embed: { images: { alt: string }[] } };
    assert.equal(value.text, text);
    assert.equal(value.facets.length, 3);
    assert.equal(value.embed.images[0]!.alt, ALT);

    // And on the account view, rendered as Bluesky shows it.
    await page.getByRole('link', { name: 'Account' }).click();
    const post = page.locator('article.post', { hasText: 'Hello from the browser' });
    await post.waitFor({ timeout: WAIT_MS });
    await post.getByRole('link', { name: '#canopy' }).waitFor();
    await post.getByRole('link', { name: '@canopy.test' }).waitFor();
    const img = post.getByRole('img', { name: ALT });
    await img.waitFor();
    await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 480, await img.elementHandle(), { timeout: WAIT_MS });
    await post.getByText(uri).waitFor();

    for (const [view, name] of [['#/proposals', 'proposals'], ['#/members', 'members'], ['#/audit', 'audit'], ['#/health', 'health']] as const) {
      await page.goto(`${hs.appUrl}${view}`);
      await page.locator('main table, main .proposal-list li a, main dl.facts').first().waitFor({ timeout: WAIT_MS });
      if (name === 'health') {
        // The stack is sovereign, and the view shows it from the IC's certified controllers and module hash.
        await page.getByText('sovereign: Canopy and its steward control only each other').waitFor({ timeout: WAIT_MS });
        await page.locator('main dd').filter({ hasText: /^[0-9a-f]{64}$/ }).first().waitFor({ timeout: WAIT_MS });
        await shot(page, name);
      }
    }
    assert.deepEqual(realErrors(errors), []);
    member = { page, principal, postUri: uri };
  } catch (err) {
    t.diagnostic(hs.logs.slice(-40).join('\n'));
    await page.context().close();
    throw err;
  }
});

test('once granted a delegation by vote, the member posts directly from the composer, within its budget', { timeout: 180_000 }, async () => {
  assert.ok(member, 'the first test left a signed-in member');
  const { page, principal, postUri } = member;
  const { id } = await hs.founder.canopy(hs.stack, ['propose', 'grant-delegate', principal, '--collection', 'app.bsky.feed.post', '--per-day', '5']);
  await hs.founder.canopy(hs.stack, ['vote', String(id), 'yes']);
  await page.goto(`${hs.appUrl}#/proposals/${id}`);
  await page.getByRole('button', { name: 'Vote yes' }).click();
  await page.getByText('executed', { exact: true }).waitFor({ timeout: WAIT_MS });
  await page.locator('.role.member', { hasText: 'delegate' }).waitFor({ timeout: WAIT_MS });

  await page.getByRole('link', { name: 'Delegates' }).click();
  const row = page.locator('tr', { hasText: principal });
  await row.getByText('0 / 5').waitFor({ timeout: WAIT_MS });

  await page.getByRole('link', { name: 'New proposal' }).first().click();
  const text = 'Written directly by a delegate #canopy';
  await page.getByLabel('Post text').fill(text);
  // A reply to the first post (as its bsky.app link) that also quotes it (as its at:// URI).
  await page.getByText('Reply, quote, languages, mentions').click();
  const [, did, , rkey] = /^at:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(postUri)!;
  await page.getByLabel('Reply to').fill(`https://bsky.app/profile/${did}/post/${rkey}`);
  await page.getByLabel('Quote').fill(postUri);
  await page.getByLabel('Languages').focus(); // change events resolve both references
  const preview = page.locator('.post.preview');
  await preview.getByText(`Reply to ${postUri}`).waitFor({ timeout: WAIT_MS });
  await preview.locator('.quote').getByText('Hello from the browser').waitFor({ timeout: WAIT_MS });
  await page.getByRole('button', { name: 'Post directly (delegate)' }).click();
  const posted = page.getByRole('alert').filter({ hasText: 'Posted: at://' });
  await posted.waitFor({ timeout: WAIT_MS });
  const uri = /at:\/\/\S+/.exec((await posted.textContent())!)![0];

  const agent = new AtpAgent({ service: hs.stack.pdsUrl });
  const rec = await agent.com.atproto.repo.getRecord({ repo: hs.stack.did, collection: 'app.bsky.feed.post', rkey: uri.split('/').pop()! });
  const value = rec.data.value as { text: string; reply: { root: { uri: string }; parent: { uri: string; cid: string } }; embed: { $type: string; record: { uri: string } } };
  assert.equal(value.text, text);
  assert.equal(value.reply.parent.uri, postUri);
  assert.equal(value.reply.root.uri, postUri);
  assert.equal(value.embed.$type, 'app.bsky.embed.record');
  assert.equal(value.embed.record.uri, postUri);

  await page.getByRole('link', { name: 'Delegates' }).click();
  await page.locator('tr', { hasText: principal }).getByText('1 / 5').waitFor({ timeout: WAIT_MS });
  await shot(page, 'delegates');
  await page.getByRole('link', { name: 'Account' }).click();
  const shown = page.locator('article.post', { hasText: text });
  await shown.waitFor({ timeout: WAIT_MS });
  await shown.getByText(`Reply to ${postUri}`).waitFor();
  await shown.locator('.quote').getByText('Hello from the browser').waitFor({ timeout: WAIT_MS });
  await page.locator('article.post img').first().evaluate((el) => (el as HTMLImageElement).decode());
  await shot(page, 'account');

  // On a phone: the same account view in one column, nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'Proposals' }).click();
  await page.locator('.proposal-card').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone screen`);
  await shot(page, 'phone');
});

test('a non-member sees the canister refuse proposals, uploads and votes', { timeout: 180_000 }, async () => {
  const { page, errors } = await hs.newPage();
  try {
    const principal = await signIn(page);
    await page.locator('.role.outsider').waitFor();
    await page.getByText('This principal is not a member yet').waitFor();

    // An open proposal by the founder (two members now: it stays open).
    const { id } = await hs.founder.canopy(hs.stack, ['propose', 'post', '--text', 'Open for votes']);

    await page.goto(`${hs.appUrl}#/new`);
    await page.getByText('You are not a member: the canister will refuse proposals').waitFor();
    await page.getByLabel('Post text').fill('Let me in');
    await page.getByRole('button', { name: 'Propose' }).click();
    await page.getByRole('alert').filter({ hasText: `Proposal refused: ${principal} is not a member; propose is refused` }).waitFor({ timeout: WAIT_MS });

    await page.getByLabel('Images').setInputFiles({ name: 'x.png', mimeType: 'image/png', buffer: await drawPng(page, 100, 100) });
    await page.getByText(`upload refused: ${principal} is not a member or a delegate; blob_upload_start is refused`).waitFor({ timeout: WAIT_MS });
    await shot(page, 'non-member');

    await page.goto(`${hs.appUrl}#/proposals/${id}`);
    await page.getByText('open', { exact: true }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Vote no' }).click();
    await page.getByRole('alert').filter({ hasText: `Vote refused: ${principal} is not a member; vote is refused` }).waitFor({ timeout: WAIT_MS });

    // Every kind the CLI proposes has a form; a draft the canister would refuse is refused before sending.
    await page.goto(`${hs.appUrl}#/new`);
    const kinds = await page.getByLabel('Kind').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(kinds.sort(), [...PROPOSAL_KINDS].sort());
    for (const kind of kinds) {
      await page.getByLabel('Kind').selectOption(kind);
      const controls = page.locator('.kind-form').locator('input, textarea, select');
      assert.ok((await controls.count()) > 0, `${kind} has a form`);
      for (const control of await controls.all()) {
        const id = await control.getAttribute('id');
        const labelled = (await control.getAttribute('aria-label')) || (id && (await page.locator(`label[for="${id}"]`).count()) > 0) ||
          (await control.evaluate((el) => el.closest('label') !== null));
        assert.ok(labelled, `every control of the ${kind} form has a label`);
      }
    }
    await page.getByLabel('Kind').selectOption('add_member');
    await page.getByLabel('Principal', { exact: true }).fill('not-a-principal');
    await page.getByRole('button', { name: 'Propose' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not sent: principal is not a principal: "not-a-principal"' }).waitFor();

    // Nothing changed: no vote counted, no proposal made by this principal.
    const p = await hs.founder.canopy(hs.stack, ['proposal', String(id)]);
    assert.equal(p.status, 'open');
    const list = await hs.founder.canopy(hs.stack, ['proposals']);
    assert.ok(!JSON.stringify(list).includes(principal));
    assert.deepEqual(realErrors(errors), []);
  } finally {
    await page.context().close();
  }
});
