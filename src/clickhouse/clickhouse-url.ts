/** URL parameters that would put every query of the worker into one HTTP session (clickhouse-js reads all three). */
const SESSION_PARAMS = ['session_id', 'clickhouse_setting_session_id', 'ch_session_id'];

/** Query parameters whose value is a credential whatever its length. */
const SECRET_PARAM = /pass|secret|token|key|auth|signature|credential/i;

/** Shortest value of any other query parameter redacted in log lines (shorter ones, like `1`, would blank a line). */
const MIN_REDACTED_VALUE_LENGTH = 8;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * Checks `CLICKHOUSE_URL` before connecting: the URL must parse, and must not set a `session_id`, because the
 * worker runs activities side by side and a shared session lets only one query run at a time (the others fail
 * with SESSION_IS_LOCKED, code 373). Returns what is worth a warning: `http://` to a host other than loopback
 * sends the password and the data in clear text.
 *
 * @throws Error naming the parameter (never the URL's credentials).
 */
export function checkClickHouseUrl(text: string): { warnings: string[] } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('CLICKHOUSE_URL is not a URL (expected e.g. https://host:8443)');
  }
  const session = SESSION_PARAMS.find((name) => url.searchParams.has(name));
  if (session !== undefined) {
    throw new Error(
      `CLICKHOUSE_URL sets ${session}: the worker runs queries side by side, and queries of one session wait for ` +
        `each other or fail (SESSION_IS_LOCKED); remove it from the URL`,
    );
  }
  const warnings: string[] = [];
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    warnings.push(
      `CLICKHOUSE_URL ${redactedUrl(text)} uses http:// to a host other than loopback: the password and the data ` +
        `travel unencrypted; use https:// (ClickHouse Cloud: port 8443)`,
    );
  }
  return { warnings };
}

/** The URL as it may be printed: password and every query value replaced by `[redacted]`. */
export function redactedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '[unparseable URL]';
  }
  if (url.password) url.password = 'redacted';
  for (const name of [...new Set(url.searchParams.keys())]) url.searchParams.set(name, 'redacted');
  return url.toString().replaceAll('=redacted', '=[redacted]').replace(':redacted@', ':[redacted]@');
}

/**
 * Values of `CLICKHOUSE_URL` that log lines must never show: the password and query values that are credentials
 * (named like one, or at least {@link MIN_REDACTED_VALUE_LENGTH} characters long).
 */
export function clickHouseUrlSecrets(text: string | undefined): string[] {
  if (!text) return [];
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL: the connection refuses it; it holds no password we could find anyway.
    return [];
  }
  const secrets = url.password ? [decodeURIComponent(url.password)] : [];
  for (const [name, value] of url.searchParams) {
    if (value && (SECRET_PARAM.test(name) || value.length >= MIN_REDACTED_VALUE_LENGTH)) secrets.push(value);
  }
  return secrets;
}
