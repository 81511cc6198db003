import { functionsOf, parseAggregateMetric, parseExpression } from '../../src/shared/expression-syntax';
import { renderAggregate, renderExpression } from '../../src/sql/engine/expression';
import { quoteStringLiteral } from '../../src/sql/engine/quote-identifier';
import { hostileStrings } from '../helpers/hostile-strings';

describe('string literals in job expressions: parsed into their value, rendered again by the quoting helper', () => {
  it('renders sumIf(ctr, host = x) and countIf(kind = buy)', () => {
    expect(renderAggregate(parseAggregateMetric("sumIf(ctr, host = 'x')"))).toBe("sumIf(`ctr`, (`host` = 'x'))");
    expect(renderAggregate(parseAggregateMetric("countIf(kind = 'buy')"))).toBe("countIf((`kind` = 'buy'))");
    expect(functionsOf(parseExpression("countIf(kind = 'buy')"))).toEqual(['countIf']);
  });

  it("reads '' and \\' as a quote and \\\\ as a backslash, and renders them escaped", () => {
    expect(parseExpression("kind = 'it''s'")).toEqual({
      kind: 'binary',
      op: '=',
      left: { kind: 'column', name: 'kind' },
      right: { kind: 'string', value: "it's" },
    });
    expect(renderExpression(parseExpression("k = 'a\\'b\\\\'"))).toBe("(`k` = 'a\\'b\\\\')");
  });

  it('refuses other escapes, control characters and an unterminated literal', () => {
    expect(() => parseExpression("k = 'a\\nb'")).toThrow('escape');
    expect(() => parseExpression("k = 'a\nb'")).toThrow('control character');
    expect(() => parseExpression("k = 'abc")).toThrow('unterminated string literal');
  });

  it('keeps every hostile value inside its literal: the rendered SQL reads back the same value', () => {
    for (const value of hostileStrings().filter((v) => !/[\u0000-\u001f\u007f]/.test(v))) {
      const quoted = quoteStringLiteral(value);
      expect(parseExpression(`k = ${quoted}`)).toEqual({
        kind: 'binary',
        op: '=',
        left: { kind: 'column', name: 'k' },
        right: { kind: 'string', value },
      });
    }
  });
});
