/**
 * Datorama platform API client (axios + zod). Every request goes through `send()`: it sets
 * `Authorization: <token>` (no "Bearer"), reads the `X-PlatformRateLimit-*` and `X-DailyQuota-*`
 * headers into `RateLimitInfo`, and turns a 429 into a DatoramaRateLimitedError carrying the reset the
 * headers give. One method = one platform call (callers pace calls; see src/pipelines/datorama/workflows/limiter.ts).
 * Stream changes use PATCH (a PUT clears every omitted field; `replaceStream` is there for completeness).
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import { apiHttpClient } from '../../../kit/activity/http-client';
import { z } from 'zod';
import type { Config } from '../../../config';
import { DatoramaAuthError, DatoramaError, DatoramaRateLimitedError, DatoramaTransientError } from './errors';
import {
  jobSchema,
  streamSchema,
  workspaceSchema,
  type DatoramaJob,
  type DatoramaStream,
  type DatoramaWorkspace,
} from './schemas';

export interface RateLimitInfo {
  minuteLimit?: number;
  minuteRemaining?: number;
  minuteReset?: number;
  dayLimit?: number;
  dayRemaining?: number;
  dayReset?: number;
}

export interface DatoramaResponse<T> {
  status: number;
  data: T;
  limits: RateLimitInfo;
}

export interface DatoramaClientOptions {
  baseUrl: string;
  token?: string;
  timeoutMs?: number;
}

const num = (v: unknown) => {
  const n = Number(v);
  return v === undefined || v === null || v === '' || !Number.isFinite(n) ? undefined : n;
};

export function readLimits(headers: Record<string, unknown>): RateLimitInfo {
  return {
    minuteLimit: num(headers['x-platformratelimit-limit']),
    minuteRemaining: num(headers['x-platformratelimit-remaining']),
    minuteReset: num(headers['x-platformratelimit-reset']),
    dayLimit: num(headers['x-dailyquota-limit']),
    dayRemaining: num(headers['x-dailyquota-remaining']),
    dayReset: num(headers['x-dailyquota-reset']),
  };
}

export class DatoramaClient {
  private readonly http: AxiosInstance;

  constructor(private readonly opts: DatoramaClientOptions) {
    this.http = apiHttpClient({ baseUrl: opts.baseUrl, timeoutMs: opts.timeoutMs ?? 30_000, maxSockets: 4 });
  }

  listWorkspaces() {
    return this.send('GET', '/workspaces', undefined, z.array(workspaceSchema));
  }
  getWorkspace(id: number) {
    return this.send('GET', `/workspaces/${id}`, undefined, workspaceSchema);
  }
  listStreams(workspaceId: number) {
    return this.send('GET', `/workspaces/${workspaceId}/data-streams`, undefined, z.array(streamSchema));
  }
  streamsStatus(workspaceId: number, ids: number[]) {
    return this.send(
      'GET',
      `/workspaces/${workspaceId}/data-streams/status/bulk?ids=${ids.join(',')}`,
      undefined,
      z.array(streamSchema),
    );
  }
  getStream(id: number) {
    return this.send('GET', `/data-streams/${id}`, undefined, streamSchema);
  }
  /** Changes only the fields given (preferred). */
  patchStream(id: number, fields: Record<string, unknown>) {
    return this.send('PATCH', `/data-streams/${id}`, fields, streamSchema);
  }
  /** Replaces the whole stream: every field left out is CLEARED. Prefer patchStream. */
  replaceStream(id: number, stream: Record<string, unknown>) {
    return this.send('PUT', `/data-streams/${id}`, stream, streamSchema);
  }
  /** Several streams, same dates, one call. */
  processStreams(ids: number[], startDate: string, endDate: string) {
    return this.send('POST', '/data-streams/process', { dataStreamIds: ids, startDate, endDate }, z.array(jobSchema));
  }
  processStream(id: number, startDate: string, endDate: string) {
    return this.send('POST', `/data-streams/${id}/process`, { startDate, endDate }, z.array(jobSchema));
  }
  rerunJobs(streamId: number, jobIds: number[]) {
    return this.send('POST', `/data-streams/api/${streamId}/rerun`, jobIds, z.array(jobSchema));
  }
  rerunAll(streamId: number) {
    return this.send('POST', `/data-streams/api/${streamId}/rerun-all`, undefined, z.array(jobSchema));
  }
  /** One page of a stream's jobs (newest first); the last page is shorter than pageSize. */
  streamStats(streamId: number, pageNumber: number, pageSize = 100) {
    return this.send('POST', `/data-streams/api/${streamId}/stats`, { pageSize, pageNumber }, z.array(jobSchema));
  }
  getStat(statId: number) {
    return this.send('GET', `/data-stream-stat/${statId}`, undefined, jobSchema);
  }
  dimensions(workspaceId: number) {
    return this.send('GET', `/workspaces/${workspaceId}/dimensions`, undefined, z.array(z.looseObject({})));
  }
  patterns(workspaceId: number) {
    return this.send('GET', `/workspaces/${workspaceId}/patterns`, undefined, z.array(z.looseObject({})));
  }
  harmonizedDimensions(workspaceId: number) {
    return this.send('GET', `/workspaces/${workspaceId}/harmonized-dimensions`, undefined, z.array(z.looseObject({})));
  }
  calculatedMeasurements(workspaceId: number) {
    return this.send(
      'GET',
      `/workspaces/${workspaceId}/calculated-measurements`,
      undefined,
      z.array(z.looseObject({})),
    );
  }

  /** The one place every call goes through. */
  async send<S extends z.ZodType>(
    method: string,
    path: string,
    body: unknown,
    schema: S,
  ): Promise<DatoramaResponse<z.output<S>>> {
    if (!this.opts.token) throw new DatoramaAuthError('DATORAMA_TOKEN is not set');
    let res: AxiosResponse<string>;
    try {
      res = await this.http.request<string>({
        method,
        url: path,
        data: body === undefined ? undefined : JSON.stringify(body),
        headers: {
          authorization: this.opts.token,
          'content-type': 'application/json',
          accept: 'application/json',
        },
      });
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      // Sent or not, we cannot tell: the caller must check before submitting again.
      throw new DatoramaTransientError(`Datorama ${method} ${path}: network error ${code}`.trim(), undefined, true);
    }
    const limits = readLimits(res.headers as Record<string, unknown>);
    const what = `Datorama ${method} ${path}`;
    if (res.status === 429) {
      const day = limits.dayRemaining === 0;
      const resetAt = (day ? limits.dayReset : limits.minuteReset) ?? Date.now() + 60_000;
      throw new DatoramaRateLimitedError(`${what}: 429 Too Many Requests`, resetAt, day ? 'day' : 'minute');
    }
    if (res.status === 401) throw new DatoramaAuthError(`${what}: 401 ${errorText(res.data)}`, 401);
    if (res.status >= 500) throw new DatoramaTransientError(`${what}: HTTP ${res.status}`, res.status, true);
    if (res.status >= 400) throw new DatoramaError(`${what}: HTTP ${res.status} ${errorText(res.data)}`, res.status);
    let json: unknown;
    try {
      json = res.data === '' ? null : JSON.parse(res.data);
    } catch {
      throw new DatoramaTransientError(`${what}: malformed JSON body`, res.status, true);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new DatoramaTransientError(
        `${what}: unexpected body (${parsed.error.message.slice(0, 200)})`,
        res.status,
        true,
      );
    return { status: res.status, data: parsed.data, limits };
  }
}

function errorText(body: string): string {
  try {
    const e = (JSON.parse(body) as { errors?: unknown }).errors;
    return typeof e === 'string' ? e : JSON.stringify(e);
  } catch {
    return body.slice(0, 200);
  }
}

export function createDatoramaClient(config: Config): DatoramaClient {
  return new DatoramaClient({ baseUrl: config.DATORAMA_BASE_URL, token: config.DATORAMA_TOKEN });
}

export type { DatoramaJob, DatoramaStream, DatoramaWorkspace };
