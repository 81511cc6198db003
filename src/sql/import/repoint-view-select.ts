import { quotedTable } from '../engine/table-param';
import { qualifiedName, type TableRef } from '../../shared/table-ref';

/**
 * Re-pointing a materialized view's SELECT from the table it reads to a duplicate of that table (the guide's
 * "duplicate tables and views"). The SELECT is the server's own normalised text (`system.tables.as_select`), never
 * user text; still, nothing is spliced by string search: the text is split into ClickHouse tokens (string literals,
 * quoted identifiers, comments, words), exactly one qualified reference `db.table` to the source is replaced, by the
 * allow-list quoting, and every other token is kept as it was. Whatever makes the replacement ambiguous is refused.
 */

/** The SELECT cannot be re-pointed unambiguously; the message says why. */
export class ViewRepointError extends Error {
  override readonly name = 'ViewRepointError';
}

/** One ClickHouse token of a SELECT's text (see {@link tokenize}). */
export interface Token {
  kind: 'space' | 'comment' | 'string' | 'identifier' | 'word' | 'number' | 'punct';
  text: string;
  /** An identifier's name (a quoted one unescaped), or a word as written. */
  value: string;
}

// Sticky: each matches only at lastIndex. Order matters: comments before punctuation, heredocs before `$`.
const LEXEMES: [Token['kind'], RegExp][] = [
  ['space', /\s+/y],
  ['comment', /--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\//y],
  ['string', /'(?:[^'\\]|\\[\s\S]|'')*'/y],
  ['string', /\$([A-Za-z0-9_]*)\$[\s\S]*?\$\1\$/y],
  ['identifier', /`(?:[^`\\]|\\[\s\S]|``)*`|"(?:[^"\\]|\\[\s\S]|"")*"/y],
  ['word', /[A-Za-z_][A-Za-z0-9_$]*/y],
  ['number', /[0-9][0-9A-Za-z_.]*/y],
];

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', 0: '\0', b: '\b', f: '\f' };

/** The name a quoted identifier stands for: quotes removed, doubled quotes and backslash escapes undone. */
function unquote(text: string): string {
  const quote = text[0];
  let name = '';
  for (let i = 1; i < text.length - 1; i++) {
    if (text[i] === '\\') {
      i++;
      name += ESCAPES[text[i]] ?? text[i];
    } else {
      name += text[i];
      if (text[i] === quote) i++;
    }
  }
  return name;
}

/** `sql` split into ClickHouse tokens; joined again, their texts give `sql` back character for character. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  outer: while (pos < sql.length) {
    for (const [kind, re] of LEXEMES) {
      re.lastIndex = pos;
      const m = re.exec(sql);
      if (!m) continue;
      const text = m[0];
      tokens.push({ kind, text, value: kind === 'identifier' ? unquote(text) : text });
      pos += text.length;
      continue outer;
    }
    if (sql[pos] === "'" || sql[pos] === '`' || sql[pos] === '"') {
      throw new ViewRepointError(`its SELECT has an unterminated quote at position ${pos}`);
    }
    const char = String.fromCodePoint(sql.codePointAt(pos)!);
    tokens.push({ kind: 'punct', text: char, value: char });
    pos += char.length;
  }
  return tokens;
}

const isName = (t: Token | undefined, name: string): boolean =>
  t !== undefined && (t.kind === 'word' || t.kind === 'identifier') && t.value === name;
const isWord = (t: Token | undefined, word: string): boolean =>
  t !== undefined && t.kind === 'word' && t.value.toUpperCase() === word;
const isPunct = (t: Token | undefined, char: string): boolean =>
  t !== undefined && t.kind === 'punct' && t.text === char;

/** Words that end a table expression after `FROM db.table`: what follows is no alias. */
// prettier-ignore
const CLAUSES = new Set([
  'WHERE', 'PREWHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'SETTINGS', 'FINAL', 'SAMPLE', 'ARRAY', 'LEFT',
  'RIGHT', 'INNER', 'FULL', 'CROSS', 'JOIN', 'UNION', 'WINDOW', 'QUALIFY', 'FORMAT', 'OFFSET', 'INTERSECT', 'EXCEPT',
]);

/**
 * `select` with its one reference to `from` (written `db.table`, either part quoted or not) replaced by `to`.
 *
 * @throws ViewRepointError when the replacement would be ambiguous: the SELECT does not name `from` qualified by its
 *   database, names it more than once, names the table elsewhere (e.g. `table.column`, or unqualified), reads it
 *   other than as `FROM db.table`, or joins another table (`JOIN`, or a comma after the table).
 */
export function repointViewSelect(select: string, from: TableRef, to: TableRef): string {
  const tokens = tokenize(select);
  const sig = tokens.map((t, i) => ({ t, i })).filter(({ t }) => t.kind !== 'space' && t.kind !== 'comment');
  const at = (k: number): Token | undefined => sig[k]?.t;
  const shown = qualifiedName(from);

  const mentions = sig.flatMap((s, k) => (isName(s.t, from.name) ? [k] : []));
  const references = mentions.filter(
    (k) => isPunct(at(k - 1), '.') && isName(at(k - 2), from.database) && !isPunct(at(k - 3), '.'),
  );
  if (references.length === 0) throw new ViewRepointError(`its SELECT does not read ${shown} by its qualified name`);
  if (references.length > 1) throw new ViewRepointError(`its SELECT reads ${shown} ${references.length} times`);
  const [k] = references;
  if (mentions.length > 1 || isPunct(at(k + 1), '.')) {
    throw new ViewRepointError(
      `its SELECT names ${from.name} besides FROM ${shown} (a column qualified by the table, or another reference)`,
    );
  }
  if (!isWord(at(k - 3), 'FROM')) throw new ViewRepointError(`its SELECT reads ${shown} other than as FROM ${shown}`);
  for (let j = 0; j < sig.length; j++) {
    const array = isWord(at(j - 1), 'ARRAY');
    if (isWord(at(j), 'JOIN') && !array) throw new ViewRepointError(`its SELECT joins ${shown} with another table`);
  }
  // A comma after the table (and its alias) is an old-style join.
  let next = k + 1;
  if (isWord(at(next), 'AS')) next += 2;
  else if (
    at(next)?.kind === 'identifier' ||
    (at(next)?.kind === 'word' && !CLAUSES.has(at(next)!.value.toUpperCase()))
  ) {
    next += 1;
  }
  if (isPunct(at(next), ',')) throw new ViewRepointError(`its SELECT joins ${shown} with another table (a comma join)`);

  const first = sig[k - 2].i;
  const last = sig[k].i;
  return [
    ...tokens.slice(0, first).map((t) => t.text),
    quotedTable(to),
    ...tokens.slice(last + 1).map((t) => t.text),
  ].join('');
}
