import { existsSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Browser, chromium, Page } from 'playwright-core';

// Debian's Chromium, driven by playwright-core (which downloads no browser of its own).
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Chromium is a system package, not an npm one: `npm test` on a machine without it skips the
// dashboard specs and says why; CI (.ci/run) installs it and sets REQUIRE_CHROMIUM=1.
export const canDrive = existsSync(CHROMIUM) || process.env.REQUIRE_CHROMIUM === '1';
if (!canDrive) {
  console.warn(
    `Skipping the dashboard browser test: no Chromium at ${CHROMIUM}. ` +
      'Install it (`apt-get install -y chromium`) or set CHROMIUM_PATH to run it.',
  );
}

export interface ShownElement {
  dataset: Record<string, string>;
  textContent: string | null;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The dashboard test drives headless Chromium at ${CHROMIUM}, which is not installed. ` +
        `Install it with \`apt-get install -y chromium\` (Debian/Ubuntu, as root), ` +
        `or point CHROMIUM_PATH at a Chromium or Chrome binary.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-gpu',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function listen(app: NestFastifyApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

/** Everything the page logs as an error or throws, CSP refusals included. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      errors.push(message.text());
    }
  });
  return errors;
}

export const loaded = (page: Page) =>
  page.waitForSelector('body[data-refreshes]', { timeout: 20_000 });
export const shown = (page: Page, id: string) =>
  page.$eval(`#${id}`, (e: ShownElement) => ({ value: e.dataset.value, text: e.textContent }));
export const tableRows = (page: Page, id: string) =>
  page.$$eval(`#${id} tbody tr`, (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
  );
