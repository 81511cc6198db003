/**
 * A strict, small expression language for the metric and date expressions of a job spec
 * (`sum(ctr * ctr)`, `quantile(0.9)(latency)`, `toDate(ts)`): its syntax tree and parser, which the job spec's
 * schema checks with. The SQL is rendered from the tree in src/sql/engine/expression.ts.
 *
 * String literals (`'buy'`, with `''` or `\'` for a quote) are read into their value and rendered again by the
 * quoting helper, never copied. Anything else outside the grammar (other quotes, comments, semicolons, dots, query
 * parameters, subqueries) is refused.
 */

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

/** Parsed expression. `params` is the first argument list of a parametric aggregate: `quantile(0.9)(x)`. */
export type Expr =
  | { kind: 'column'; name: string }
  | { kind: 'number'; text: string }
  /** A string literal's value, quotes and escapes removed (rendered by `quoteStringLiteral`). */
  | { kind: 'string'; value: string }
  | { kind: 'call'; name: string; params?: Expr[]; args: Expr[] }
  | { kind: 'unary'; op: '-' | 'NOT'; operand: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

/** One aggregate function call, e.g. `quantile(0.9)(x)` → `{ fn: 'quantile', params: [0.9], args: [x] }`. */
export interface AggregateMetric {
  fn: string;
  params: Expr[];
  args: Expr[];
}

/** Thrown for text outside the grammar; the message quotes the expression and says what was unexpected where. */
export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown by {@link parseAggregateMetric} when a well-formed expression is not a single function call. */
export class MetricShapeError extends ExpressionSyntaxError {}

/** Longest expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 2000;

// Whitespace | identifier | number | operator or punctuation. Sticky: matches only at lastIndex.
const TOKEN = /([ \t\r\n]+)|([A-Za-z_][A-Za-z0-9_]*)|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(<=|>=|<>|!=|[-+*/%=<>(),])/y;
const KEYWORDS = new Set(['AND', 'OR', 'NOT']);
const COMPARISON_OPS = new Set(['=', '!=', '<>', '<', '<=', '>', '>=']);

interface Token {
  type: 'ident' | 'number' | 'op' | 'string' | 'end';
  text: string;
  /** 0-based character offset in the expression. */
  pos: number;
}

function unexpected(text: string, what: string, pos: number): ExpressionSyntaxError {
  return new ExpressionSyntaxError(`cannot parse ${JSON.stringify(text)}: unexpected ${what} at position ${pos}`, text);
}

/**
 * The string literal starting at `start` (a `'`): its value (`''` and `\'` are a quote, `\\` a backslash) and
 * where it ends. Control characters and other backslash escapes are refused, so what is rendered again is plain.
 */
function readStringLiteral(text: string, start: number): { value: string; end: number } {
  let value = '';
  let pos = start + 1;
  while (pos < text.length) {
    const c = text[pos];
    if (c === "'" && text[pos + 1] === "'") {
      value += "'";
      pos += 2;
    } else if (c === "'") {
      return { value, end: pos + 1 };
    } else if (c === '\\') {
      const next = text[pos + 1];
      if (next !== "'" && next !== '\\') throw unexpected(text, `escape ${JSON.stringify(c + (next ?? ''))}`, pos);
      value += next;
      pos += 2;
    } else if (c < ' ' || c === '\u007f') {
      throw unexpected(text, 'control character in a string literal', pos);
    } else {
      value += c;
      pos += 1;
    }
  }
  throw unexpected(text, 'unterminated string literal', start);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    if (text.startsWith('--', pos) || text.startsWith('/*', pos)) {
      throw unexpected(text, JSON.stringify(text.slice(pos, pos + 2)), pos);
    }
    if (text[pos] === "'") {
      const literal = readStringLiteral(text, pos);
      tokens.push({ type: 'string', text: literal.value, pos });
      pos = literal.end;
      continue;
    }
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw unexpected(text, JSON.stringify(String.fromCodePoint(text.codePointAt(pos)!)), pos);
    const [whole, space, ident, number] = m;
    if (ident !== undefined && ident.toUpperCase() === 'SELECT') throw unexpected(text, JSON.stringify(ident), pos);
    if (number !== undefined && /[A-Za-z_]/.test(text.charAt(pos + whole.length))) {
      throw unexpected(text, JSON.stringify(text.charAt(pos + whole.length)), pos + whole.length);
    }
    if (space === undefined) {
      tokens.push({ type: ident !== undefined ? 'ident' : number !== undefined ? 'number' : 'op', text: whole, pos });
    }
    pos += whole.length;
  }
  tokens.push({ type: 'end', text: '', pos });
  return tokens;
}

/**
 * Parses an expression. Grammar, loosest binding first: OR, AND, NOT, one comparison
 * (`= != <> < <= > >=`), `+ -`, `* / %`, unary `-`, then primaries: decimal numbers, plain column names,
 * parenthesised expressions and calls `f(args)` / `f(params)(args)`. `count(*)` is read as `count()`.
 * AND, OR and NOT are case-insensitive keywords.
 *
 * @throws ExpressionSyntaxError for anything else, e.g. `cannot parse "sum(x;": unexpected ";" at position 5`.
 */
export function parseExpression(text: string): Expr {
  if (text.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(
      `cannot parse ${JSON.stringify(text.slice(0, 40) + '…')}: longer than ${MAX_EXPRESSION_LENGTH} characters`,
      text,
    );
  }
  if (text.trim() === '') throw new ExpressionSyntaxError(`cannot parse ${JSON.stringify(text)}: it is empty`, text);

  const tokens = tokenize(text);
  let i = 0;
  const peek = (): Token => tokens[i]!;
  const fail = (t: Token): never => {
    throw unexpected(text, t.type === 'end' ? 'end of input' : JSON.stringify(t.text), t.pos);
  };
  const isOp = (t: Token, op: string): boolean => t.type === 'op' && t.text === op;
  const isKeyword = (t: Token, keyword: string): boolean => t.type === 'ident' && t.text.toUpperCase() === keyword;
  const expect = (op: string): void => {
    if (!isOp(peek(), op)) fail(peek());
    i++;
  };

  const or = (): Expr => {
    let left = and();
    while (isKeyword(peek(), 'OR')) {
      i++;
      left = { kind: 'binary', op: 'OR', left, right: and() };
    }
    return left;
  };
  const and = (): Expr => {
    let left = not();
    while (isKeyword(peek(), 'AND')) {
      i++;
      left = { kind: 'binary', op: 'AND', left, right: not() };
    }
    return left;
  };
  const not = (): Expr => {
    if (!isKeyword(peek(), 'NOT')) return comparison();
    i++;
    return { kind: 'unary', op: 'NOT', operand: not() };
  };
  const comparison = (): Expr => {
    const left = additive();
    const t = peek();
    if (t.type !== 'op' || !COMPARISON_OPS.has(t.text)) return left;
    i++;
    return { kind: 'binary', op: t.text as BinaryOp, left, right: additive() };
  };
  const leftAssociative = (ops: string[], operand: () => Expr) => (): Expr => {
    let left = operand();
    for (let t = peek(); t.type === 'op' && ops.includes(t.text); t = peek()) {
      i++;
      left = { kind: 'binary', op: t.text as BinaryOp, left, right: operand() };
    }
    return left;
  };
  const unary = (): Expr => {
    if (!isOp(peek(), '-')) return primary();
    i++;
    return { kind: 'unary', op: '-', operand: unary() };
  };
  const multiplicative = leftAssociative(['*', '/', '%'], unary);
  const additive = leftAssociative(['+', '-'], multiplicative);

  const argumentList = (allowStar: boolean): Expr[] => {
    expect('(');
    const list: Expr[] = [];
    if (allowStar && isOp(peek(), '*') && isOp(tokens[i + 1]!, ')')) {
      i++;
    } else if (!isOp(peek(), ')')) {
      list.push(or());
      while (isOp(peek(), ',')) {
        i++;
        list.push(or());
      }
    }
    expect(')');
    return list;
  };
  const call = (name: string): Expr => {
    const first = argumentList(name.toLowerCase() === 'count');
    if (!isOp(peek(), '(')) return { kind: 'call', name, args: first };
    if (first.length === 0) fail(peek()); // `f()(x)`: an empty parameter list is refused, not silently dropped
    return { kind: 'call', name, params: first, args: argumentList(false) };
  };
  const primary = (): Expr => {
    const t = peek();
    if (t.type === 'number') {
      i++;
      return { kind: 'number', text: t.text };
    }
    if (t.type === 'string') {
      i++;
      return { kind: 'string', value: t.text };
    }
    if (isOp(t, '(')) {
      i++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.type !== 'ident' || KEYWORDS.has(t.text.toUpperCase())) return fail(t);
    i++;
    return isOp(peek(), '(') ? call(t.text) : { kind: 'column', name: t.text };
  };

  const expr = or();
  if (peek().type !== 'end') fail(peek());
  return expr;
}

function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'call':
      return [...(e.params ?? []), ...e.args];
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    default:
      return [];
  }
}

function collect(e: Expr, pick: (node: Expr) => string | undefined, into = new Set<string>()): string[] {
  const name = pick(e);
  if (name !== undefined) into.add(name);
  for (const child of children(e)) collect(child, pick, into);
  return [...into];
}

/** Names of the columns `e` reads, unique, in first-seen order. */
export function columnsOf(e: Expr): string[] {
  return collect(e, (node) => (node.kind === 'column' ? node.name : undefined));
}

/** Names of the functions `e` calls, unique, in first-seen order (outer call first). */
export function functionsOf(e: Expr): string[] {
  return collect(e, (node) => (node.kind === 'call' ? node.name : undefined));
}

/**
 * Parses a metric, which must be exactly one function call such as `sum(x)` or `quantile(0.9)(x)`.
 * Only the shape is checked here; whether `fn` is an aggregate function is checked against the server.
 *
 * @throws ExpressionSyntaxError for text outside the grammar, MetricShapeError for any other top-level shape.
 */
export function parseAggregateMetric(text: string): AggregateMetric {
  const e = parseExpression(text);
  if (e.kind !== 'call') {
    throw new MetricShapeError(
      `${JSON.stringify(text)} is not an aggregate call: a metric must be one aggregate function call such as sum(x)`,
      text,
    );
  }
  return { fn: e.name, params: e.params ?? [], args: e.args };
}
