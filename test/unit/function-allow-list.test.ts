import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AGGREGATE_COMBINATORS,
  ALLOWED_FUNCTION_FAMILIES,
  NEVER_ALLOWED_FUNCTIONS,
  functionRefusal,
  isNeverAllowedFunction,
} from '../../src/shared/function-allow-list';
import { aggregateJobSchema, viewJobSchema } from '../../src/shared/job-spec';

describe('functions a job may call', () => {
  it.each([
    'toDate',
    'toStartOfMonth',
    'toYYYYMM',
    'addDays',
    'round',
    'intDiv',
    'lower',
    'cityHash64',
    'if',
    'multiIf',
    'toUInt64',
    'toFloat64OrZero',
    'CAST',
    'arraySort',
    'has',
    'count',
    'COUNT',
    'sum',
    'uniqExact',
    'quantileTDigest',
    'quantiles',
    'countIf',
    'sumState',
    'uniqMerge',
    'avgIfOrNull',
    'sumMergeState',
    'quantileIf',
  ])('allows %s', (name) => {
    expect(functionRefusal(name)).toBeUndefined();
  });

  it.each(['dictGet', 'joinGet', 'now', 'rand', 'currentUser', 'getSetting', 'arrayShuffle'])(
    'refuses %s unless the job names it',
    (name) => {
      expect(functionRefusal(name)).toBe(
        `function ${name} is not in the allowed families (see docs/functions.md); if the job needs it, name it in ` +
          `allowFunctions: [${name}]`,
      );
      expect(functionRefusal(name, [name])).toBeUndefined();
    },
  );

  it.each([
    'file',
    'url',
    's3',
    's3Cluster',
    'remote',
    'remoteSecure',
    'cluster',
    'clusterAllReplicas',
    'input',
    'executable',
    'sleep',
    'sleepEachRow',
    'randomString',
    'randomPrintableASCII',
    'generateRandom',
    'FILE',
  ])('never allows %s, even when the job names it', (name) => {
    expect(isNeverAllowedFunction(name)).toBe(true);
    expect(functionRefusal(name, [name])).toMatch(new RegExp(`^function ${name} is never allowed in a job`));
  });
});

describe('job files', () => {
  const aggregate = {
    kind: 'aggregate',
    source: { table: 'events', timeColumn: 'ts' },
    target: { table: 'daily' },
    keys: ['user_id'],
    date: { expression: 'toDate(ts)' },
    metrics: { n: 'count()', spent: 'sumIf(amount, amount > 0)' },
  };

  it('accept an aggregate job using allowed functions only', () => {
    expect(aggregateJobSchema.safeParse(aggregate).success).toBe(true);
  });

  it('refuse a function outside the families, naming it and where it is', () => {
    const result = aggregateJobSchema.safeParse({ ...aggregate, metrics: { n: 'sum(dictGet(d, a, user_id))' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['metrics', 'n'], message: expect.stringContaining('function dictGet') }),
    ]);
    const named = aggregateJobSchema.safeParse({
      ...aggregate,
      metrics: { n: 'sum(dictGet(d, a, user_id))' },
      allowFunctions: ['dictGet'],
    });
    expect(named.success).toBe(true);
  });

  it('refuse sleepEachRow in a view even when named', () => {
    const view = {
      kind: 'view',
      source: { table: 'events', timeColumn: 'ts' },
      target: { table: 'per_day' },
      view: { name: 'per_day_mv' },
      groupBy: { day: 'toDate(ts)' },
      aggregates: { n: 'count()' },
      where: 'sleepEachRow(1) = 0',
      allowFunctions: ['sleepEachRow'],
    };
    const result = viewJobSchema.safeParse(view);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['where'], message: expect.stringContaining('sleepEachRow is never allowed') }),
    ]);
  });
});

describe('docs/functions.md', () => {
  it('lists every allowed name and every never-allowed name', () => {
    const doc = readFileSync(join(__dirname, '../../docs/functions.md'), 'utf8');
    const names = [
      ...Object.values(ALLOWED_FUNCTION_FAMILIES).flatMap((f) => f.names),
      ...NEVER_ALLOWED_FUNCTIONS,
      ...AGGREGATE_COMBINATORS.map((c) => `-${c}`),
    ];
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });
});
