import { columnsOf, ExpressionSyntaxError, parseExpression, type Expr } from '../../shared/expression-syntax';
import { isPlainIdentifier } from '../../shared/plain-identifier';
import { tokenize, ViewRepointError, type Token } from '../import/repoint-view-select';

/**
 * Which source rows feed one partition of a view's target: the expression the view's stored query gives the
 * target's partition column (`toDate(timestamp) AS day`), read as an expression of the source's own columns, so that
 * `toDate(<expression>)` over the source's rows says which target day, and partition, each row feeds. Found by
 * ClickHouse tokens over the server's own text (no string search) and parsed by the job spec's expression language;
 * the SQL is rendered from the parsed tree, never copied. Whatever does not fit is a reason, not an error: the
 * restate then records no source fingerprint.
 */
export type SourceDate = { expr: Expr } | { reason: string };

const isWord = (t: Token | undefined, word: string): boolean =>
  t !== undefined && t.kind === 'word' && t.value.toUpperCase() === word;
const isPunct = (t: Token | undefined, char: string): boolean =>
  t !== undefined && t.kind === 'punct' && t.text === char;
const isName = (t: Token | undefined): boolean => t !== undefined && (t.kind === 'word' || t.kind === 'identifier');

/** The outer SELECT list's items (tokens, spaces kept), or why there is none to read. */
function selectItems(select: string): Token[][] | string {
  let tokens: Token[];
  try {
    tokens = tokenize(select);
  } catch (err) {
    if (err instanceof ViewRepointError) return err.message;
    throw err;
  }
  const sig = tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  if (!isWord(sig[0], 'SELECT')) return 'its query does not start with SELECT';
  const items: Token[][] = [[]];
  let depth = 0;
  let from = -1;
  const start = tokens.indexOf(sig[0]) + 1;
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i];
    if (isPunct(t, '(')) depth++;
    if (isPunct(t, ')')) depth--;
    if (depth === 0 && isWord(t, 'FROM')) {
      from = i;
      break;
    }
    if (depth === 0 && isPunct(t, ',')) items.push([]);
    else items[items.length - 1].push(t);
  }
  if (from < 0) return 'its query has no FROM';
  const after = tokens.slice(from + 1).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  if (isPunct(after[0], '(')) return 'it reads its source through a subquery';
  if (after.some((t) => isWord(t, 'UNION'))) return 'its query is a UNION';
  return items;
}

/**
 * The expression of `column` in the view's stored query `select`, over the source's columns `sourceColumns`; or
 * why it cannot be read as one (the column comes from `*`, another alias, a subquery, or an expression outside the
 * job spec's language).
 */
export function sourceDateOf(select: string, column: string, sourceColumns: readonly string[]): SourceDate {
  const items = selectItems(select);
  if (typeof items === 'string') return { reason: items };
  for (const item of items) {
    const sig = item.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
    const last = sig[sig.length - 1];
    let text: string | undefined;
    if (sig.length === 1 && isName(last) && last.value === column) text = last.value;
    else if (sig.length > 2 && isWord(sig[sig.length - 2], 'AS') && isName(last) && last.value === column) {
      text = item
        .slice(0, item.indexOf(sig[sig.length - 2]))
        // A quoted plain name (`timestamp`) as the expression language writes it; any other quoting stays, refused.
        .map((t) => (t.kind === 'identifier' && isPlainIdentifier(t.value) ? t.value : t.text))
        .join('')
        .trim();
    }
    if (text === undefined) continue;
    let expr: Expr;
    try {
      expr = parseExpression(text);
    } catch (err) {
      if (!(err instanceof ExpressionSyntaxError)) throw err;
      return { reason: `the view computes ${column} as ${text}, outside the expressions a job may use` };
    }
    const foreign = columnsOf(expr).filter((c) => !sourceColumns.includes(c));
    if (foreign.length > 0) {
      return { reason: `the view computes ${column} from ${foreign.join(', ')}, not a column of the source` };
    }
    return { expr };
  }
  return { reason: `the view's query names no output column ${column} of its own` };
}

/** `toDate(<expression>)`: the day of a source row in the target's partitioning (the expression when it is one). */
export function sourceDayOf(expr: Expr): Expr {
  if (expr.kind === 'call' && expr.name === 'toDate' && expr.args.length === 1 && !expr.params) return expr;
  return { kind: 'call', name: 'toDate', args: [expr] };
}
