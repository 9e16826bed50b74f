// Debian's chromium, driven by playwright-core, with a fresh profile of its
// own each time (removed on close). Without /usr/bin/chromium the test is
// skipped, except under CI=true, where it fails (.ci/run installs it).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface OpenBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A browser context in a fresh user-data-dir, at `viewport`; the test is skipped without chromium (but under CI=true). */
export async function openBrowser(ctx: Mocha.Context, viewport = { width: 1280, height: 900 }): Promise<OpenBrowser> {
  if (!existsSync(CHROMIUM) && process.env['CI'] !== 'true') ctx.skip();
  return launchChromium(viewport);
}

/** Debian's chromium, headless, in a fresh user-data-dir, at `viewport` (a benchmark's: no test to skip). */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<OpenBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; .ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
