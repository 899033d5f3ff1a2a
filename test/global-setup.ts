/**
 * Starts the real Temporal servers once for the whole suite — the Java time-skipping test server (on a
 * fixed port: a cold JVM on 2 cores can miss the SDK's 5-second start window) and a headless dev server
 * — and bundles the workflow code once. Test files read the addresses from the environment.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, startTimeSkippingServer, type RunningServer } from '../src/dev/servers';
import { workflowsEntry } from '../src/workflow-entry';

const ROOT = path.resolve(__dirname, '..');

export default async function setup(): Promise<(() => Promise<void>) | void> {
  if (process.env.LONGHAUL_TEST_DEV_ADDRESS) return; // already started (one setup per process)
  const logDir = path.join(ROOT, 'test-results');
  fs.mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  const started: RunningServer[] = [];
  try {
    const [ts, dev, bundle] = await Promise.all([
      startTimeSkippingServer({ logFile: path.join(logDir, 'test-server.log') }).then((s) => (started.push(s), s)),
      startDevServer({ headless: true, logFile: path.join(logDir, 'dev-server.log') }).then(
        (s) => (started.push(s), s),
      ),
      bundleWorkflowCode({
        workflowsPath: workflowsEntry(),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
      }),
    ]);
    // One file per test run: several runs on one machine must not overwrite each other's bundle.
    const bundlePath = path.join(ROOT, '.longhaul', 'cache', `workflow-bundle-${process.pid}.js`);
    fs.mkdirSync(path.dirname(bundlePath), { recursive: true });
    fs.writeFileSync(bundlePath, bundle.code);
    process.env.LONGHAUL_TEST_TS_PORT = String(ts.port);
    process.env.LONGHAUL_TEST_DEV_ADDRESS = dev.address;
    process.env.LONGHAUL_TEST_BUNDLE = bundlePath;
    console.log(
      `[global-setup] time-skipping server :${ts.port}, dev server ${dev.address}, bundle ready in ${Date.now() - t0} ms`,
    );
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return async () => {
    await Promise.all(started.map((s) => s.stop()));
    fs.rmSync(process.env.LONGHAUL_TEST_BUNDLE!, { force: true });
  };
}
