/**
 * Headless Chromium for dashboard tests: Debian's `chromium` (CHROMIUM_PATH, default /usr/bin/chromium)
 * driven by playwright-core, in a fresh profile folder that `close()` removes. `bash scripts/setup.sh --all`
 * installs the package.
 */
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../src/dev/chromium';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM_PATH))
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`bash scripts/setup.sh --all\` or set CHROMIUM_PATH`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
