/**
 * Query parameters that carry a credential in a signed URL: AWS SigV4 and SigV2 presigned URLs, Google Cloud
 * Storage signed URLs, Azure shared access signatures. Compared case-insensitively.
 */
const SIGNED_URL_PARAMS = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'awsaccesskeyid',
  'signature',
  'x-goog-signature',
  'x-goog-credential',
  'googleaccessid',
  'sig',
]);

/**
 * Why `path` (a URL, an s3 path, a file path) must not be taken, or undefined: it holds a credential, as
 * `user:password@` before the host or as a signed URL's query parameter. Such a path would be recorded in the
 * workflow's input and history, its logs and progress; credentials come from the worker's environment or a
 * ClickHouse named collection instead.
 */
export function credentialsInPath(path: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(path)) {
    return 'must not hold credentials (user:password@): the worker takes them from its environment or a named collection';
  }
  const query = path.indexOf('?');
  if (query < 0) return undefined;
  const signed = path
    .slice(query + 1)
    .split(/[&#]/)
    .map((pair) => safeDecode(pair.split('=')[0]).toLowerCase())
    .find((name) => SIGNED_URL_PARAMS.has(name));
  return signed
    ? `must not be a signed URL (it holds ${signed}): signed URLs would be kept in the workflow's history; the ` +
        'worker takes credentials from its environment or a named collection'
    : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
