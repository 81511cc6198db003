import { isPlainIdentifier } from '../../shared/plain-identifier';

/**
 * Quotes a column (or other) name for ClickHouse SQL: `name` → `` `name` ``.
 *
 * This is the project's single quoting helper. Names come from user-supplied job specs, and the project
 * never interpolates user input into SQL, so instead of escaping arbitrary text this helper only accepts an
 * allow-list of plain names (see {@link isPlainIdentifier}) and throws for anything else. With no backtick,
 * quote, space, dot or semicolon able to get through, the backticks cannot be broken out of.
 *
 * @throws Error naming the refused value.
 */
export function quoteAllowListedIdentifier(name: string): string {
  if (!isPlainIdentifier(name)) {
    throw new Error(
      `refusing to quote identifier ${JSON.stringify(name)}: ` +
        'only letters, digits and underscores are allowed, not starting with a digit',
    );
  }
  return `\`${name}\``;
}

/**
 * A string literal of the job spec's expressions, rendered again from its value: `'` + the value with `\` and `'`
 * escaped + `'`. The expression parser lets no control character into a value, so nothing else needs escaping.
 *
 * @throws Error for a value holding a control character.
 */
export function quoteStringLiteral(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`refusing to quote a string literal with a control character: ${JSON.stringify(value)}`);
  }
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
