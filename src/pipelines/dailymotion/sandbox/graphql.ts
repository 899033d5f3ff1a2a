/**
 * The two GraphQL operations the Dailymotion sandbox understands, recognised by shape rather than with
 * a full GraphQL parser: `askPartnerReportFile(input: $var)` mutations (several per request through
 * aliases) and `partner { reportFile(reportToken: …) { status downloadLinks(first:, page:) … } }`
 * queries. Variables are coerced like a GraphQL server would, with graphql-js style messages.
 */
import {
  MediaType,
  MonetizationType,
  PARTNER_REPORT_DIMENSIONS,
  PARTNER_REPORT_METRICS,
  PartnerReportProduct,
  type AskReportInput,
} from '../connector/enums';

type Arg = { variable: string } | { value: number | string };

export type Operation =
  | { kind: 'ask'; fields: { alias: string; variable: string }[] }
  | {
      kind: 'status';
      partnerAlias: string;
      fileAlias: string;
      token: Arg;
      first?: Arg;
      page?: Arg;
      wantsPageInfo: boolean;
      wantsTotalCount: boolean;
    };

const NAME = '[A-Za-z_]\\w*';

function parseArg(text: string): Arg {
  const t = text.trim();
  if (t.startsWith('$')) return { variable: t.slice(1) };
  if (t.startsWith('"')) return { value: t.slice(1, -1) };
  return { value: Number(t) };
}

/** Recognises the operation of a query document, or says why it cannot. */
export function parseOperation(query: string): Operation | { error: string } {
  const q = query.replace(/#[^\n]*/g, '');
  if (/\bmutation\b/.test(q)) {
    const re = new RegExp(
      `(?:(${NAME})\\s*:\\s*)?askPartnerReportFile\\s*\\(\\s*input\\s*:\\s*\\$(${NAME})\\s*\\)`,
      'g',
    );
    const fields = [...q.matchAll(re)].map((m) => ({ alias: m[1] ?? 'askPartnerReportFile', variable: m[2] }));
    if (!fields.length) return { error: 'The sandbox supports askPartnerReportFile(input: $variable) mutations only' };
    return { kind: 'ask', fields };
  }
  const file = new RegExp(
    `(?:(${NAME})\\s*:\\s*)?reportFile\\s*\\(\\s*reportToken\\s*:\\s*(\\$${NAME}|"[^"]*")\\s*\\)`,
  ).exec(q);
  const partner = new RegExp(`(?:(${NAME})\\s*:\\s*)?partner\\s*\\{`).exec(q);
  if (!file || !partner) return { error: 'The sandbox supports partner { reportFile(reportToken: …) } queries only' };
  const links = /downloadLinks\s*(?:\(([^)]*)\))?/.exec(q);
  const arg = (name: string) => {
    const m = new RegExp(`${name}\\s*:\\s*(\\$${NAME}|-?\\d+)`).exec(links?.[1] ?? '');
    return m ? parseArg(m[1]) : undefined;
  };
  return {
    kind: 'status',
    partnerAlias: partner[1] ?? 'partner',
    fileAlias: file[1] ?? 'reportFile',
    token: parseArg(file[2]),
    first: arg('first'),
    page: arg('page'),
    wantsPageInfo: /\bpageInfo\b/.test(q),
    wantsTotalCount: /\btotalCount\b/.test(q),
  };
}

export function argValue(arg: Arg | undefined, variables: Record<string, unknown>): unknown {
  if (!arg) return undefined;
  return 'variable' in arg ? variables[arg.variable] : arg.value;
}

const show = (v: unknown) => JSON.stringify(v);

/** Coerces an AskPartnerReportFileInput variable; returns the input or a graphql-js style message. */
export function coerceAskInput(raw: unknown, variable: string): { input: AskReportInput } | { error: string } {
  const bad = (value: unknown, at: string, why: string) => ({
    error: `Variable "$${variable}" got invalid value ${show(value)} at "${variable}${at}"; ${why}`,
  });
  if (raw === undefined || raw === null)
    return { error: `Variable "$${variable}" of required type "AskPartnerReportFileInput!" was not provided.` };
  if (typeof raw !== 'object' || Array.isArray(raw))
    return bad(raw, '', 'Expected type "AskPartnerReportFileInput" to be an object.');
  const o = raw as Record<string, unknown>;
  const known = ['metrics', 'dimensions', 'startDate', 'endDate', 'product', 'filters', 'clientMutationId'];
  for (const k of Object.keys(o))
    if (!known.includes(k))
      return bad(o[k], `.${k}`, `Field "${k}" is not defined by type "AskPartnerReportFileInput".`);
  /** The enum list, or the error message. */
  const list = (field: 'metrics' | 'dimensions', values: readonly string[], type: string): string[] | string => {
    const v = o[field];
    if (v === undefined || v === null) return `Field "${field}" of required type "[${type}]!" was not provided.`;
    const arr: unknown[] = Array.isArray(v) ? v : [v];
    for (let i = 0; i < arr.length; i++)
      if (typeof arr[i] !== 'string' || !values.includes(arr[i] as string))
        return bad(arr[i], `.${field}[${i}]`, `Value ${show(arr[i])} does not exist in "${type}" enum.`).error;
    return arr as string[];
  };
  const metrics = list('metrics', PARTNER_REPORT_METRICS, 'PartnerReportMetric');
  if (typeof metrics === 'string') return { error: metrics };
  const dimensions = list('dimensions', PARTNER_REPORT_DIMENSIONS, 'PartnerReportDimension');
  if (typeof dimensions === 'string') return { error: dimensions };
  const dates: Record<string, string> = {};
  for (const f of ['startDate', 'endDate'] as const) {
    const v = o[f];
    if (v === undefined || v === null) return { error: `Field "${f}" of required type "DateTime!" was not provided.` };
    const m = typeof v === 'string' ? /^(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(v) : null;
    if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`)))
      return bad(v, `.${f}`, 'Expected type "DateTime". Dates are YYYY-MM-DD.');
    dates[f] = m[1];
  }
  const input: AskReportInput = {
    metrics: metrics as AskReportInput['metrics'],
    dimensions: dimensions as AskReportInput['dimensions'],
    startDate: dates.startDate,
    endDate: dates.endDate,
  };
  if (o.product !== undefined && o.product !== null) {
    const p = PartnerReportProduct.safeParse(o.product);
    if (!p.success)
      return bad(o.product, '.product', `Value ${show(o.product)} does not exist in "PartnerReportProduct" enum.`);
    input.product = p.data;
  }
  if (o.filters !== undefined && o.filters !== null) {
    if (typeof o.filters !== 'object' || Array.isArray(o.filters))
      return bad(o.filters, '.filters', 'Expected type "PartnerReportFilters" to be an object.');
    const f = o.filters as Record<string, unknown>;
    const filters: NonNullable<AskReportInput['filters']> = {};
    for (const [k, v] of Object.entries(f)) {
      if (v === null || v === undefined) continue;
      if (k === 'mediaType' || k === 'monetizationType') {
        const schema = k === 'mediaType' ? MediaType : MonetizationType;
        const type = k === 'mediaType' ? 'PartnerReportFilterMediaType' : 'PartnerReportFilterMonetizationType';
        const r = schema.safeParse(v);
        if (!r.success) return bad(v, `.filters.${k}`, `Value ${show(v)} does not exist in "${type}" enum.`);
        (filters as Record<string, string>)[k] = r.data;
      } else if (k === 'channelSlug' || k === 'videoOwnerChannelSlug' || k === 'visitorDomainGroup') {
        if (typeof v !== 'string') return bad(v, `.filters.${k}`, 'String cannot represent a non string value.');
        filters[k] = v;
      } else return bad(v, `.filters.${k}`, `Field "${k}" is not defined by type "PartnerReportFilters".`);
    }
    input.filters = filters;
  }
  return { input };
}
