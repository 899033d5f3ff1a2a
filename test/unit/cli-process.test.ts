import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/longhaul.js');

async function longhaul(...args: string[]) {
  return exec(process.execPath, [BIN, ...args], { env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe('the longhaul command', () => {
  it('refuses invalid input before contacting Temporal, naming the field, exit code 2', async () => {
    const r = await longhaul('run', 'selftest', '--sleep', 'whenever');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Invalid input for selftest: --sleep: Invalid duration "whenever"/);
  });
  it('says clearly when Temporal cannot be reached', async () => {
    const r = await longhaul('run', 'selftest');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach Temporal at 127.0.0.1:1/);
  });
});
