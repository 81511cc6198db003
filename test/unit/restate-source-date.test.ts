import { sourceDateOf } from '../../src/sql/view-restate/source-date';
import { renderExpression } from '../../src/sql/engine/expression';

describe('sourceDateOf: which source rows feed a partition of a view target', () => {
  const columns = ['timestamp', 'project', 'type'];
  const rendered = (select: string, column: string) => {
    const day = sourceDateOf(select, column, columns);
    return 'expr' in day ? renderExpression(day.expr) : `reason: ${day.reason}`;
  };

  it('reads the expression the view gives the partition column, or the column passed through', () => {
    expect(
      rendered(
        'SELECT toDate(timestamp) AS day, project, count() AS downloads FROM db.pypi GROUP BY day, project',
        'day',
      ),
    ).toBe('toDate(`timestamp`)');
    expect(rendered('SELECT timestamp, project FROM db.pypi', 'timestamp')).toBe('`timestamp`');
    expect(rendered('SELECT toStartOfMonth(`timestamp`) AS `month` FROM `db`.`pypi`', 'month')).toBe(
      'toStartOfMonth(`timestamp`)',
    );
  });

  it('gives a reason when the query does not say', () => {
    expect(rendered('SELECT * FROM db.pypi', 'day')).toBe(
      "reason: the view's query names no output column day of its own",
    );
    expect(rendered('SELECT day FROM (SELECT toDate(timestamp) AS day FROM db.pypi)', 'day')).toBe(
      'reason: it reads its source through a subquery',
    );
    expect(rendered('SELECT toDate(ts) AS day FROM db.pypi', 'day')).toBe(
      'reason: the view computes day from ts, not a column of the source',
    );
    expect(rendered('SELECT toDate(timestamp + INTERVAL 1 DAY) AS day FROM db.pypi', 'day')).toContain(
      'outside the expressions a job may use',
    );
  });
});
