import type { Statement } from '../../clickhouse/statement';
import type { Reference } from '../../shared/validate-input';
import { quoteAllowListedIdentifier as q } from '../engine/quote-identifier';
import type { TableColumn } from '../engine/introspection';
import { tableParam } from '../engine/table-param';
import { fileTableFunction } from '../engine/file-table-function';
import type { TableRef } from '../../shared/table-ref';

/** A row of the key and value comparisons: keys as strings, `total`, and per metric `t_<i>`, `r_<i>`, `ok_<i>`. */
export type CompareRow = Record<string, string | number | boolean>;

/** What both sides are read as: keys, date and metrics in the target's types, restricted to a day range. */
export interface CompareShape {
  keys: TableColumn[];
  date: TableColumn;
  metrics: TableColumn[];
  /** Additive metrics (sums / counts), compared as totals. */
  summable: string[];
}

export type Side = 'target' | 'reference';

const isArray = (type: string) => type.startsWith('Array(');
const isFloat = (type: string) => /^(Nullable\()?(Float|Decimal)/.test(type);
const metricAlias = (i: number) => `m_${i}`;
const typeParam = (i: number) => `type_${i}`;

/**
 * The FROM clause of one side: the target table, a reference table, or `file()/url()/s3()` over Parquet (path and
 * format as parameters; s3 through a named collection when the reference names one).
 */
function sourceOf(side: Side, target: TableRef, reference: Reference, referenceTable?: TableRef) {
  if (side === 'target') return tableParam('target', target);
  if (reference.kind === 'table') return tableParam('reference', referenceTable as TableRef);
  const namedCollection = reference.kind === 's3' ? reference.namedCollection : undefined;
  const reader = {
    fn: reference.kind,
    path: reference.path,
    format: 'Parquet',
    ...(namedCollection ? { namedCollection } : {}),
  };
  return fileTableFunction(reader, undefined, 'reference');
}

/**
 * One side as a subquery with columns named like the target: keys, date, metrics (as `m_<i>`, arrays sorted so
 * that set-like aggregates compare equal), the reference side cast to the target's types (types as parameters).
 */
export function sideQuery(
  side: Side,
  shape: CompareShape,
  target: TableRef,
  reference: Reference,
  referenceTable?: TableRef,
): Statement {
  const src = sourceOf(side, target, reference, referenceTable);
  const columns = [shape.date, ...shape.keys, ...shape.metrics];
  const typeParams: Record<string, string> = {};
  const cast = (c: TableColumn) => {
    const i = columns.indexOf(c);
    if (side === 'target') return q(c.name);
    typeParams[typeParam(i)] = c.type;
    return `CAST(${q(c.name)}, {${typeParam(i)}:String})`;
  };
  const select = [
    `${cast(shape.date)} AS ${q(shape.date.name)}`,
    ...shape.keys.map((k) => `${cast(k)} AS ${q(k.name)}`),
    ...shape.metrics.map((m, i) => `${isArray(m.type) ? `arraySort(${cast(m)})` : cast(m)} AS ${metricAlias(i)}`),
  ];
  const date = cast(shape.date);
  return {
    query: `SELECT ${select.join(', ')} FROM ${src.sql} WHERE ${date} >= {from:Date} AND ${date} <= {to:Date}`,
    params: { ...src.params, ...typeParams },
  };
}

const keyColumns = (shape: CompareShape) => [...shape.keys.map((k) => k.name), shape.date.name];
const keyList = (shape: CompareShape) => keyColumns(shape).map(q).join(', ');
const keyStrings = (shape: CompareShape, from?: string) =>
  keyColumns(shape).map((k) => `toString(${from ? `${from}.` : ''}${q(k)}) AS ${q(k)}`);

/** Rows per day of one side. */
export function selectRowsPerDay(
  shape: CompareShape,
  side: Statement,
  range: Record<string, string>,
): Statement<{ day: string; rows: string }> {
  return {
    query: `SELECT toString(${q(shape.date.name)}) AS day, count() AS rows FROM (${side.query}) GROUP BY day ORDER BY day`,
    params: { ...side.params, ...range },
  };
}

/** The totals of the summable metrics of one side, as strings (`s_<i>`). */
export function selectMetricSums(
  shape: CompareShape,
  side: Statement,
  range: Record<string, string>,
): Statement<Record<string, string>> {
  const sums = shape.summable.map((name) => {
    const i = shape.metrics.findIndex((m) => m.name === name);
    return `toString(sum(${metricAlias(i)})) AS s_${i}`;
  });
  return { query: `SELECT ${sums.join(', ')} FROM (${side.query})`, params: { ...side.params, ...range } };
}

/** Keys (with date) present in `a` and not in `b`: the total count and the first `limit` in key order. */
export function selectKeysOnlyIn(
  shape: CompareShape,
  a: Statement,
  b: Statement,
  range: Record<string, string>,
  limit: number,
): Statement<CompareRow> {
  return {
    query: [
      `SELECT count() OVER () AS total, ${keyStrings(shape, 'a').join(', ')}`,
      `FROM (${a.query}) AS a LEFT ANTI JOIN (${b.query}) AS b USING (${keyList(shape)})`,
      `ORDER BY ${keyColumns(shape)
        .map((k) => `a.${q(k)}`)
        .join(', ')} LIMIT {limit:UInt32}`,
    ].join('\n'),
    params: { ...a.params, ...b.params, ...range, limit },
  };
}

/**
 * Both sides joined on keys and date, each metric shown on both sides (`t_<i>`, `r_<i>`) with `ok_<i>`: equal,
 * or for floats within the relative tolerance. With `sample` only that many keys, drawn by a hash of the key;
 * otherwise only differing rows, with their total.
 */
export function selectValueComparison(
  shape: CompareShape,
  target: Statement,
  reference: Statement,
  params: Record<string, unknown>,
  mode: { sample: number } | { differingLimit: number },
): Statement<CompareRow> {
  const keys = keyList(shape);
  const sampleFilter =
    'sample' in mode
      ? ` WHERE (${keys}) IN (SELECT ${keys} FROM (${target.query}) ORDER BY cityHash64(${keys}) LIMIT {sample:UInt32})`
      : '';
  const metricCols = shape.metrics.flatMap((m, i) => {
    const [t, r] = [`t.${metricAlias(i)}`, `r.${metricAlias(i)}`];
    const ok = isFloat(m.type)
      ? `(${t} = ${r} OR abs(${t} - ${r}) <= {tolerance:Float64} * greatest(abs(${t}), abs(${r})))`
      : `${t} = ${r}`;
    return [`toString(${t}) AS t_${i}`, `toString(${r}) AS r_${i}`, `${ok} AS ok_${i}`];
  });
  const joined = [
    `SELECT ${[...keyStrings(shape, 't'), ...metricCols].join(', ')}`,
    `FROM (SELECT * FROM (${target.query})${sampleFilter}) AS t`,
    `INNER JOIN (SELECT * FROM (${reference.query})${sampleFilter}) AS r USING (${keys})`,
  ].join('\n');
  const allOk = shape.metrics.map((_, i) => `ok_${i}`).join(' AND ') || '1';
  const order = keyColumns(shape).map(q).join(', ');
  const query =
    'sample' in mode
      ? `SELECT * FROM (${joined}) ORDER BY ${order}`
      : `SELECT count() OVER () AS total, * FROM (${joined}) WHERE NOT (${allOk}) ORDER BY ${order} LIMIT {limit:UInt32}`;
  return {
    query,
    params: {
      ...target.params,
      ...reference.params,
      ...params,
      ...('sample' in mode ? { sample: mode.sample } : { limit: mode.differingLimit }),
    },
  };
}
