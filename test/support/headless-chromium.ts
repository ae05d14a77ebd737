/**
 * Debian's Chromium (never a downloaded browser), headless through playwright-core, with a fresh profile, for the
 * demo page's browser tests. Tests are skipped with the reason printed when it is missing, unless
 * RBP_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep the browser off the network and quiet: it only ever talks to the loopback page. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Why the browser tests cannot run here, or null when /usr/bin/chromium exists. */
export function chromiumUnavailable(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is missing (apt-get install -y chromium; RBP_REQUIRE_BROWSER=1 makes this a failure)`;
}

/**
 * `describe` for browser tests: skipped with the reason printed when Chromium is missing, a failing test instead
 * when RBP_REQUIRE_BROWSER=1. `inner` wraps the body (e.g. describeWithHosts), so both requirements combine.
 */
export function describeWithBrowser(
  name: string,
  fn: () => void,
  env: NodeJS.ProcessEnv = process.env,
  inner: (name: string, fn: () => void) => void = describe,
): void {
  const reason = chromiumUnavailable();
  if (!reason) {
    inner(name, fn);
    return;
  }
  if (env.RBP_REQUIRE_BROWSER === '1') {
    describe(name, () => {
      it('needs Chromium (RBP_REQUIRE_BROWSER=1)', () => {
        throw new Error(`browser unavailable: ${reason}`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${reason}`);
  describe.skip(name, () => {
    it(`needs Chromium: ${reason}`, () => undefined);
  });
}

/** Launches headless Chromium with a fresh --user-data-dir and returns its first page. */
export async function launchHeadlessChromium(viewport = { width: 1280, height: 1000 }): Promise<HeadlessChromium> {
  const profileDir = mkdtempSync(join(tmpdir(), 'rbp-chromium-'));
  try {
    // playwright-core adds --headless and --user-data-dir=<profileDir> itself.
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      context,
      page,
      async close() {
        await context.close();
        rmSync(profileDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profileDir, { recursive: true, force: true });
    throw err;
  }
}
