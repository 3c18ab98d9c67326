// The browser the console tests drive: Debian's Chromium (.ci/run installs it), through
// playwright-core, which downloads no browser of its own. A missing browser is a failure that
// says what to install, never a skip.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where the browser is; XMPPD_TEST_CHROMIUM points elsewhere (a Chrome on another system). */
export const CHROMIUM = process.env.XMPPD_TEST_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(process.env.CI === 'true'
      ? `${CHROMIUM} is missing although .ci/run installs it (apt-get install chromium): see that step's output`
      : `the console tests need Chromium at ${CHROMIUM}: install it (Debian: apt-get install chromium), or set XMPPD_TEST_CHROMIUM to a Chromium or Chrome binary`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Chromium refuses to run as root with its sandbox on (CI and containers run as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** A page whose Content-Security-Policy violations and uncaught errors are collected, to assert none. */
export async function watchedPage(browser: Browser): Promise<{ page: Page; cspViolations: string[]; pageErrors: string[] }> {
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  return { page, cspViolations, pageErrors };
}

/** Waits until the locator's element shows `text`. */
export async function shows(page: Page, selector: string, text: string | RegExp): Promise<void> {
  await page.locator(selector).filter({ hasText: text }).first().waitFor();
}

/** Logs in to the console at `base` through its form; resolves on the dashboard. */
export async function logInAs(page: Page, base: string, jid: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('JID').fill(jid);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await shows(page, '#node-state', 'running');
}

/** Answers the page's confirmations: each is accepted unless refuseNext() was called before it; `asked` holds what each said. */
export function confirmations(page: Page): { asked: string[]; refuseNext(): void } {
  const asked: string[] = [];
  let refuse = false;
  page.on('dialog', (dialog) => {
    asked.push(dialog.message());
    void (refuse ? dialog.dismiss() : dialog.accept());
    refuse = false;
  });
  return { asked, refuseNext: () => { refuse = true; } };
}
