import { tokenize, type Token } from '../import/repoint-view-select';

/**
 * Token-exact editing of a view's SELECT as its user wrote it: the text is split into ClickHouse tokens (string
 * literals, quoted identifiers, comments, words), and only whole conditions we render are inserted between tokens;
 * every character of the user's text is kept as it was. Nothing is found by string search.
 */

/** The SELECT cannot be edited unambiguously; the message says why. */
export class ViewSelectError extends Error {
  override readonly name = 'ViewSelectError';
}

const isWord = (t: Token | undefined, word: string): boolean =>
  t !== undefined && t.kind === 'word' && t.value.toUpperCase() === word;
const significant = (t: Token): boolean => t.kind !== 'space' && t.kind !== 'comment';

/** Clauses that end a SELECT's WHERE (or, without one, mark where one goes), at the SELECT's own level. */
// prettier-ignore
const AFTER_WHERE = new Set([
  'GROUP', 'ORDER', 'HAVING', 'LIMIT', 'SETTINGS', 'WINDOW', 'QUALIFY', 'UNION', 'INTERSECT', 'EXCEPT', 'FORMAT',
  'OFFSET', 'INTO',
]);

/** Each token's depth of parentheses and brackets (a token opening one is at the outer depth). */
function depths(tokens: Token[]): number[] {
  let depth = 0;
  return tokens.map((t) => {
    if (t.kind !== 'punct') return depth;
    if (t.text === '(' || t.text === '[') return depth++;
    if (t.text === ')' || t.text === ']') return --depth;
    return depth;
  });
}

/**
 * `select` with `condition` added to its top-level filter: `WHERE (<the user's condition>) AND <condition>`, or
 * `WHERE <condition>` added before its `GROUP BY` (or whichever clause comes first after `FROM`, or at its end).
 *
 * @throws ViewSelectError for a text holding query parameters (`{…}`), a `;`, or no top-level SELECT … FROM.
 */
export function addCondition(select: string, condition: string): string {
  const tokens = tokenize(select);
  const depth = depths(tokens);
  for (const t of tokens) {
    if (t.kind === 'punct' && (t.text === '{' || t.text === '}')) {
      throw new ViewSelectError('its SELECT holds a query parameter ({…}); write the value itself');
    }
    if (t.kind === 'punct' && t.text === ';') throw new ViewSelectError('its SELECT holds a ";" (one statement only)');
  }
  const top = (i: number) => depth[i] === 0 && significant(tokens[i]);
  const selectAt = tokens.findIndex((t, i) => top(i) && isWord(t, 'SELECT'));
  const fromAt = tokens.findIndex((t, i) => i > selectAt && top(i) && isWord(t, 'FROM'));
  if (selectAt < 0 || fromAt < 0) throw new ViewSelectError('its text has no top-level SELECT … FROM');
  const whereAt = tokens.findIndex((t, i) => i > fromAt && top(i) && isWord(t, 'WHERE'));
  const endAt = (from: number) => {
    const at = tokens.findIndex((t, i) => i > from && top(i) && AFTER_WHERE.has(t.value.toUpperCase()));
    return at < 0 ? tokens.length : at;
  };
  // The last significant token before `end`: inserting right after it keeps a trailing comment from hiding ours.
  const lastBefore = (end: number) => {
    let i = end - 1;
    while (i >= 0 && !significant(tokens[i])) i--;
    return i;
  };
  const text = (from: number, to: number) =>
    tokens
      .slice(from, to)
      .map((t) => t.text)
      .join('');
  if (whereAt >= 0) {
    const last = lastBefore(endAt(whereAt));
    return `${text(0, whereAt + 1)} (${text(whereAt + 1, last + 1).trimStart()}) AND ${condition}${text(last + 1, tokens.length)}`;
  }
  const last = lastBefore(endAt(fromAt));
  return `${text(0, last + 1)} WHERE ${condition}${text(last + 1, tokens.length)}`;
}

/** The parts of a `CREATE MATERIALIZED VIEW [IF NOT EXISTS] <view> TO <target> [(columns)] AS <select>` text. */
export interface CreateViewText {
  /** The view's name as written (`db.name` or `name`), quotes removed. */
  view: string;
  target: string;
  /** The SELECT after `AS`, character for character (a trailing `;` and the space around it left out). */
  select: string;
}

/**
 * The view name, `TO` table and SELECT of a `CREATE MATERIALIZED VIEW` statement (a `.sql` file's text).
 *
 * @throws ViewSelectError for any other statement, a view without `TO` (an inner table), or a `POPULATE`.
 */
export function parseCreateViewText(sql: string): CreateViewText {
  const tokens = tokenize(sql);
  const sig = tokens.map((t, i) => ({ t, i })).filter(({ t }) => significant(t));
  let k = 0;
  const expectWord = (...words: string[]) => {
    for (const w of words) {
      if (!isWord(sig[k]?.t, w)) {
        throw new ViewSelectError(`expected ${words.join(' ')} at "${sig[k]?.t.text ?? 'the end'}"`);
      }
      k++;
    }
  };
  const name = (): string => {
    const parts = [sig[k]?.t];
    k++;
    if (sig[k]?.t.text === '.') {
      parts.push(sig[k + 1]?.t);
      k += 2;
    }
    if (parts.some((p) => p === undefined || (p.kind !== 'word' && p.kind !== 'identifier'))) {
      throw new ViewSelectError('expected a table name');
    }
    return parts.map((p) => p!.value).join('.');
  };
  expectWord('CREATE', 'MATERIALIZED', 'VIEW');
  if (isWord(sig[k]?.t, 'IF')) expectWord('IF', 'NOT', 'EXISTS');
  const view = name();
  if (isWord(sig[k]?.t, 'ON')) throw new ViewSelectError('ON CLUSTER is not taken: the tool creates the view');
  if (!isWord(sig[k]?.t, 'TO')) {
    throw new ViewSelectError(`the view ${view} has no TO table (a view with an inner table cannot be backfilled)`);
  }
  k++;
  const target = name();
  if (sig[k]?.t.text === '(') {
    let depth = 0;
    do {
      if (sig[k].t.text === '(') depth++;
      if (sig[k].t.text === ')') depth--;
      k++;
    } while (depth > 0 && k < sig.length);
  }
  if (isWord(sig[k]?.t, 'POPULATE')) throw new ViewSelectError('POPULATE is not taken: the backfill fills the target');
  expectWord('AS');
  let end = sig.length;
  if (sig[end - 1]?.t.text === ';') end--;
  if (end <= k) throw new ViewSelectError('no SELECT after AS');
  const select = tokens
    .slice(sig[k].i, sig[end - 1].i + 1)
    .map((t) => t.text)
    .join('');
  return { view, target, select };
}
