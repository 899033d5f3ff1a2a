/**
 * The Datorama platform API sandbox (contract: ../shared/api-contracts.md, Datorama section), under /v1:
 * workspaces, data streams (GET, PATCH merges, PUT replaces and clears omitted fields), process (one
 * stream, or several with the same dates in one call; ranges over 10 days become several jobs), rerun,
 * rerun-all, paged stats (newest first), single stat, bulk status, dimensions, patterns, harmonized
 * dimensions and calculated measurements. `Authorization: <token>` (no "Bearer"); per-token limits and
 * headers in limits.ts. Jobs move PENDING → IN_PROGRESS → SUCCESS/FAILURE on the sandbox clock. The
 * framework logs every call; `note()` adds the token fingerprint and the actions (stream, job, range).
 */
import { fingerprint } from '../../../node/fingerprint';
import { HttpError, SandboxServer, type Handler, type SandboxRequest } from '../../../sandbox/server';
import { iso, jobStatus, jobTiming, seedData, workspaceModel, type Job, type Stream } from './data';
import { TokenLimits } from './limits';

export const DATORAMA_DEMO_TOKEN = 'longhaul-demo-datorama-token';
const DAY = 86_400_000;
const MAX_JOB_DAYS = 10;

export interface DatoramaSandboxOptions {
  seed?: number;
  tokens?: string[];
  perMinute?: number;
  perDay?: number;
  workspaces?: number;
  streams?: number;
  maxJobs?: number;
  failEvery?: number;
  /** Sandbox time used to seed historical jobs (default: the clock at construction, real time). */
  seedNow?: number;
  /**
   * A refused batch says only "Bad Request" (not which stream): the platform documents no wording, so a
   * client must not depend on ours.
   */
  genericErrors?: boolean;
  /**
   * Behaviours the client infers but the contract does not state (docs/datorama.md, "Assumptions"), each
   * switched to the other way, so tests show the client does not depend on them.
   */
  assumptions?: DatoramaAssumptionSwitches;
}

export interface DatoramaAssumptionSwitches {
  /** A rerun creates a new job (a new id, the same dates) and leaves the old one as it was. */
  rerunNewJob?: boolean;
  /** A rerun restarts the job (same id) without moving its updateTime. */
  rerunKeepsUpdateTime?: boolean;
  /** The jobs of a process answer carry no dataStreamId. */
  noStreamIdInProcessAnswer?: boolean;
  /** Stream listings and bulk status carry no processStatsCounts. */
  noProcessStatsCounts?: boolean;
}

/** One action a call made, as recorded in the sandbox log (tests compare job logs with these). */
export interface LoggedAction {
  stream: number;
  job?: number;
  start?: string;
  end?: string;
  fields?: string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const bad = (msg: string) => new HttpError(400, { errors: msg });
const notFound = (what: string) => new HttpError(404, { errors: `${what} not found` });

export class DatoramaSandbox extends SandboxServer {
  readonly limits: TokenLimits;
  readonly tokens: Set<string>;
  readonly data: ReturnType<typeof seedData>;
  private nextJobId: number;
  private readonly genericErrors: boolean;
  private readonly assume: DatoramaAssumptionSwitches;

  constructor(o: DatoramaSandboxOptions = {}) {
    super('datorama', { seed: o.seed, errorBody: (s) => ({ errors: s === 429 ? 'Too Many Requests' : `Error ${s}` }) });
    this.limits = new TokenLimits(o.perMinute ?? 60, o.perDay ?? 20_000);
    this.tokens = new Set(o.tokens ?? [DATORAMA_DEMO_TOKEN]);
    this.data = seedData({ ...o, now: o.seedNow ?? Date.now() });
    this.nextJobId = this.data.nextJobId;
    this.genericErrors = o.genericErrors ?? false;
    this.assume = o.assumptions ?? {};
    const r = (method: string, path: string, name: string, h: Handler) => this.route(method, path, name, this.guard(h));
    // What the listings served goes to the truth too (tests compare collected tables with it).
    r('GET', '/v1/workspaces', 'workspaces', (q) => {
      q.truth('served', { what: 'workspaces', ids: this.data.workspaces.map((w) => w.id) });
      return { body: this.data.workspaces };
    });
    r('GET', '/v1/workspaces/:ws', 'workspace', (q) => ({ body: this.workspace(q.params.ws) }));
    r('GET', '/v1/workspaces/:ws/data-streams', 'streams', async (q) => {
      const ws = this.workspace(q.params.ws);
      const now = await this.clock.now();
      const streams = this.data.streams.filter((s) => s.workspaceId === ws.id);
      q.truth('served', { what: 'streams', workspace: ws.id, ids: streams.map((s) => s.id) });
      return { body: streams.map((s) => this.summary(s, now)) };
    });
    r('GET', '/v1/workspaces/:ws/data-streams/status/bulk', 'status-bulk', async (q) => {
      const ws = this.workspace(q.params.ws);
      const ids = (q.query.get('ids') ?? '').split(',').filter(Boolean).map(Number);
      const now = await this.clock.now();
      const out = ids.map((id) => this.stream(id)).filter((s) => s.workspaceId === ws.id);
      return { body: out.map((s) => this.summary(s, now)) };
    });
    r('GET', '/v1/data-streams/:id', 'stream', async (q) => ({
      body: this.full(this.stream(q.params.id), await this.clock.now()),
    }));
    r('PATCH', '/v1/data-streams/:id', 'patch', (q) => this.update(q, false));
    r('PUT', '/v1/data-streams/:id', 'put', (q) => this.update(q, true));
    r('POST', '/v1/data-streams/process', 'process-bulk', (q) => {
      const b = q.json<{ dataStreamIds?: unknown; startDate?: string; endDate?: string }>();
      if (!Array.isArray(b.dataStreamIds) || b.dataStreamIds.length === 0)
        throw bad('dataStreamIds must be a non-empty array');
      return this.process(q, b.dataStreamIds as unknown[], b.startDate, b.endDate);
    });
    r('POST', '/v1/data-streams/:id/process', 'process', (q) => {
      const b = q.json<{ startDate?: string; endDate?: string }>();
      return this.process(q, [q.params.id], b.startDate, b.endDate);
    });
    r('POST', '/v1/data-streams/api/:id/rerun', 'rerun', (q) => {
      const ids = q.json<unknown>();
      if (!Array.isArray(ids) || ids.length === 0) throw bad('body must be a non-empty array of job ids');
      return this.rerun(q, 'rerun', this.stream(q.params.id), ids as unknown[]);
    });
    r('POST', '/v1/data-streams/api/:id/rerun-all', 'rerun-all', (q) => {
      const s = this.stream(q.params.id);
      return this.rerun(
        q,
        'rerun-all',
        s,
        this.data.jobs.filter((j) => j.dataStreamId === s.id).map((j) => j.id),
      );
    });
    r('POST', '/v1/data-streams/api/:id/stats', 'stats', async (q) => {
      const s = this.stream(q.params.id);
      const b = q.json<{ pageSize?: number; pageNumber?: number }>();
      const size = b.pageSize ?? 100;
      const page = b.pageNumber ?? 1;
      if (!Number.isInteger(size) || size < 1 || size > 1000) throw bad('pageSize must be 1..1000');
      if (!Number.isInteger(page) || page < 1) throw bad('pageNumber must be ≥ 1');
      const now = await this.clock.now();
      const all = this.data.jobs
        .filter((j) => j.dataStreamId === s.id)
        .sort((a, c) => c.createTime - a.createTime || c.id - a.id);
      this.note({ stream: s.id, page });
      const served = all.slice((page - 1) * size, page * size);
      q.truth('served', { what: 'stats', stream: s.id, page, ids: served.map((j) => j.id) });
      return { body: served.map((j) => this.job(j, now)) };
    });
    r('GET', '/v1/data-stream-stat/:statId', 'stat', async (q) => {
      const j = this.data.jobs.find((x) => x.id === Number(q.params.statId));
      if (!j) throw notFound(`Data stream stat ${q.params.statId}`);
      return { body: this.job(j, await this.clock.now()) };
    });
    const model = (name: 'dimensions' | 'patterns' | 'harmonized' | 'calculated') => (q: SandboxRequest) => ({
      body: workspaceModel(this.workspace(q.params.ws))[name],
    });
    r('GET', '/v1/workspaces/:ws/dimensions', 'dimensions', model('dimensions'));
    r('GET', '/v1/workspaces/:ws/patterns', 'patterns', model('patterns'));
    r('GET', '/v1/workspaces/:ws/harmonized-dimensions', 'harmonized-dimensions', model('harmonized'));
    r('GET', '/v1/workspaces/:ws/calculated-measurements', 'calculated-measurements', model('calculated'));
  }

  /** Accepted platform calls of the log (status ≠ 429/401), optionally by route. */
  calls(route?: string) {
    return this.log.filter((e) => e.status !== 429 && e.status !== 401 && (!route || e.route === route));
  }

  /** Auth, limits and the rate-limit headers on every answer (errors included). */
  private guard(h: Handler): Handler {
    return async (req) => {
      const token = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
      if (!token || /^Bearer /i.test(token) || !this.tokens.has(token))
        throw new HttpError(401, { errors: 'Invalid or missing API token' });
      const now = await this.clock.now();
      const d = this.limits.take(token, now);
      this.note({ token: fingerprint(token) });
      if (!d.allowed) {
        this.note({ limited: d.scope });
        throw new HttpError(429, { errors: 'Too Many Requests' }, d.headers);
      }
      try {
        const out = await h(req);
        return { ...out, headers: { ...out.headers, ...d.headers } };
      } catch (err) {
        if (err instanceof HttpError) throw new HttpError(err.status, err.body, { ...err.headers, ...d.headers });
        throw err;
      }
    };
  }

  private workspace(id: string) {
    const ws = this.data.workspaces.find((w) => w.id === Number(id));
    if (!ws) throw notFound(`Workspace ${id}`);
    return ws;
  }

  private stream(id: unknown): Stream {
    const s = this.data.streams.find((x) => x.id === Number(id));
    if (!s) throw notFound(`Data stream ${String(id)}`);
    return s;
  }

  private job(j: Job, now: number) {
    const status = jobStatus(j, now);
    return {
      id: j.id,
      dataStreamId: j.dataStreamId,
      workspaceId: j.workspaceId,
      status,
      type: j.type,
      dataStartDate: j.dataStartDate,
      dataEndDate: j.dataEndDate,
      createTime: j.createTime,
      updateTime: j.updateTime,
      startTime: status === 'PENDING' ? null : j.startAt,
      endTime: status === 'SUCCESS' || status === 'FAILURE' ? j.endAt : null,
      rowsProcessed: status === 'SUCCESS' ? j.rowsProcessed : 0,
      rerunCount: j.rerunCount,
      processLog:
        status === 'FAILURE' ? 'ERROR: the data source refused the credentials (token expired)' : `status ${status}`,
    };
  }

  private summary(s: Stream, now: number) {
    const jobs = this.data.jobs.filter((j) => j.dataStreamId === s.id);
    const counts: Record<string, number> = { SUCCESS: 0, FAILURE: 0, IN_PROGRESS: 0, PENDING: 0 };
    let last: Job | undefined;
    let lastOk: Job | undefined;
    for (const j of jobs) {
      const st = jobStatus(j, now);
      counts[st]++;
      if (!last || j.createTime >= last.createTime) last = j;
      if (st === 'SUCCESS' && (!lastOk || j.dataEndDate >= lastOk.dataEndDate)) lastOk = j;
    }
    return {
      id: s.id,
      name: s.name,
      workspaceId: s.workspaceId,
      dataSourceName: s.dataSourceName,
      enabled: s.enabled,
      lastRunStatus: last ? jobStatus(last, now) : null,
      lastDataDate: lastOk?.dataEndDate ?? null,
      ...(this.assume.noProcessStatsCounts ? {} : { processStatsCounts: counts }),
      lastRowsProcessed: lastOk?.rowsProcessed ?? 0,
      createTime: s.createTime,
      updateTime: s.updateTime,
    };
  }

  private full(s: Stream, now: number) {
    return {
      ...this.summary(s, now),
      dataSourceId: s.dataSourceId,
      timezone: s.timezone,
      description: s.description,
      schedule: s.schedule,
      config: s.config,
    };
  }

  private static readonly EDITABLE = ['name', 'enabled', 'timezone', 'description', 'schedule', 'config'] as const;

  private async update(q: SandboxRequest, replace: boolean) {
    const s = this.stream(q.params.id);
    const body = q.json<Record<string, unknown>>();
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body must be a JSON object');
    for (const k of Object.keys(body))
      if (!['id', 'workspaceId', ...DatoramaSandbox.EDITABLE].includes(k)) throw bad(`Unknown field "${k}"`);
    if ('id' in body && Number(body.id) !== s.id) throw bad('id cannot change');
    if ('workspaceId' in body && Number(body.workspaceId) !== s.workspaceId) throw bad('workspaceId cannot change');
    if ('name' in body && (typeof body.name !== 'string' || !body.name.trim()) && !(replace && body.name == null))
      throw bad('name must be a non-empty string');
    if ('enabled' in body && typeof body.enabled !== 'boolean') throw bad('enabled must be a boolean');
    const now = await this.clock.now();
    const target = s as unknown as Record<string, unknown>;
    for (const k of DatoramaSandbox.EDITABLE) {
      // PUT replaces the stream: a field left out is cleared. PATCH changes only what it names.
      if (k in body) target[k] = body[k];
      else if (replace) target[k] = null;
    }
    s.updateTime = now;
    const fields = Object.keys(body).sort();
    q.truth('applied', {
      action: replace ? 'put' : fields.length === 1 && fields[0] === 'name' ? 'rename' : 'patch',
      stream: s.id,
      fields,
    });
    this.note({ actions: [{ stream: s.id, fields: Object.keys(body).sort() }] satisfies LoggedAction[] });
    return { body: this.full(s, now) };
  }

  private async process(q: SandboxRequest, ids: unknown[], startDate?: string, endDate?: string) {
    if (!startDate || !endDate || !DATE.test(startDate) || !DATE.test(endDate))
      throw bad('startDate and endDate are required (YYYY-MM-DD)');
    const from = Date.parse(`${startDate}T00:00:00Z`);
    const to = Date.parse(`${endDate}T00:00:00Z`);
    if (Number.isNaN(from) || Number.isNaN(to) || iso(from) !== startDate || iso(to) !== endDate)
      throw bad('invalid date');
    if (to < from) throw bad('endDate is before startDate');
    // Any unknown or disabled stream refuses the whole call.
    let streams: Stream[];
    try {
      streams = ids.map((id) => this.stream(id));
    } catch (err) {
      if (this.genericErrors && err instanceof HttpError) throw new HttpError(err.status, { errors: 'Not Found' });
      throw err;
    }
    const disabled = streams.find((s) => s.enabled === false);
    if (disabled) throw bad(this.genericErrors ? 'Bad Request' : `Data stream ${disabled.id} is disabled`);
    const now = await this.clock.now();
    const created: Job[] = [];
    for (const s of streams) {
      // The platform splits a range into jobs of at most 10 days.
      for (let a = from; a <= to; a += MAX_JOB_DAYS * DAY) {
        const b = Math.min(to, a + (MAX_JOB_DAYS - 1) * DAY);
        const id = this.nextJobId++;
        const days = Math.round((b - a) / DAY) + 1;
        created.push({
          id,
          dataStreamId: s.id,
          workspaceId: s.workspaceId,
          dataStartDate: iso(a),
          dataEndDate: iso(b),
          type: 'PROCESS',
          createTime: now,
          updateTime: now,
          ...jobTiming(id, days, now),
          fails: s.failing,
          rowsProcessed: days * 1_000 + (id % 997),
          rerunCount: 0,
        });
      }
    }
    this.data.jobs.push(...created);
    for (const j of created)
      q.truth('applied', {
        action: 'process',
        stream: j.dataStreamId,
        job: j.id,
        start: j.dataStartDate,
        end: j.dataEndDate,
      });
    this.note({
      actions: created.map((j): LoggedAction => ({
        stream: j.dataStreamId,
        job: j.id,
        start: j.dataStartDate,
        end: j.dataEndDate,
      })),
    });
    const body = created.map((j) => this.job(j, now));
    return { body: this.assume.noStreamIdInProcessAnswer ? body.map(({ dataStreamId: _, ...j }) => j) : body };
  }

  private async rerun(q: SandboxRequest, action: 'rerun' | 'rerun-all', s: Stream, ids: unknown[]) {
    const jobs = ids.map((id) => {
      const j = this.data.jobs.find((x) => x.id === Number(id) && x.dataStreamId === s.id);
      if (!j) throw bad(`Job ${String(id)} does not belong to data stream ${s.id}`);
      return j;
    });
    const now = await this.clock.now();
    const answered: Job[] = [];
    for (const j of jobs) {
      const days = Math.round((Date.parse(j.dataEndDate) - Date.parse(j.dataStartDate)) / DAY) + 1;
      if (this.assume.rerunNewJob) {
        // The other reading: a rerun is a new job over the same dates; the old one stays as it was.
        const id = this.nextJobId++;
        const fresh: Job = {
          ...j,
          id,
          createTime: now,
          updateTime: now,
          ...jobTiming(id, days, now),
          fails: s.failing,
          rerunCount: 0,
        };
        this.data.jobs.push(fresh);
        answered.push(fresh);
        continue;
      }
      Object.assign(j, jobTiming(j.id + j.rerunCount + 1, days, now), {
        ...(this.assume.rerunKeepsUpdateTime ? {} : { updateTime: now }),
        rerunCount: j.rerunCount + 1,
        fails: s.failing,
      });
      answered.push(j);
    }
    this.note({
      actions: jobs.map((j): LoggedAction => ({ stream: s.id, job: j.id, start: j.dataStartDate, end: j.dataEndDate })),
    });
    // rerun-all is one action on the stream (whatever its jobs); rerun one action per job.
    if (action === 'rerun-all') q.truth('applied', { action, stream: s.id, jobs: jobs.map((j) => j.id) });
    else for (const j of jobs) q.truth('applied', { action, stream: s.id, job: j.id });
    return { body: answered.map((j) => this.job(j, now)) };
  }
}
