import { describe, expect, it } from 'vitest';
import { reportTableSchema } from '../../src/pipelines/dailymotion/shared';
import { addColumnsSql, bigQueryTableOptions } from '../../src/sinks/bigquery';
import { assertSchema, columns, replaceRangeOf, resolveWriteMode, type TableSchema } from '../../src/sinks/warehouse';

const base: TableSchema = {
  name: 't',
  columns: [
    { name: 'day', type: 'DATE' },
    { name: 'owner', type: 'STRING' },
    { name: 'k', type: 'STRING' },
  ],
};

describe('columns declared as name: type', () => {
  it('keeps their order and makes a column with ! NOT NULL', () => {
    expect(columns({ id: 'INT64!', name: 'STRING', at: 'TIMESTAMP!', raw: 'JSON' })).toEqual([
      { name: 'id', type: 'INT64', nullable: false },
      { name: 'name', type: 'STRING' },
      { name: 'at', type: 'TIMESTAMP', nullable: false },
      { name: 'raw', type: 'JSON' },
    ]);
    expect(() => assertSchema({ name: 't', columns: columns({ ok: 'STRING', 'bad name': 'STRING' }) })).toThrow();
  });
});

describe('write dispositions declared on the table', () => {
  it('resolves a load without a mode from the declaration; a mode given overrides it', () => {
    expect(resolveWriteMode(base)).toEqual({ kind: 'append' });
    const merged: TableSchema = { ...base, primaryKey: ['k'], write: { kind: 'merge' } };
    expect(resolveWriteMode(merged)).toEqual({ kind: 'merge', keys: ['k'] });
    expect(resolveWriteMode(merged, { kind: 'merge', keys: ['day', 'k'] })).toEqual({
      kind: 'merge',
      keys: ['day', 'k'],
    });
    expect(resolveWriteMode(merged, { kind: 'append' })).toEqual({ kind: 'append' });
    expect(() => resolveWriteMode({ ...base, write: { kind: 'merge' } })).toThrow(/declares no primary key/);
  });

  it('a replaceRange table takes its range (and owner values) from the load', () => {
    const ranged: TableSchema = { ...base, write: { kind: 'replaceRange', column: 'day', ownedBy: ['owner'] } };
    expect(() => resolveWriteMode(ranged)).toThrow(/replaces a range of day/);
    expect(replaceRangeOf(ranged, '2026-01-01', '2026-01-31', { owner: 'x' })).toEqual({
      kind: 'replaceRange',
      column: 'day',
      from: '2026-01-01',
      to: '2026-01-31',
      where: { owner: 'x' },
    });
    expect(() => replaceRangeOf(ranged, '2026-01-01', '2026-01-31')).toThrow(/must give the values of owner/);
    expect(() => replaceRangeOf(base, '2026-01-01', '2026-01-31')).toThrow(/does not declare a replaceRange/);
  });

  it('refuses a declaration naming columns the table does not have', () => {
    expect(() => assertSchema({ ...base, primaryKey: ['nope'] })).toThrow(/"nope" is not in table t/);
    expect(() => assertSchema({ ...base, write: { kind: 'replaceRange', column: 'when' } })).toThrow(/"when"/);
    expect(() => assertSchema({ ...base, primaryKey: [] })).toThrow(/empty primary key/);
  });

  it('a Dailymotion report table: replace by its time column for its own configuration, else by its window', () => {
    const byDay = reportTableSchema('dm', ['DAY', 'VIDEO_ID'], ['VIEWS']);
    expect(byDay.write).toEqual({ kind: 'replaceRange', column: 'day', ownedBy: ['report_config'] });
    expect(byDay.primaryKey).toEqual(['report_config', 'day', 'video_id']);
    expect(reportTableSchema('dm', ['HOUR'], ['VIEWS']).write).toMatchObject({ column: 'hour' });
    // Without a DAY, HOUR or MINUTE column (since 2026-12-05; appended before): the rows of its window.
    const monthly = reportTableSchema('dm', ['MONTH', 'VIDEO_ID'], ['VIEWS']);
    expect(monthly.write).toEqual({ kind: 'replaceRange', column: 'report_window', ownedBy: ['report_config'] });
    expect(monthly.primaryKey).toEqual(['report_config', 'report_window', 'month', 'video_id']);
  });
});

describe('BigQuery table options from the declaration', () => {
  it('a range-replaced table is partitioned on its range column and clustered on its owners and key', () => {
    const dm = reportTableSchema('dm', ['DAY', 'VIDEO_ID', 'VISITOR_COUNTRY'], ['VIEWS']);
    expect(bigQueryTableOptions(dm)).toEqual({
      timePartitioning: { type: 'DAY', field: 'day' },
      clustering: { fields: ['report_config', 'video_id', 'visitor_country'] },
    });
    const hourly = reportTableSchema('dm', ['HOUR', 'VIDEO_ID'], ['VIEWS']);
    expect(bigQueryTableOptions({ ...hourly, write: { ...hourly.write!, partition: 'HOUR' } as never })).toMatchObject({
      timePartitioning: { type: 'HOUR', field: 'hour' },
    });
  });

  it('a merge table is clustered on its key (clusterable types, at most 4); an append table gets nothing', () => {
    const t: TableSchema = {
      ...base,
      columns: [
        ...base.columns,
        { name: 'x', type: 'FLOAT64' },
        { name: 'a', type: 'STRING' },
        { name: 'b', type: 'INT64' },
      ],
      primaryKey: ['k', 'x', 'owner', 'a', 'b', 'day'],
      write: { kind: 'merge' },
    };
    expect(bigQueryTableOptions(t)).toEqual({ clustering: { fields: ['k', 'owner', 'a', 'b'] } });
    expect(bigQueryTableOptions(base)).toEqual({});
  });
});

describe('BigQuery schema evolution DDL', () => {
  it('adds nullable columns with ALTER TABLE … ADD COLUMN IF NOT EXISTS (the emulator cannot show it)', () => {
    expect(
      addColumnsSql('`p.d.t`', [
        { name: 'stock', type: 'INT64' },
        { name: 'note', type: 'STRING' },
      ]),
    ).toBe('ALTER TABLE `p.d.t` ADD COLUMN IF NOT EXISTS `stock` INT64, ADD COLUMN IF NOT EXISTS `note` STRING');
  });
});
