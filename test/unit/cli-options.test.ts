/** A pipeline's options from its schema: `longhaul run <pipeline> --help`, and errors in the user's words. */
import { describe, expect, it } from 'vitest';
import { describeOptions, inputErrorText, pipelineHelp } from '../../src/cli/options';
import { PIPELINES } from '../../src/pipelines';

const errorOf = (name: string, raw: unknown) => {
  const def = PIPELINES[name];
  const res = def.input.safeParse(raw);
  if (res.success) throw new Error(`expected ${name} to refuse ${JSON.stringify(raw)}`);
  return inputErrorText(def, res.error);
};

describe('pipeline options from the schema', () => {
  it.each(Object.keys(PIPELINES))('%s: every option has a one-line description and a type', (name) => {
    const options = describeOptions(PIPELINES[name]);
    expect(options.length).toBeGreaterThan(0);
    for (const o of options) {
      expect(o.description, `${name} ${o.flag}`).toMatch(/^\S.{5,110}$/);
      expect(o.type, `${name} ${o.flag}`).not.toMatch(/^(pipe|transform|custom|unknown)/);
    }
    // The example uses only options the pipeline has.
    for (const key of Object.keys(PIPELINES[name].example))
      expect(
        options.map((o) => o.key),
        `${name} example`,
      ).toContain(key);
  });

  it('dailymotion-report --help: flags, types in words, defaults, required, the enum values, an example', () => {
    const help = pipelineHelp(PIPELINES['dailymotion-report']);
    expect(help).toMatch(/^longhaul run dailymotion-report — /);
    expect(help).toMatch(/--window-days +Days per report.*\n +integer 1–180; default 30\n/);
    expect(help).toMatch(
      /--metrics +The report’s metrics\n +required; list of names \(62 values, listed below\), ≥ 1 items \(comma-separated\)\n +AD_ERRORS, /,
    );
    expect(help).toMatch(/--start-date +First day of data\n +required; date: YYYY-MM-DD, today, yesterday or today-N/);
    expect(help).toMatch(/--write-mode .*\n +one of replace\|append; default replace/);
    expect(help).toMatch(/TIME_WATCHED_SECONDS/); // a metric listed in full
    expect(help).toMatch(
      /\nExample: longhaul run dailymotion-report --metrics VIEWS,TIME_WATCHED_SECONDS --dimensions /,
    );
    const poll = describeOptions(PIPELINES['dailymotion-report']).find((o) => o.key === 'poll')!;
    expect(poll.default).toMatchObject({ initialDelay: 10_000, factor: 1.5 });
    expect(poll.required).toBe(false);
  });

  it('durations, switches and optional lists are named as such', () => {
    const selftest = describeOptions(PIPELINES.selftest);
    expect(selftest.find((o) => o.key === 'sleep')).toMatchObject({
      flag: '--sleep',
      type: 'duration (e.g. 10s, 5m, 2h, or milliseconds)',
      default: 1000,
      required: false,
    });
    const enrich = describeOptions(PIPELINES['youtube-enrich']);
    expect(enrich.find((o) => o.key === 'dryRun')).toMatchObject({ flag: '--dry-run', type: 'switch', default: false });
    expect(enrich.find((o) => o.key === 'ids')).toMatchObject({ list: true, required: false });
    expect(enrich.find((o) => o.key === 'ids')!.type).toBe('list of text, 1–50000 items (comma-separated)');
  });

  it('errors name the flag, say what is wrong in words, and give an example', () => {
    expect(errorOf('dailymotion-report', { startDate: '2026-01-01', endDate: '2026-01-05' })).toBe(
      'Invalid input for dailymotion-report:\n' +
        '  --metrics: required, comma-separated, e.g. VIEWS,TIME_WATCHED_SECONDS\n' +
        '  --dimensions: required, comma-separated, e.g. DAY,VIDEO_ID',
    );
    const base = { metrics: ['VIEWS'], dimensions: ['DAY'], startDate: '2026-01-01', endDate: '2026-01-05' };
    expect(errorOf('dailymotion-report', { ...base, windowDays: 181 })).toBe(
      'Invalid input for dailymotion-report: --window-days: at most 180',
    );
    expect(errorOf('dailymotion-report', { ...base, metrics: ['VIEWS', 'VIEWZ'] })).toMatch(
      /^Invalid input for dailymotion-report: --metrics \(item 2\): not a valid value; one of AD_ERRORS, .*… \(62 in all\)$/,
    );
    expect(errorOf('dailymotion-report', { ...base, product: 'TELEVISION' })).toBe(
      'Invalid input for dailymotion-report: --product: not a valid value; one of ALL, CLAIM, CONTENT, EMBED',
    );
    expect(errorOf('dailymotion-report', { ...base, windowDays: 'ten' })).toBe(
      'Invalid input for dailymotion-report: --window-days: expected number',
    );
    expect(errorOf('youtube-enrich', { ids: [] })).toBe('Invalid input for youtube-enrich: --ids: at least one value');
    expect(errorOf('datorama-rerun', { jobs: ['1:x'] })).toMatch(
      /^Invalid input for datorama-rerun: --jobs \(item 1\): expected stream:job \(e\.g\. 10001:700002\)/,
    );
    // A pipeline's own rule keeps its words, under the flag it names.
    expect(errorOf('titelive', { category: 'LIVRE' })).toBe(
      'Invalid input for titelive: --min-modified-date: give minModifiedDate, or incremental: true',
    );
  });
});
