/**
 * Columns declared as `name: type` (workflow-safe: a pipeline's definition, which workflows import, declares its
 * tables with it too). The types are the warehouse's (src/sinks/warehouse.ts).
 */
import type { Column, ColumnType } from '../sinks/warehouse';

/** A column's type as `columns` takes it: `'INT64'`, or `'INT64!'` for one that is never NULL. */
export type ColumnSpec = ColumnType | `${ColumnType}!`;

/**
 * A table's columns, declared in order as `name: type`, a `!` after the type for NOT NULL:
 * `columns({ id: 'INT64!', name: 'STRING', raw: 'JSON' })`.
 */
export function columns(spec: Record<string, ColumnSpec>): Column[] {
  return Object.entries(spec).map(([name, t]) =>
    t.endsWith('!') ? { name, type: t.slice(0, -1) as ColumnType, nullable: false } : { name, type: t as ColumnType },
  );
}
