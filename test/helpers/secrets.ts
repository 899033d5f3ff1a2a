/**
 * Helpers of the secrets scan (test/integration/secrets-scan.test.ts): the forms a secret can leak in
 * (as is, URL-encoded, base64 / base64url at any byte alignment, so also inside a longer encoded string
 * such as an HTTP Basic header), a scanner, and the raw bytes of every event history on a server.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * The base64 characters that encode `secret` alone when it starts at byte offset 0, 1 or 2 of a longer
 * buffer: whatever surrounds it, its encoding contains one of these three strings.
 */
function base64Cores(secret: Buffer): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), secret]).toString('base64');
    out.push(b64.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + secret.length)) / 6)));
  }
  return out;
}

/** Every form of `secret` the scan looks for, by name. */
export function secretForms(secret: string): Record<string, string> {
  const forms: Record<string, string> = { raw: secret, url: encodeURIComponent(secret) };
  forms.form = forms.url.replace(/%20/g, '+');
  base64Cores(Buffer.from(secret, 'utf8')).forEach((core, k) => {
    forms[`base64@${k}`] = core;
    forms[`base64url@${k}`] = core.replace(/\+/g, '-').replace(/\//g, '_');
  });
  return forms;
}

export interface Leak {
  secret: string;
  form: string;
  where: string;
}

/** Every (secret, form) of `secrets` found in `haystack`, reported with `where`. */
export function findSecrets(haystack: Buffer | string, secrets: Record<string, string>, where: string): Leak[] {
  const text = Buffer.isBuffer(haystack) ? haystack.toString('latin1') : haystack;
  const leaks: Leak[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    const seen = new Set<string>(); // forms that coincide (no +/ in the base64) count once
    for (const [form, value] of Object.entries(secretForms(secret))) {
      if (seen.has(value)) continue;
      seen.add(value);
      if (text.includes(Buffer.from(value, 'utf8').toString('latin1'))) leaks.push({ secret: name, form, where });
    }
  }
  return leaks;
}

export interface RunHistory {
  workflowId: string;
  runId: string;
  type: string;
  /** The history as the server sends it (protobuf), payload bytes as they are stored. */
  bytes: Buffer;
  events: number;
}

/**
 * Every run on the server started since `since` (every workflow ID, every run of it: children, entity
 * workflows and continue-as-new runs included).
 */
export async function allHistories(client: Client, since: Date): Promise<RunHistory[]> {
  const out: RunHistory[] = [];
  for await (const w of client.workflow.list({ query: `StartTime >= '${since.toISOString()}'` })) {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    out.push({
      workflowId: w.workflowId,
      runId: w.runId,
      type: w.type,
      bytes: Buffer.from(temporal.api.history.v1.History.encode(history).finish()),
      events: history.events?.length ?? 0,
    });
  }
  return out;
}
