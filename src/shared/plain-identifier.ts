const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * True when `name` is a plain identifier: ASCII letters, digits and underscores, not starting with a digit.
 * Such a name needs no escaping anywhere in ClickHouse SQL; the job spec accepts only such names, and
 * `quoteAllowListedIdentifier` (src/sql/engine/quote-identifier.ts) quotes only them.
 */
export function isPlainIdentifier(name: string): boolean {
  return PLAIN_IDENTIFIER.test(name);
}
