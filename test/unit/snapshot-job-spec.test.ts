import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describeIssues } from '../../src/shared/input-errors';
import { jobSpecSchema, viewJobSchema } from '../../src/shared/job-spec';

/** The message the CLI shows for a view job, or undefined when it is accepted. */
function messageFor(job: unknown): string | undefined {
  const parsed = jobSpecSchema.safeParse(job);
  return parsed.success ? undefined : describeIssues(parsed.error);
}

const example = (): Record<string, unknown> =>
  parse(readFileSync(path.resolve(__dirname, '../../examples/pypi-downloads-per-day-snapshot.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;

describe('a view job over a source without a time column (cutoff: snapshot)', () => {
  it('the example job file parses as it is, with no time column', () => {
    const job = viewJobSchema.parse(example());
    expect(job).toMatchObject({ kind: 'view', cutoff: 'snapshot', source: { table: 'pypi' }, fill: 'null' });
    expect(job.source.timeColumn).toBeUndefined();
  });

  it('refuses a time column next to cutoff: snapshot, saying what to do instead', () => {
    const job = { ...example(), source: { table: 'pypi', timeColumn: 'timestamp' } };
    expect(messageFor(job)).toBe(
      'source.timeColumn: not used with cutoff: snapshot (the view takes every row inserted once it exists); ' +
        'remove it, or give cutoff: auto to split the rows by it instead',
    );
  });

  it.each(['auto', '2030-01-01T00:00:00Z'])(
    'refuses a missing time column with cutoff %s, pointing to cutoff: snapshot',
    (cutoff) => {
      expect(messageFor({ ...example(), cutoff })).toBe(
        'source.timeColumn: required: the DateTime column the cutoff applies to; for a source without one, omit it ' +
          'and set cutoff: snapshot (inserts are paused while the source is snapshotted)',
      );
    },
  );

  it('names snapshot among the cutoffs a job may give', () => {
    expect(messageFor({ ...example(), cutoff: 'later' })).toContain(
      'cutoff: later is not auto, snapshot or a UTC time written YYYY-MM-DDThh:mm:ssZ',
    );
  });
});
