import { addCondition, parseCreateViewText, ViewSelectError } from '../../src/sql/view/select-condition';
import { readSelectAst } from '../../src/activities/view/select-ast';

const C = '`ts` >= toDateTime(1)';

describe('addCondition: the user text kept character for character, one condition added', () => {
  it('wraps an existing WHERE in parentheses and adds AND before GROUP BY', () => {
    const select =
      "SELECT toDate(ts) AS d, countIf(kind = 'buy') AS buys\nFROM db.events\nWHERE kind = 'click' OR x\nGROUP BY d";
    expect(addCondition(select, C)).toBe(
      "SELECT toDate(ts) AS d, countIf(kind = 'buy') AS buys\nFROM db.events\nWHERE (kind = 'click' OR x) AND `ts` >= toDateTime(1)\nGROUP BY d",
    );
  });

  it('adds a WHERE where none is, before GROUP BY or at the end, never inside a trailing comment', () => {
    expect(addCondition('SELECT a FROM t GROUP BY a', C)).toBe(`SELECT a FROM t WHERE ${C} GROUP BY a`);
    expect(addCondition('SELECT a FROM t -- the end', C)).toBe(`SELECT a FROM t WHERE ${C} -- the end`);
    expect(addCondition('SELECT a FROM t ARRAY JOIN tags AS tag', C)).toBe(
      `SELECT a FROM t ARRAY JOIN tags AS tag WHERE ${C}`,
    );
  });

  it('ignores WHERE and GROUP inside strings, comments, quoted names and subexpressions', () => {
    const select =
      "SELECT 'WHERE' AS `GROUP`, (SELECT 1 WHERE 1) FROM t /* GROUP BY */ WHERE s = 'x GROUP BY y' ORDER BY a";
    expect(addCondition(select, C)).toBe(
      `SELECT 'WHERE' AS \`GROUP\`, (SELECT 1 WHERE 1) FROM t /* GROUP BY */ WHERE (s = 'x GROUP BY y') AND ${C} ORDER BY a`,
    );
  });

  it('refuses query parameters, a second statement and a text without SELECT … FROM', () => {
    expect(() => addCondition('SELECT a FROM t WHERE a = {x:String}', C)).toThrow(ViewSelectError);
    expect(() => addCondition('SELECT a FROM t; DROP TABLE t', C)).toThrow('";"');
    expect(() => addCondition('SELECT 1', C)).toThrow('no top-level SELECT … FROM');
  });
});

describe('parseCreateViewText', () => {
  it('takes the view, its TO table and the SELECT as written', () => {
    const sql =
      'CREATE MATERIALIZED VIEW IF NOT EXISTS db.`mv` TO db.target (d Date, n UInt64)\nAS SELECT d, count() AS n\nFROM db.src GROUP BY d;\n';
    expect(parseCreateViewText(sql)).toEqual({
      view: 'db.mv',
      target: 'db.target',
      select: 'SELECT d, count() AS n\nFROM db.src GROUP BY d',
    });
  });

  it('refuses a view without TO, POPULATE and other statements', () => {
    expect(() => parseCreateViewText('CREATE MATERIALIZED VIEW mv ENGINE = MergeTree AS SELECT 1')).toThrow(
      'no TO table',
    );
    expect(() => parseCreateViewText('CREATE MATERIALIZED VIEW mv TO t POPULATE AS SELECT 1')).toThrow('POPULATE');
    expect(() => parseCreateViewText('DROP TABLE t')).toThrow(ViewSelectError);
  });
});

describe('readSelectAst', () => {
  it('reads tables, table functions, functions, aliases and dictionaries of EXPLAIN AST', () => {
    const lines = [
      'SelectWithUnionQuery (children 1)',
      ' ExpressionList (children 1)',
      '  SelectQuery (children 3)',
      '   ExpressionList (children 2)',
      '    Function toDate (alias ts) (children 1)',
      '     ExpressionList (children 1)',
      '      Identifier ts',
      '    Function dictGet (alias c) (children 1)',
      '     ExpressionList (children 3)',
      "      Literal 'db.dict'",
      "      Literal 'x'",
      '      Identifier id',
      '   TablesInSelectQuery (children 2)',
      '    TablesInSelectQueryElement (children 1)',
      '     TableExpression (children 1)',
      '      TableIdentifier db.events',
      '    TablesInSelectQueryElement (children 1)',
      '     TableExpression (children 1)',
      '      Function numbers (children 1)',
    ];
    expect(readSelectAst(lines)).toEqual({
      selects: 1,
      tables: ['db.events'],
      tableFunctions: ['numbers'],
      functions: ['toDate', 'dictGet'],
      aliases: [
        { alias: 'ts', node: 'Function toDate' },
        { alias: 'c', node: 'Function dictGet' },
      ],
      joins: true,
      dictionaries: ['db.dict'],
    });
  });
});
