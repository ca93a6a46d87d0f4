/**
 * Headless Chromium for the report tests (Debian's `chromium`, driven by playwright-core). A page
 * is opened from a file:// URL as a person opens a saved report, and everything it does is
 * recorded: console errors, uncaught exceptions, and every request besides the page itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** NBOPS_CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH; a clear error when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.NBOPS_CHROMIUM?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new Error(
        `NBOPS_CHROMIUM=${fromEnv} does not exist: point it at a Chromium binary, or unset it and install Debian chromium (\`sudo apt-get install chromium\`)`,
      );
    return fromEnv;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    const onPath = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    if (onPath) return onPath;
  } catch {
    // not on PATH either
  }
  throw new Error(
    'No Chromium for the report browser tests: install Debian chromium (`sudo apt-get install chromium`) or set NBOPS_CHROMIUM to a Chromium binary.',
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
}

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  /** URLs requested besides the page itself. */
  requests: string[];
}

export async function openFile(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const url = pathToFileURL(file).href;
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}
