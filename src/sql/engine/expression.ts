/**
 * SQL of the job spec's expressions (see src/shared/expression-syntax.ts for the language and its parser).
 *
 * User text is never interpolated into SQL: it is parsed into an {@link Expr} and the SQL is re-rendered
 * from that tree, every column quoted by {@link quoteAllowListedIdentifier}.
 */
import type { AggregateMetric, Expr } from '../../shared/expression-syntax';
import { isPlainIdentifier } from '../../shared/plain-identifier';
import { quoteAllowListedIdentifier, quoteStringLiteral } from './quote-identifier';

const NUMBER = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** How a column reference is rendered: by default its quoted name. */
export type ColumnRenderer = (name: string) => string;

function renderCall(name: string, params: Expr[], args: Expr[], column: ColumnRenderer): string {
  if (!isPlainIdentifier(name)) throw new Error(`refusing to render function name ${JSON.stringify(name)}`);
  const list = (items: Expr[]) => `(${items.map((e) => renderExpression(e, column)).join(', ')})`;
  return params.length > 0 ? `${name}${list(params)}${list(args)}` : `${name}${list(args)}`;
}

/**
 * Renders canonical SQL: columns quoted by {@link quoteAllowListedIdentifier}, function names checked to be
 * plain names and emitted bare, every unary and binary expression parenthesised so precedence is explicit.
 * `column` renders a column reference (a view's SELECT qualifies the columns an output alias would capture).
 *
 * @throws Error for a column or function name that is not a plain name, or a number that is not decimal.
 */
export function renderExpression(e: Expr, column: ColumnRenderer = quoteAllowListedIdentifier): string {
  switch (e.kind) {
    case 'column':
      return column(e.name);
    case 'number':
      if (!NUMBER.test(e.text)) throw new Error(`refusing to render number ${JSON.stringify(e.text)}`);
      return e.text;
    case 'string':
      return quoteStringLiteral(e.value);
    case 'call':
      return renderCall(e.name, e.params ?? [], e.args, column);
    case 'unary':
      return e.op === '-'
        ? `(-${renderExpression(e.operand, column)})`
        : `(NOT ${renderExpression(e.operand, column)})`;
    case 'binary':
      return `(${renderExpression(e.left, column)} ${e.op} ${renderExpression(e.right, column)})`;
  }
}

/** Plain aggregate: `fn(params)(args)`, or `fn(args)` without parameters. */
export function renderAggregate(m: AggregateMetric, column: ColumnRenderer = quoteAllowListedIdentifier): string {
  return renderCall(m.fn, m.params, m.args, column);
}

/** First level of a two-level aggregation: `fnState(params)(args)`, a partial state per salted group. */
export function renderStateAggregate(m: AggregateMetric, column: ColumnRenderer = quoteAllowListedIdentifier): string {
  return renderCall(`${m.fn}State`, m.params, m.args, column);
}

/** Second level: `fnMerge(params)(`column`)`, merging the partial states stored in `column`. */
export function renderMergeAggregate(m: AggregateMetric, column: string): string {
  return renderCall(`${m.fn}Merge`, m.params, [{ kind: 'column', name: column }], quoteAllowListedIdentifier);
}
