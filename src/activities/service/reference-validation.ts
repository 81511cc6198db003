import type { ClickHouse } from '../../clickhouse/clickhouse';
import type { Statement } from '../../clickhouse/statement';
import { describeReference, type ValidateInput } from '../../shared/validate-input';
import type { Row, ValidationReport } from '../../shared/validation-report';
import { additiveMetrics, aggregationShape } from '../../sql/aggregate/aggregation-shape';
import { selectTableColumns, type TableColumn } from '../../sql/engine/introspection';
import {
  selectKeysOnlyIn,
  selectMetricSums,
  selectRowsPerDay,
  selectValueComparison,
  sideQuery,
  type CompareRow,
  type CompareShape,
} from '../../sql/service/reference-compare';
import type { ActivityDeps } from '../engine/deps';
import { JobSpecError } from '../engine/errors';
import { withHeartbeat } from '../engine/heartbeat';
import { tableResolver } from '../engine/table-resolver';
import { valuesAgree } from '../engine/validation-check';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

async function compareShape(ch: ClickHouse, input: ValidateInput, target: TableRef): Promise<CompareShape> {
  const shape = aggregationShape(input.job);
  const columns = await ch.rows(selectTableColumns(target));
  if (columns.length === 0) throw new JobSpecError('target.table', `table ${qualifiedName(target)} does not exist`);
  const typed = (name: string): TableColumn => {
    const col = columns.find((c) => c.name === name);
    if (!col) throw new JobSpecError('target.table', `${qualifiedName(target)} has no column "${name}"`);
    return col;
  };
  return {
    keys: shape.keys.map(typed),
    date: typed(shape.dateColumn),
    metrics: shape.metrics.map((m) => typed(m.name)),
    summable: additiveMetrics(shape).map((m) => m.name),
  };
}

function keyOf(shape: CompareShape, row: CompareRow): Row {
  return Object.fromEntries([...shape.keys, shape.date].map((k) => [k.name, String(row[k.name])]));
}

const truthy = (v: unknown) => v === true || Number(v) === 1;

/**
 * Compares the job's target with a reference (ClickHouse table or Parquet via `file()`/`url()`/`s3()`) over a
 * range of days: rows per day, each summable metric's total (floats within the relative tolerance), keys on
 * one side only, N hash-sampled keys value by value, and optionally every row. Returns the report; the workflow
 * decides what a mismatch means.
 *
 * Durability: read-only, safe to retry.
 */
export function referenceValidation({ clickhouse: ch }: ActivityDeps) {
  return {
    async compareWithReference(input: ValidateInput): Promise<ValidationReport> {
      return withHeartbeat(
        () => ({ step: 'compare', reference: describeReference(input.reference) }),
        async (signal) => {
          const resolve = await tableResolver(ch);
          const target = resolve(input.job.target.table);
          const refTable = input.reference.kind === 'table' ? resolve(input.reference.table) : undefined;
          const shape = await compareShape(ch, input, target);
          const tolerance = input.relativeTolerance ?? input.job.validation.relativeTolerance;
          const range = { from: input.from, to: input.to };
          const t = sideQuery('target', shape, target, input.reference);
          const r = sideQuery('reference', shape, target, input.reference, refTable);
          const rows = <T>(stmt: Statement<T>) => ch.rows(stmt, { signal });

          const perDay = async (side: typeof t) =>
            new Map((await rows(selectRowsPerDay(shape, side, range))).map((d) => [d.day, Number(d.rows)]));
          const [tDays, rDays] = [await perDay(t), await perDay(r)];
          const days = [...new Set([...tDays.keys(), ...rDays.keys()])].sort().map((day) => {
            const [a, b] = [tDays.get(day) ?? 0, rDays.get(day) ?? 0];
            return { day, target: a, reference: b, ok: a === b };
          });

          const sums: ValidationReport['sums'] = [];
          if (shape.summable.length > 0) {
            const [ts] = await rows(selectMetricSums(shape, t, range));
            const [rs] = await rows(selectMetricSums(shape, r, range));
            for (const name of shape.summable) {
              const alias = `s_${shape.metrics.findIndex((m) => m.name === name)}`;
              const [a, b] = [String(ts[alias]), String(rs[alias])];
              sums.push({ metric: name, target: a, reference: b, ok: valuesAgree(b, a, tolerance) });
            }
          }

          const onlyIn = async (a: typeof t, b: typeof t) => {
            const found = await rows(selectKeysOnlyIn(shape, a, b, range, input.examples));
            return { count: Number(found[0]?.total ?? 0), examples: found.map((f) => keyOf(shape, f)) };
          };
          const onlyInTarget = await onlyIn(t, r);
          const onlyInReference = await onlyIn(r, t);

          const columnsOf = (row: CompareRow) =>
            shape.metrics.map((m, i) => ({
              name: m.name,
              target: String(row[`t_${i}`]),
              reference: String(row[`r_${i}`]),
              ok: truthy(row[`ok_${i}`]),
            }));
          const compareParams = { ...range, tolerance };
          const sampled =
            input.sampleKeys === 0
              ? []
              : (await rows(selectValueComparison(shape, t, r, compareParams, { sample: input.sampleKeys }))).map(
                  (row) => ({ key: keyOf(shape, row), columns: columnsOf(row) }),
                );

          let fullDiff: ValidationReport['fullDiff'];
          if (input.fullDiff) {
            const differing = await rows(
              selectValueComparison(shape, t, r, compareParams, { differingLimit: input.examples }),
            );
            fullDiff = {
              differing: Number(differing[0]?.total ?? 0),
              examples: differing.map((row) => ({
                key: keyOf(shape, row),
                columns: columnsOf(row)
                  .filter((c) => !c.ok)
                  .map((c) => c.name),
              })),
            };
          }

          const firstDifferingKeys = [
            ...onlyInTarget.examples,
            ...onlyInReference.examples,
            ...sampled.filter((s) => s.columns.some((c) => !c.ok)).map((s) => s.key),
            ...(fullDiff?.examples.map((e) => e.key) ?? []),
          ].slice(0, input.examples);
          const ok =
            days.every((d) => d.ok) &&
            sums.every((s) => s.ok) &&
            onlyInTarget.count === 0 &&
            onlyInReference.count === 0 &&
            sampled.every((s) => s.columns.every((c) => c.ok)) &&
            (fullDiff?.differing ?? 0) === 0;
          return {
            target: qualifiedName(target),
            reference: describeReference(input.reference),
            from: input.from,
            to: input.to,
            ok,
            relativeTolerance: tolerance,
            days,
            sums,
            onlyInTarget,
            onlyInReference,
            sampled,
            fullDiff,
            firstDifferingKeys,
          };
        },
      );
    },
  };
}
