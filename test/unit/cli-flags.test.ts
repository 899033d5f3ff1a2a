import { describe, expect, it } from 'vitest';
import { flagsToInput, pipelineArgs } from '../../src/cli/flags';
import { buildInput, pipelineByName } from '../../src/cli/run';
import { parseDuration, formatDuration } from '../../src/shared/durations';

describe('flagsToInput', () => {
  it('maps kebab-case flags to camelCase keys and parses scalars and lists', () => {
    expect(
      flagsToInput(
        ['--start-date', '2026-01-01', '--window-days=10', '--dry-run', '--metrics', 'VIEWS, TIME_WATCHED_SECONDS'],
        ['metrics'],
      ),
    ).toEqual({ startDate: '2026-01-01', windowDays: 10, dryRun: true, metrics: ['VIEWS', 'TIME_WATCHED_SECONDS'] });
  });
  it('refuses positional arguments', () => {
    expect(() => flagsToInput(['oops'])).toThrow(/Unexpected argument "oops"/);
  });
});

describe('pipelineArgs', () => {
  it("takes out the command's own options, with their values, and keeps the pipeline's", () => {
    expect(
      pipelineArgs(
        ['--input', 'in.json', '--sleep', '5s', '--wait', '--id', 'x', '--label', 'a'],
        ['--input', '--id'],
        ['--wait'],
      ),
    ).toEqual(['--sleep', '5s', '--label', 'a']);
  });
});

describe('buildInput', () => {
  it('validates against the pipeline schema and names the bad field', () => {
    expect(() => buildInput(pipelineByName('selftest'), {}, ['--sleep', 'later'])).toThrow(
      /sleep: Invalid duration "later"/,
    );
    expect(buildInput(pipelineByName('selftest'), {}, ['--sleep', '2m'])).toEqual({
      sleep: 120_000,
      label: 'selftest',
    });
  });
  it('refuses an unknown pipeline with the list of known ones', () => {
    expect(() => pipelineByName('nope')).toThrow(/Unknown pipeline "nope". Known: .*selftest/);
  });
  it('refuses an unreadable or invalid --input file', () => {
    expect(() => buildInput(pipelineByName('selftest'), { input: '/nonexistent.json' }, [])).toThrow(
      /Cannot read --input/,
    );
  });
});

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('2h30m')).toBe(9_000_000);
    expect(parseDuration('1500')).toBe(1500);
    expect(() => parseDuration('2 hours')).toThrow(/Invalid duration/);
    expect(formatDuration(9_000_000)).toBe('2h30m');
  });
});

describe('buildInput --input file errors', () => {
  it('never quote the file: a broken or non-object file is refused by position and kind only', async () => {
    const { default: fs } = await import('node:fs');
    const { default: os } = await import('node:os');
    const { default: path } = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-input-'));
    const secret = 'API_KEY=sk-live-0123456789abcdef';
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, secret);
    const scalar = path.join(dir, 'scalar.json');
    fs.writeFileSync(scalar, JSON.stringify(secret));
    const selftest = pipelineByName('selftest');
    for (const [file, message] of [
      [broken, /--input .*broken\.json is not valid JSON( \(at character \d+\))?$/],
      [scalar, /--input .*scalar\.json must hold a JSON object \(the pipeline's options\), not a string$/],
    ] as const) {
      let err: Error | undefined;
      try {
        buildInput(selftest, { input: file }, []);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toMatch(message);
      expect(err?.message).not.toContain('sk-live');
    }
  });
});
