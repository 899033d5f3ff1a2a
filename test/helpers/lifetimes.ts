/** How long the servers a test file starts (sandboxes) live: its whole run, or one test. */
import { afterAll, afterEach, beforeAll } from 'vitest';

/** Something a test starts and must stop: a sandbox or another server. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/** Inside a test file or `describe`: `server` started before its tests and stopped after them; returns it. */
export function startedForFile<S extends Stoppable & { start(): Promise<unknown> }>(server: S): S {
  beforeAll(async () => {
    await server.start();
  });
  afterAll(() => server.stop());
  return server;
}

/**
 * Inside a test file or `describe`: returns `stopLater`, which hands back the server it is given and has it
 * stopped after the test it was given in (a failed test's too).
 */
export function stoppedAfterEach(): <S extends Stoppable>(server: S) => S {
  const running: Stoppable[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });
  return (server) => {
    running.push(server);
    return server;
  };
}
