// The whole local stack plus Debian's Chromium driven by playwright-core (no browser download), for
// the web app's browser tests. The stack runs on free ports with a throwaway state directory; the
// founding member uses the `canopy` CLI (founder.ts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type RunningStack } from '../../scripts/stack/index.ts';
import { freePort } from '../../scripts/stack/processes.ts';
import { founder as makeFounder, type Founder } from './founder.ts';

/** Debian's chromium package (installed by .ci/run); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Harness {
  stack: RunningStack;
  founder: Founder;
  browser: Browser;
  /** The app's URL: the Worker's origin, as `npm start` prints it. */
  appUrl: string;
  logs: string[];
  /** A new browser profile (its own localStorage, so its own local identity), failing the test on page errors. */
  newPage(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const stateDir = mkdtempSync(join(tmpdir(), 'canopy-web-test-'));
  const logs: string[] = [];
  const log = (source: string, line: string) => {
    logs.push(`[${source}] ${line}`);
    if (logs.length > 400) logs.splice(0, logs.length - 400);
  };
  const founder = await makeFounder();
  let stack: RunningStack | undefined;
  let browser: Browser | undefined;
  try {
    const ports = { replica: await freePort(), pds: await freePort(), bridge: await freePort() };
    stack = await startStack({ stateDir, ports, identity: founder.identity, log });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  } catch (err) {
    await stack?.stop();
    founder.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const b = browser;
  const s = stack;
  return {
    stack: s,
    founder,
    browser: b,
    appUrl: `${s.pdsUrl}/`,
    logs,
    async newPage() {
      const context = await b.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        // Failed loads are reported below with their URL.
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
      });
      page.on('response', (res) => {
        if (res.status() >= 400) errors.push(`http ${res.status()} ${res.url()}`);
      });
      return { page, errors };
    },
    async close() {
      await b.close().catch(() => undefined);
      await s.stop();
      founder.cleanup();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
