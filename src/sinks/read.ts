/**
 * Typed reads: what a pipeline asks of a table, without SQL. Each warehouse renders a read in its own dialect
 * (identifiers, parameters, casts) through `renderSelect`; callers name declared columns and give values as
 * plain JS values, so no dialect leaks out of the sink. Results come back in the warehouse-neutral shape:
 * DATE 'YYYY-MM-DD', TIMESTAMP ISO 8601 UTC, exact integers as numbers.
 *
 * `Warehouse.query(sql)` remains for the user's own SQL (`longhaul query`) and tests, never for pipelines
 * (test/unit/warehouse-dialect.test.ts checks it).
 */
import { toCell, type ColumnType, type TableSchema } from './warehouse';

export type Scalar = string | number | boolean;

/**
 * A condition on one column: a value (equal; `null`: IS NULL), `{ ne }` (different, NULL included),
 * `{ in }` (one of; an empty list matches nothing), `{ prefix }` (a STRING starting with it) or a range
 * (`gt`/`gte`/`lt`/`lte`, any of them).
 */
export type Condition =
  | Scalar
  | null
  | { ne: Scalar }
  | { in: readonly Scalar[] }
  | { prefix: string }
  | { gt?: Scalar; gte?: Scalar; lt?: Scalar; lte?: Scalar };

/** Conditions on columns, all of which must hold. */
export type Where = Record<string, Condition>;

export type Aggregate = { max: string } | { min: string } | { sum: string } | { count: true };

export interface SelectSpec {
  /** Columns returned (default: every declared column; with groupBy, the group columns). */
  columns?: string[];
  where?: Where;
  /** Group by these columns; `aggregates` are computed per group (or over every row without groupBy). */
  groupBy?: string[];
  /** Output name → aggregate, e.g. `{ last: { max: 'updated_at' }, n: { count: true } }`. */
  aggregates?: Record<string, Aggregate>;
  /** Columns or aggregate names, ascending unless `desc`. */
  orderBy?: (string | { column: string; desc?: boolean })[];
  limit?: number;
}

/** How a warehouse writes the parts of a read. */
export interface Dialect {
  /** A table reference (quoted, qualified as needed). */
  table(name: string): string;
  /** A quoted identifier. */
  ident(name: string): string;
  /** A named parameter (its value is bound as text). */
  param(name: string): string;
  /** `expr` (text) converted to a column type. */
  cast(expr: string, type: ColumnType): string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Renders a read as SQL with text parameters (`p0`, `p1`, …), refusing anything not declared. */
export function renderSelect(
  d: Dialect,
  schema: TableSchema,
  spec: SelectSpec = {},
): { sql: string; params: Record<string, string> } {
  const types = new Map(schema.columns.map((c) => [c.name, c.type]));
  const column = (name: string, use: string, comparable = true): ColumnType => {
    const t = types.get(name);
    if (!t) throw new Error(`read of ${schema.name}: ${use} column "${name}" is not declared in the table`);
    if (comparable && t === 'JSON') throw new Error(`read of ${schema.name}: JSON column "${name}" cannot be ${use}`);
    return t;
  };
  const params: Record<string, string> = {};
  /** A new text parameter holding `text`, as the dialect writes it. */
  const param = (text: string) => {
    const key = `p${Object.keys(params).length}`;
    params[key] = text;
    return d.param(key);
  };
  const bind = (name: string, v: Scalar) => d.cast(param(toCell(v)!), column(name, 'compared'));

  const conds: string[] = [];
  for (const [name, cond] of Object.entries(spec.where ?? {})) {
    const c = d.ident(name);
    column(name, 'compared');
    if (cond === null) conds.push(`${c} IS NULL`);
    else if (typeof cond !== 'object') conds.push(`${c} = ${bind(name, cond)}`);
    else if ('ne' in cond) conds.push(`(${c} IS NULL OR ${c} <> ${bind(name, cond.ne)})`);
    else if ('in' in cond) {
      if (cond.in.length === 0) conds.push('FALSE');
      else conds.push(`${c} IN (${cond.in.map((v) => bind(name, v)).join(', ')})`);
    } else if ('prefix' in cond) {
      if (types.get(name) !== 'STRING')
        throw new Error(`read of ${schema.name}: prefix needs a STRING column, not "${name}"`);
      conds.push(`STARTS_WITH(${c}, ${param(cond.prefix)})`);
    } else {
      const ops = [
        ['gt', '>'],
        ['gte', '>='],
        ['lt', '<'],
        ['lte', '<='],
      ] as const;
      const parts = ops.filter(([k]) => cond[k] !== undefined).map(([k, op]) => `${c} ${op} ${bind(name, cond[k]!)}`);
      if (parts.length === 0) throw new Error(`read of ${schema.name}: empty condition on "${name}"`);
      conds.push(...parts);
    }
  }

  const aggregates = Object.entries(spec.aggregates ?? {});
  const groupBy = spec.groupBy ?? [];
  for (const g of groupBy) column(g, 'grouped by');
  const outputs = new Set<string>();
  const select: string[] = [];
  const plain = spec.columns ?? (aggregates.length || groupBy.length ? groupBy : schema.columns.map((c) => c.name));
  for (const name of plain) {
    column(name, 'selected', false);
    if (groupBy.length || aggregates.length)
      if (!groupBy.includes(name)) throw new Error(`read of ${schema.name}: "${name}" is selected but not grouped by`);
    select.push(d.ident(name));
    outputs.add(name);
  }
  for (const [alias, agg] of aggregates) {
    if (!IDENT.test(alias) || outputs.has(alias))
      throw new Error(`read of ${schema.name}: aggregate name "${alias}" is not a free identifier`);
    if ('count' in agg) select.push(`COUNT(*) AS ${d.ident(alias)}`);
    else {
      const [fn, col] = Object.entries(agg)[0] as ['max' | 'min' | 'sum', string];
      const t = column(col, 'aggregated');
      if (fn === 'sum' && t !== 'INT64' && t !== 'FLOAT64')
        throw new Error(`read of ${schema.name}: sum needs a number column, not "${col}"`);
      select.push(`${fn.toUpperCase()}(${d.ident(col)}) AS ${d.ident(alias)}`);
    }
    outputs.add(alias);
  }
  if (select.length === 0) throw new Error(`read of ${schema.name}: nothing selected`);

  const order = (spec.orderBy ?? []).map((o) => {
    const { column: name, desc } = typeof o === 'string' ? { column: o, desc: false } : o;
    if (!outputs.has(name)) {
      column(name, 'ordered by');
      if (groupBy.length || aggregates.length)
        throw new Error(`read of ${schema.name}: ordered by "${name}", which is not selected`);
    } else if (types.get(name) === 'JSON') column(name, 'ordered by');
    return `${d.ident(name)}${desc ? ' DESC' : ''}`;
  });
  if (spec.limit !== undefined && (!Number.isInteger(spec.limit) || spec.limit < 0))
    throw new Error(`read of ${schema.name}: limit must be a whole number ≥ 0`);

  const sql = [
    `SELECT ${select.join(', ')} FROM ${d.table(schema.name)}`,
    conds.length ? `WHERE ${conds.join(' AND ')}` : '',
    groupBy.length ? `GROUP BY ${groupBy.map((g) => d.ident(g)).join(', ')}` : '',
    order.length ? `ORDER BY ${order.join(', ')}` : '',
    spec.limit !== undefined ? `LIMIT ${spec.limit}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return { sql, params };
}
