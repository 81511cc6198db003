import {
  columnsOf,
  ExpressionSyntaxError,
  functionsOf,
  MAX_EXPRESSION_LENGTH,
  MetricShapeError,
  parseAggregateMetric,
  parseExpression,
} from '../../src/shared/expression-syntax';
import {
  renderAggregate,
  renderExpression,
  renderMergeAggregate,
  renderStateAggregate,
} from '../../src/sql/engine/expression';
import { quoteAllowListedIdentifier } from '../../src/sql/engine/quote-identifier';

const render = (text: string): string => renderExpression(parseExpression(text));

describe('quoteAllowListedIdentifier', () => {
  it('wraps a plain name in backticks', () => {
    expect(quoteAllowListedIdentifier('ctr')).toBe('`ctr`');
    expect(quoteAllowListedIdentifier('_Col_2')).toBe('`_Col_2`');
  });

  it.each(['a b', 'a;b', 'a`b', '1a', '', 'db.col', 'a\n'])('refuses %j, naming it', (name) => {
    expect(() => quoteAllowListedIdentifier(name)).toThrow(`refusing to quote identifier ${JSON.stringify(name)}`);
  });
});

describe('the example metrics of a job spec', () => {
  it.each([
    ['count()', 'count()', [], ['count']],
    ['sum(ctr)', 'sum(`ctr`)', ['ctr'], ['sum']],
    ['sum(ctr * ctr)', 'sum((`ctr` * `ctr`))', ['ctr'], ['sum']],
    ['groupUniqArray(toHour(ts))', 'groupUniqArray(toHour(`ts`))', ['ts'], ['groupUniqArray', 'toHour']],
    ['toDate(ts)', 'toDate(`ts`)', ['ts'], ['toDate']],
  ])('%s renders as %s and reads columns %j via functions %j', (text, sql, columns, functions) => {
    const e = parseExpression(text);
    expect(renderExpression(e)).toBe(sql);
    expect(columnsOf(e)).toEqual(columns);
    expect(functionsOf(e)).toEqual(functions);
  });

  it('renders canonical SQL that parses back to the same tree', () => {
    for (const text of ['count()', 'sum(ctr)', 'sum(ctr * ctr)', 'groupUniqArray(toHour(ts))', 'quantile(0.9)(x)']) {
      const e = parseExpression(text);
      // Columns come back backticked, which the grammar refuses, so compare with the backticks removed.
      expect(parseExpression(renderExpression(e).replace(/`/g, ''))).toEqual(e);
    }
  });
});

describe('precedence', () => {
  it.each([
    ['a + b * c', '(`a` + (`b` * `c`))'],
    ['(a + b) * c', '((`a` + `b`) * `c`)'],
    ['a - b - c', '((`a` - `b`) - `c`)'],
    ['a / b % c', '((`a` / `b`) % `c`)'],
    ['-x', '(-`x`)'],
    ['-x * y', '((-`x`) * `y`)'],
    ['a - -1', '(`a` - (-1))'],
    ['NOT a AND b', '((NOT `a`) AND `b`)'],
    ['a OR b AND c', '(`a` OR (`b` AND `c`))'],
    ['not a or b', '((NOT `a`) OR `b`)'],
    ['NOT a = b', '(NOT (`a` = `b`))'],
    ['a + 1 > b * 2', '((`a` + 1) > (`b` * 2))'],
    ['a <= 1 AND b <> 2 OR c != 3', '(((`a` <= 1) AND (`b` <> 2)) OR (`c` != 3))'],
    ['x >= 1e-3', '(`x` >= 1e-3)'],
  ])('%s renders as %s', (text, sql) => {
    expect(render(text)).toBe(sql);
  });

  it('parses numbers as their decimal text', () => {
    expect(parseExpression('0.5')).toEqual({ kind: 'number', text: '0.5' });
    expect(parseExpression('1E+10')).toEqual({ kind: 'number', text: '1E+10' });
  });
});

describe('calls', () => {
  it('reads a parametric aggregate as parameters then arguments', () => {
    expect(parseExpression('quantile(0.9)(x)')).toEqual({
      kind: 'call',
      name: 'quantile',
      params: [{ kind: 'number', text: '0.9' }],
      args: [{ kind: 'column', name: 'x' }],
    });
    expect(render('quantiles(0.5, 0.99)(latency_ms)')).toBe('quantiles(0.5, 0.99)(`latency_ms`)');
  });

  it('reads count(*) as count()', () => {
    expect(parseExpression('count(*)')).toEqual(parseExpression('count()'));
    expect(render('COUNT( * )')).toBe('COUNT()');
  });

  it('lists every column and function once, in first-seen order', () => {
    const e = parseExpression('sumIf(x * y, y > 1 AND f(x, g(z)) = f(z))');
    expect(columnsOf(e)).toEqual(['x', 'y', 'z']);
    expect(functionsOf(e)).toEqual(['sumIf', 'f', 'g']);
  });
});

describe('refusals', () => {
  it.each([
    ['sum(x); DROP TABLE t', 'unexpected ";" at position 6'],
    ['sum("a")', `unexpected "\\"" at position 4`],
    ['sum("x")', 'unexpected "\\"" at position 4'],
    ['sum(`x`)', 'unexpected "`" at position 4'],
    ['sum(x) -- c', 'unexpected "--" at position 7'],
    ['sum(x) /* c */', 'unexpected "/*" at position 7'],
    ['sum(db.x)', 'unexpected "." at position 6'],
    ['sum(x', 'unexpected end of input at position 5'],
    ['sum(x))', 'unexpected ")" at position 6'],
    ['sum(x) y', 'unexpected "y" at position 7'],
    ['sum({p:String})', 'unexpected "{" at position 4'],
    ['sum(x) > ?', 'unexpected "?" at position 9'],
    ['(SELECT 1)', 'unexpected "SELECT" at position 1'],
    ['sum(select)', 'unexpected "select" at position 4'],
    ['count(*) + *', 'unexpected "*" at position 11'],
    ['sum(*)', 'unexpected "*" at position 4'],
    ['quantile()(x)', 'unexpected "(" at position 10'],
    ['a < b < c', 'unexpected "<" at position 6'],
    ['sum(1a)', 'unexpected "a" at position 5'],
    ['a AND', 'unexpected end of input at position 5'],
  ])('refuses %j: %s', (text, detail) => {
    expect(() => parseExpression(text)).toThrow(ExpressionSyntaxError);
    expect(() => parseExpression(text)).toThrow(`cannot parse ${JSON.stringify(text)}: ${detail}`);
  });

  it('refuses empty and blank input', () => {
    expect(() => parseExpression('')).toThrow('cannot parse "": it is empty');
    expect(() => parseExpression(' \n ')).toThrow(ExpressionSyntaxError);
  });

  it(`refuses input longer than ${MAX_EXPRESSION_LENGTH} characters`, () => {
    const long = `sum(${'x + '.repeat(500)}x)`;
    expect(() => parseExpression(long)).toThrow(`longer than ${MAX_EXPRESSION_LENGTH} characters`);
  });

  it('refuses to render a hand-built tree with a name or number outside the allow-list', () => {
    expect(() => renderExpression({ kind: 'column', name: 'x`; DROP' })).toThrow('refusing to quote identifier');
    expect(() => renderExpression({ kind: 'call', name: 'f; DROP', args: [] })).toThrow('refusing to render function');
    expect(() => renderExpression({ kind: 'number', text: '1; DROP' })).toThrow('refusing to render number');
  });
});

describe('aggregate metrics', () => {
  it('splits a parametric call into function, parameters and arguments', () => {
    expect(parseAggregateMetric('quantile(0.9)(x)')).toEqual({
      fn: 'quantile',
      params: [{ kind: 'number', text: '0.9' }],
      args: [{ kind: 'column', name: 'x' }],
    });
  });

  it('refuses a metric that is not one function call, as a MetricShapeError', () => {
    expect(() => parseAggregateMetric('ctr * 2')).toThrow(MetricShapeError);
    expect(() => parseAggregateMetric('ctr * 2')).toThrow(
      '"ctr * 2" is not an aggregate call: a metric must be one aggregate function call such as sum(x)',
    );
    expect(() => parseAggregateMetric('sum(x) / count()')).toThrow(MetricShapeError);
    expect(() => parseAggregateMetric('sum(x')).toThrow(ExpressionSyntaxError);
  });

  it('renders quantile(0.9)(x) as plain, state and merge aggregates', () => {
    const m = parseAggregateMetric('quantile(0.9)(x)');
    expect(renderAggregate(m)).toBe('quantile(0.9)(`x`)');
    expect(renderStateAggregate(m)).toBe('quantileState(0.9)(`x`)');
    expect(renderMergeAggregate(m, 'm')).toBe('quantileMerge(0.9)(`m`)');
  });

  it('renders sumIf(x, y > 1) as plain, state and merge aggregates', () => {
    const m = parseAggregateMetric('sumIf(x, y > 1)');
    expect(renderAggregate(m)).toBe('sumIf(`x`, (`y` > 1))');
    expect(renderStateAggregate(m)).toBe('sumIfState(`x`, (`y` > 1))');
    expect(renderMergeAggregate(m, 'daily_sum')).toBe('sumIfMerge(`daily_sum`)');
  });

  it('renders count(*) state and merge without arguments to the state', () => {
    const m = parseAggregateMetric('count(*)');
    expect(renderStateAggregate(m)).toBe('countState()');
    expect(renderMergeAggregate(m, 'daily_events')).toBe('countMerge(`daily_events`)');
  });

  it('quotes the merge column through the allow-list', () => {
    expect(() => renderMergeAggregate(parseAggregateMetric('sum(x)'), 'a`b')).toThrow(
      'refusing to quote identifier "a`b"',
    );
  });
});
