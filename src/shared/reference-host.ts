/**
 * Hosts a `validate --reference` URL must not name: `url()` and `s3()` run on the ClickHouse server, so a path
 * to a cloud metadata service would hand the server's instance credentials to whoever reads the comparison.
 */
const METADATA_HOSTNAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
]);

/** IPv4 as four octets, or undefined. */
function ipv4Octets(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m ? m.slice(1).map(Number) : undefined;
}

/** The IPv4 inside an IPv4-mapped IPv6 address (`::ffff:a9fe:a9fe`, as the URL parser writes it), or undefined. */
function mappedIpv4(host: string): number[] | undefined {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!m) return undefined;
  const [hi, lo] = [parseInt(m[1], 16), parseInt(m[2], 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255];
}

function isForbiddenIpv4([a, b, c, d]: number[]): boolean {
  // 169.254.0.0/16: link-local, where AWS, GCP and Azure serve instance metadata; 100.100.100.200: Alibaba's.
  return (a === 169 && b === 254) || (a === 100 && b === 100 && c === 100 && d === 200);
}

function isForbiddenIpv6(host: string): boolean {
  // fe80::/10 link-local; fd00:ec2::254 AWS's metadata service over IPv6.
  return /^fe[89ab][0-9a-f]:/.test(host) || host === 'fd00:ec2::254';
}

/**
 * Why `path` (an `http(s)://` or `s3://` reference) may not be read, naming its host, or undefined when it may.
 * The URL parser normalises the host first (`http://2852039166/` is 169.254.169.254), so other spellings of a
 * refused address are refused too. A name that only resolves to such an address cannot be seen from here.
 */
export function forbiddenReferenceHost(path: string): string | undefined {
  let url: URL;
  try {
    // s3:// is not a scheme the URL parser normalises hosts for: read it as http:// to get the same host.
    url = new URL(path.replace(/^s3:\/\//i, 'http://'));
  } catch {
    return undefined;
  }
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  const v4 = ipv4Octets(host) ?? mappedIpv4(host);
  if ((v4 && isForbiddenIpv4(v4)) || isForbiddenIpv6(host) || METADATA_HOSTNAMES.has(host)) {
    return (
      `host ${url.hostname} is a link-local or cloud metadata address: the ClickHouse server would send its own ` +
      `credentials there; give the files' real location`
    );
  }
  return undefined;
}
