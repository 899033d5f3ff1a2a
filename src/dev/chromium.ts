/**
 * Debian's Chromium as the dashboard tests and `npm run screenshots` launch it (playwright-core with an
 * executable path; no browser download). The flags keep it headless and off this machine's closed network:
 * without the background-networking ones it keeps trying to reach Google's hosts.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
