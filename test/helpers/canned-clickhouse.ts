import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import type { Statement } from '../../src/clickhouse/statement';

/** A canned answer: the rows of the first statement whose text contains `match`, or a function of its params. */
export interface CannedAnswer {
  match: string;
  rows: unknown[] | ((statement: Statement) => unknown[]);
}

/**
 * A fake ClickHouse that answers recorded system-table rows by query text (the first answer whose `match` the
 * query contains), and records every statement in `sent`. A query no answer matches fails the test loudly.
 */
export function cannedClickHouse(answers: CannedAnswer[], embedded = false): { ch: ClickHouse; sent: Statement[] } {
  const sent: Statement[] = [];
  const answer = (statement: Statement): unknown[] => {
    sent.push(statement);
    const found = answers.find((a) => statement.query.includes(a.match));
    if (!found) throw new Error(`no canned answer for: ${statement.query}`);
    return typeof found.rows === 'function' ? found.rows(statement) : found.rows;
  };
  const ch: ClickHouse = {
    embedded,
    rows: <T>(statement: Statement<T>) => Promise.resolve(answer(statement) as T[]),
    exec: (statement: Statement) => Promise.resolve(void answer(statement)),
    close: () => Promise.resolve(),
    // The control pool is the same server: its statements answer and record alike.
    get control() {
      return ch;
    },
  };
  return { ch, sent };
}
