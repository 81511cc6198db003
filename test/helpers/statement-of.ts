import type { Statement } from '../../src/clickhouse/statement';

/**
 * A test's inline SQL with the shape of its rows stated where the SQL is written, as the builders in src/sql do
 * (`ch.rows` takes no type argument).
 */
export const statementOf = <Row>(statement: Statement): Statement<Row> => statement;
