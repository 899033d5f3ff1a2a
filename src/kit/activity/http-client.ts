/**
 * The HTTP client every connector starts from: bodies kept as text (the connector parses and validates them
 * with its schemas), every status handed back (the connector classifies it on the kit's taxonomy, ./http.ts),
 * and keep-alive connections, at most `maxSockets` per host.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

export interface ApiHttpClientOptions {
  /** Prefixed to relative request paths (trailing slashes are dropped). */
  baseUrl?: string;
  timeoutMs: number;
  maxSockets: number;
  /** Axios's default (21) unless set. */
  maxRedirects?: number;
  /** Agents of the caller's own (tests count connections), instead of new keep-alive ones. */
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

export function apiHttpClient(opts: ApiHttpClientOptions): AxiosInstance {
  return axios.create({
    ...(opts.baseUrl !== undefined ? { baseURL: opts.baseUrl.replace(/\/+$/, '') } : {}),
    timeout: opts.timeoutMs,
    responseType: 'text',
    transformResponse: [(d: unknown) => d],
    validateStatus: () => true,
    ...(opts.maxRedirects !== undefined ? { maxRedirects: opts.maxRedirects } : {}),
    httpAgent: opts.httpAgent ?? new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets }),
    httpsAgent: opts.httpsAgent ?? new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets }),
  });
}
