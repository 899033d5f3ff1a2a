/**
 * The Dailymotion sandbox itself, over raw HTTP: OAuth2 error bodies and the expired-token header,
 * GraphQL shapes (enum coercion errors, aliased asks, paged links with literal arguments), seeded and
 * deterministic rows (time labels, filters, overlapping windows, CSV quoting), and the admin routes.
 */
import axios, { type AxiosResponse } from 'axios';
import { parse as parseSync } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { AskReportInput } from '../../src/pipelines/dailymotion/connector/enums';
import { TIME_DIMENSIONS } from '../../src/pipelines/dailymotion/connector/enums';
import {
  DailymotionSandbox,
  DM_SANDBOX_CLIENT_ID,
  DM_SANDBOX_CLIENT_SECRET,
  DM_SANDBOX_PASSWORD,
  DM_SANDBOX_USERNAME,
} from '../../src/pipelines/dailymotion/sandbox';
import { Catalog } from '../../src/pipelines/dailymotion/sandbox/catalog';
import { csvLine } from '../../src/pipelines/dailymotion/sandbox/csv';
import { planReport, reportRows } from '../../src/pipelines/dailymotion/sandbox/rows';
import { stoppedAfterEach } from '../helpers/lifetimes';

const stopLater = stoppedAfterEach();

const http = axios.create({ validateStatus: () => true });
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

async function start(opts: ConstructorParameters<typeof DailymotionSandbox>[0] = {}) {
  const sandbox = stopLater(new DailymotionSandbox({ seed: 21, ...opts }));
  const url = await sandbox.start();
  const token = async (extra: Record<string, string> = {}) => {
    const res = await http.post(
      `${url}/oauth/v1/token`,
      form({
        grant_type: 'client_credentials',
        client_id: DM_SANDBOX_CLIENT_ID,
        client_secret: DM_SANDBOX_CLIENT_SECRET,
        scope: 'create_reports read_reports',
        ...extra,
      }),
    );
    return res;
  };
  const gql = async (bearer: string, query: string, variables: object = {}): Promise<AxiosResponse> =>
    http.post(`${url}/graphql`, { query, variables }, { headers: { authorization: `Bearer ${bearer}` } });
  return { s: sandbox, url, token, gql };
}

const ASK_DOC =
  'mutation ($input: AskPartnerReportFileInput!) { askPartnerReportFile(input: $input) { reportFile { reportToken } } }';
const ASK: AskReportInput = {
  metrics: ['VIEWS'],
  dimensions: ['DAY', 'VIDEO_ID'],
  startDate: '2025-03-01',
  endDate: '2025-03-02',
};

describe('dailymotion sandbox: OAuth', () => {
  it('answers OAuth2 errors and expiring bearer tokens like the API', async () => {
    const { s, token, gql } = await start({ tokenTtlSec: 60 });
    const ok = await token();
    expect(ok.status).toBe(200);
    expect(ok.data).toMatchObject({ token_type: 'Bearer', expires_in: 60, scope: 'create_reports read_reports' });
    expect(ok.data.refresh_token).toBeUndefined();

    expect((await token({ client_secret: 'nope' })).data).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed',
    });
    expect((await token({ client_secret: 'nope' })).status).toBe(401);
    expect((await token({ grant_type: 'authorization_code' })).data.error).toBe('unsupported_grant_type');
    expect((await token({ scope: 'create_reports upload_videos' })).data.error).toBe('invalid_scope');
    const pw = await token({ grant_type: 'password', username: DM_SANDBOX_USERNAME, password: DM_SANDBOX_PASSWORD });
    expect(pw.data.refresh_token).toEqual(expect.any(String));
    expect((await token({ grant_type: 'password', username: DM_SANDBOX_USERNAME, password: 'x' })).data.error).toBe(
      'invalid_grant',
    );

    const bearer = ok.data.access_token as string;
    expect((await gql(bearer, ASK_DOC, { input: ASK })).status).toBe(200);
    s.clock.advance(60_000);
    const expired = await gql(bearer, ASK_DOC, { input: ASK });
    expect(expired.status).toBe(401);
    expect(expired.headers['www-authenticate']).toMatch(/Bearer .*error="expired_token"/);
    expect(expired.data.error).toBe('expired_token');
    const unknown = await gql('not-a-token', ASK_DOC, { input: ASK });
    expect(unknown.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect((await http.post(`${s.url}/graphql`, { query: ASK_DOC })).status).toBe(401);
  });
});

describe('dailymotion sandbox: GraphQL', () => {
  it('coerces variables like a GraphQL server and answers refusals as HTTP 200 with errors', async () => {
    const { token, gql } = await start();
    const bearer = (await token()).data.access_token as string;
    const badEnum = await gql(bearer, ASK_DOC, { input: { ...ASK, metrics: ['VIEWZ'] } });
    expect(badEnum.status).toBe(200);
    expect(badEnum.data.errors[0].message).toBe(
      'Variable "$input" got invalid value "VIEWZ" at "input.metrics[0]"; Value "VIEWZ" does not exist in "PartnerReportMetric" enum.',
    );
    const badFilter = await gql(bearer, ASK_DOC, { input: { ...ASK, filters: { mediaType: 'AUDIO' } } });
    expect(badFilter.data.errors[0].message).toMatch(/PartnerReportFilterMediaType/);
    const refused = await gql(bearer, ASK_DOC, { input: { ...ASK, metrics: ['UPLOADS'], dimensions: ['HOUR'] } });
    expect(refused.data).toEqual({
      data: { askPartnerReportFile: null },
      errors: [
        {
          message: 'Metric UPLOADS is not compatible with dimension HOUR (Account data)',
          path: ['askPartnerReportFile'],
        },
      ],
    });
    // an ISO datetime is accepted for the DateTime scalar
    const iso = await gql(bearer, ASK_DOC, { input: { ...ASK, startDate: '2025-03-01T00:00:00Z' } });
    expect(iso.data.data.askPartnerReportFile.reportFile.reportToken).toMatch(/^[0-9a-f]{32}$/);
  });

  it('several asks in one request through aliases; the third is refused by the 2-generating limit', async () => {
    const { s, token, gql } = await start({ generationMs: 60_000 });
    const bearer = (await token()).data.access_token as string;
    const doc = `mutation ($a: AskPartnerReportFileInput!, $b: AskPartnerReportFileInput!, $c: AskPartnerReportFileInput!) {
      r1: askPartnerReportFile(input: $a) { reportFile { reportToken } }
      r2: askPartnerReportFile(input: $b) { reportFile { reportToken } }
      r3: askPartnerReportFile(input: $c) { reportFile { reportToken } }
    }`;
    const res = await gql(bearer, doc, { a: ASK, b: ASK, c: ASK });
    expect(Object.keys(res.data.data)).toEqual(['r1', 'r2', 'r3']);
    expect(res.data.data.r1.reportFile.reportToken).not.toBe(res.data.data.r2.reportFile.reportToken);
    expect(res.data.data.r3).toBeNull();
    expect(res.data.errors).toEqual([{ message: expect.stringMatching(/more than 2 reports/), path: ['r3'] }]);
    expect(s.refusedAsks()[0].generatingAtAsk).toBe(2);
  });

  it('pages downloadLinks with literal first/page arguments and reports totalCount', async () => {
    const { s, token, gql } = await start({ generationMs: 0, rowsPerFile: 10 });
    const bearer = (await token()).data.access_token as string;
    const rt = (await gql(bearer, ASK_DOC, { input: ASK })).data.data.askPartnerReportFile.reportFile.reportToken;
    const files = Math.ceil(s.expectedRows(rt).total / 10);
    expect(files).toBeGreaterThan(2);
    const page = async (n: number) =>
      (
        await gql(
          bearer,
          `query ($t: String!) { partner { reportFile(reportToken: $t) { status downloadLinks(first: 2, page: ${n}) { edges { node { link } } pageInfo { hasNextPage nextPage } totalCount } } } }`,
          { t: rt },
        )
      ).data.data.partner.reportFile;
    const p1 = await page(1);
    expect(p1.status).toBe('FINISHED');
    expect(p1.downloadLinks.edges).toHaveLength(2);
    expect(p1.downloadLinks.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, nextPage: 2 });
    expect(p1.downloadLinks.totalCount).toBe(files);
    const lastPage = await page(Math.ceil(files / 2));
    expect(lastPage.downloadLinks.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, nextPage: null });
    const unknown = await gql(bearer, 'query ($t: String!) { partner { reportFile(reportToken: $t) { status } } }', {
      t: 'nope',
    });
    expect(unknown.data).toEqual({
      data: { partner: { reportFile: null } },
      errors: [{ message: 'Report file not found', path: ['partner', 'reportFile'] }],
    });
  });
});

describe('dailymotion sandbox: rows', () => {
  it('the catalog covers every dimension but the time ones', () => {
    expect(new Catalog({ seed: 3 }).uncovered().sort()).toEqual([...TIME_DIMENSIONS].sort());
  });

  it('is deterministic per seed; overlapping windows agree on the shared days', () => {
    const c1 = new Catalog({ seed: 4 });
    const rows = (c: Catalog, seed: number, input: AskReportInput) => [...reportRows(planReport(c, seed, input))];
    const a = rows(c1, 4, ASK);
    expect(rows(new Catalog({ seed: 4 }), 4, ASK)).toEqual(a);
    expect(rows(new Catalog({ seed: 5 }), 5, ASK)).not.toEqual(a);
    const wide = rows(c1, 4, { ...ASK, startDate: '2025-02-27', endDate: '2025-03-01' });
    expect(wide.filter((r) => r[0] === '2025-03-01')).toEqual(a.filter((r) => r[0] === '2025-03-01'));
    const product = rows(c1, 4, { ...ASK, product: 'EMBED' });
    expect(product.map((r) => r.slice(0, 2))).toEqual(a.map((r) => r.slice(0, 2)));
    expect(product).not.toEqual(a);
  });

  it('time labels: minute, hour, day, month; no time dimension = one row per combination', () => {
    const c = new Catalog({ seed: 1, videos: 2 });
    const first = (dims: AskReportInput['dimensions'], start = '2025-01-30', end = '2025-03-02') => {
      const plan = planReport(c, 1, { metrics: ['VIEWS'], dimensions: dims, startDate: start, endDate: end });
      return { plan, rows: [...reportRows(plan)] };
    };
    expect(first(['MONTH']).rows.map((r) => r[0])).toEqual(['2025-01', '2025-02', '2025-03']);
    expect(first(['DAY', 'HOUR'], '2025-01-01', '2025-01-01').rows[5].slice(0, 2)).toEqual([
      '2025-01-01',
      '2025-01-01 05:00:00',
    ]);
    const minutes = first(['MINUTE'], '2025-01-01', '2025-01-01');
    expect(minutes.plan.total).toBe(1440);
    expect(minutes.rows[61][0]).toBe('2025-01-01 01:01:00');
    expect(first(['VIDEO_ID']).plan.total).toBe(2);
  });

  it('filters restrict the entities (an unknown channel empties the report)', () => {
    const c = new Catalog({ seed: 8, videos: 30 });
    const plan = (
      filters: AskReportInput['filters'],
      dims: AskReportInput['dimensions'] = ['DAY', 'VIDEO_ID', 'MEDIA_TYPE'],
    ) => planReport(c, 8, { ...ASK, dimensions: dims, filters });
    const live = [...reportRows(plan({ mediaType: 'LIVE' }))];
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((r) => r[2] === 'LIVE')).toBe(true);
    expect(plan({ mediaType: 'LIVE' }).total + plan({ mediaType: 'VIDEO' }).total).toBe(plan(undefined).total);
    expect(plan({ channelSlug: 'no-such-channel' }, ['DAY']).total).toBe(0);
    expect(plan({ visitorDomainGroup: 'radiosud.com' }, ['VISITOR_PAGE_URL']).total).toBe(1);
  });

  it('CSV fields with commas, quotes and UTF-8 are quoted and read back intact', () => {
    const fields = ['Résumé du match, "le Classique" ⚽🔥', 'sport,football', 'plain', 'line\nbreak'];
    const line = csvLine(fields);
    expect(line).toBe('"Résumé du match, ""le Classique"" ⚽🔥","sport,football",plain,"line\nbreak"\n');
    expect(parseSync(line)).toEqual([fields]);
  });

  it('an empty report still has one file with the header', async () => {
    const { token, gql, s } = await start({ generationMs: 0 });
    const bearer = (await token()).data.access_token as string;
    const input = { ...ASK, filters: { channelSlug: 'no-such-channel' } };
    const rt = (await gql(bearer, ASK_DOC, { input })).data.data.askPartnerReportFile.reportFile.reportToken;
    const [rec] = await s.asks();
    expect([rec.rows, rec.files]).toEqual([0, 1]);
    const link = s.links(s.registry.reports.get(rt)!)[0];
    expect((await http.get(link)).data).toBe('day,video_id,views\n');
  });
});

describe('dailymotion sandbox: admin routes', () => {
  it('settings, asks with timings, expected rows, expiring tokens and reports', async () => {
    const { s, url, token, gql } = await start();
    const admin = `${url}/__sandbox/dailymotion`;
    const set = await http.post(`${admin}/settings`, {
      generationMs: 3 * 3600_000,
      rowsPerFile: 5,
      failureRate: 0,
      bom: true,
    });
    expect(set.data).toMatchObject({
      generationMs: 3 * 3600_000,
      rowsPerFile: 5,
      bom: true,
      maxConcurrent: 2,
      retentionMs: 48 * 3600_000,
    });
    const bearer = (await token()).data.access_token as string;
    const rt = (await gql(bearer, ASK_DOC, { input: ASK })).data.data.askPartnerReportFile.reportFile.reportToken;
    const asks = (await http.get(`${admin}/asks`)).data;
    expect(asks.accepted).toHaveLength(1);
    expect(asks.accepted[0]).toMatchObject({
      token: rt,
      status: 'IN_PROGRESS',
      generatingAtAsk: 1,
      files: Math.ceil(asks.accepted[0].rows / 5),
    });
    expect(asks.accepted[0].readyAt - asks.accepted[0].askedAt).toBe(3 * 3600_000);
    expect(asks).toMatchObject({ refused: [], maxConcurrentGenerating: 1, limit: 2 });

    const expected = (await http.post(`${admin}/expected`, { input: ASK, offset: 1, limit: 2 })).data;
    expect(expected.header).toEqual(['day', 'video_id', 'views']);
    expect(expected.rows).toEqual(s.expectedRows(ASK).rows.slice(1, 3));
    expect((await http.get(`${admin}/reports/${rt}/expected?limit=3`)).data.rows).toEqual(
      s.expectedRows(ASK).rows.slice(0, 3),
    );

    expect((await http.post(`${admin}/tokens/expire`)).status).toBe(204);
    expect((await gql(bearer, ASK_DOC, { input: ASK })).data.error).toBe('expired_token');
    expect((await http.post(`${admin}/reports/${rt}/expire`)).status).toBe(204);
    expect((await s.asks())[0].status).toBe('EXPIRED');
    expect((await http.post(`${admin}/reports/nope/expire`)).status).toBe(404);
    expect((await http.post(`${admin}/fail-next`, { n: 1 })).status).toBe(204);
  });

  it('injected faults carry an OAuth and a GraphQL error shape', async () => {
    const { s, token } = await start();
    s.faults.add({ route: 'token', kind: '503', times: 1 });
    const res = await token();
    expect(res.status).toBe(503);
    expect(res.data).toEqual({
      error: 'server_error',
      error_description: 'Internal server error',
      errors: [{ message: 'Internal server error' }],
    });
  });
});
