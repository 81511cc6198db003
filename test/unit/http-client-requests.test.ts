import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANAGED_SETTINGS, type ClickHouse } from '../../src/clickhouse/clickhouse';
import { checkClickHouseUrl, clickHouseUrlSecrets, redactedUrl } from '../../src/clickhouse/clickhouse-url';
import { clientLoggerClass } from '../../src/clickhouse/client-logger';
import { connectClickHouse, httpClientOptions } from '../../src/clickhouse/connect';
import { withQueryLabel } from '../../src/clickhouse/query-label';
import { credentialsFromEnv } from '../../src/worker/json-logger';

interface Recorded {
  params: URLSearchParams;
  userAgent: string | undefined;
  body: string;
}

/** A local HTTP server answering like ClickHouse (one JSONEachRow row, or an empty body), recording each request. */
async function fakeClickHouse(): Promise<{ server: Server; url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
      requests.push({ params, userAgent: req.headers['user-agent'], body });
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-ClickHouse-Format': params.get('default_format') ?? '' });
      res.end(params.get('default_format') === 'JSONEachRow' ? '{"one":1}\n' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, requests };
}

describe('queries over HTTP', () => {
  let fake: Awaited<ReturnType<typeof fakeClickHouse>>;
  let ch: ClickHouse;
  beforeAll(async () => {
    fake = await fakeClickHouse();
    ch = connectClickHouse({ CLICKHOUSE_URL: fake.url });
  });
  afterAll(async () => {
    await ch.close();
    await new Promise((resolve) => fake.server.close(resolve));
  });
  beforeEach(() => fake.requests.splice(0));

  it('send only the settings the statement sets: no reset of the managed settings', async () => {
    await ch.rows({ query: 'SELECT 1 AS one', params: {} });
    await ch.exec({ query: 'TRUNCATE TABLE t', params: {} }, { settings: { max_threads: 2 } });
    const [read, command] = fake.requests;
    for (const setting of MANAGED_SETTINGS) expect(read.params.has(setting)).toBe(false);
    expect(read.params.get('cancel_http_readonly_queries_on_client_close')).toBe('1');
    expect(read.params.get('output_format_json_quote_64bit_integers')).toBe('1');
    expect(command.params.get('max_threads')).toBe('2');
    for (const setting of MANAGED_SETTINGS.filter((s) => s !== 'max_threads')) {
      expect(command.params.has(setting)).toBe(false);
    }
    // No query reads system.settings for defaults over HTTP.
    expect(fake.requests.map((r) => r.body + (r.params.get('query') ?? ''))).not.toContainEqual(
      expect.stringContaining('system.settings'),
    );
  });

  it('name the application and carry the workflow id and step as log_comment', async () => {
    await withQueryLabel({ workflowId: 'backfill-events-daily', step: 'buildPartition' }, () =>
      withQueryLabel({ step: 'buildPartition/insert' }, () => ch.exec({ query: 'SELECT 1', params: {} })),
    );
    const [request] = fake.requests;
    expect(request.userAgent).toContain('clickhouse-backfill');
    expect(JSON.parse(request.params.get('log_comment')!)).toEqual({
      app: 'clickhouse-backfill',
      workflowId: 'backfill-events-daily',
      step: 'buildPartition/insert',
    });
  });

  it("keep a statement's own log_comment", async () => {
    await withQueryLabel({ workflowId: 'w', step: 's' }, () =>
      ch.exec({ query: 'SELECT 1', params: {} }, { settings: { log_comment: 'mine' } }),
    );
    expect(fake.requests[0].params.get('log_comment')).toBe('mine');
  });
});

describe('CLICKHOUSE_URL', () => {
  it('is refused with a session_id, in any of the forms the client reads', () => {
    for (const param of ['session_id', 'clickhouse_setting_session_id', 'ch_session_id']) {
      expect(() => connectClickHouse({ CLICKHOUSE_URL: `https://ch.example.com:8443?${param}=abc` })).toThrow(
        `CLICKHOUSE_URL sets ${param}`,
      );
    }
  });

  it('is printed with its password and query values redacted', () => {
    expect(redactedUrl('https://alice:s3cret@ch.example.com:8443/db?password=p4ss&ch_max_threads=4')).toBe(
      'https://alice:[redacted]@ch.example.com:8443/db?password=[redacted]&ch_max_threads=[redacted]',
    );
  });

  it('gives the log redaction its password and credential-like query values', () => {
    const url = 'https://alice:s3cret@ch.example.com:8443?password=p4ss&http_header_X-Token=long-opaque-value&ch_x=1';
    expect(clickHouseUrlSecrets(url)).toEqual(['s3cret', 'p4ss', 'long-opaque-value']);
    expect(credentialsFromEnv({ CLICKHOUSE_URL: url })).toEqual(
      expect.arrayContaining(['s3cret', 'p4ss', 'long-opaque-value']),
    );
  });

  it('warns about http:// to a host other than loopback, naming it without credentials', () => {
    expect(checkClickHouseUrl('http://localhost:8123').warnings).toEqual([]);
    expect(checkClickHouseUrl('http://127.0.0.1:8123').warnings).toEqual([]);
    expect(checkClickHouseUrl('https://ch.example.com:8443').warnings).toEqual([]);
    const warn = jest.fn();
    const log = { trace: jest.fn(), debug: jest.fn(), info: jest.fn(), warn, error: jest.fn() };
    httpClientOptions({ CLICKHOUSE_URL: 'http://bob:pw@ch.example.com:8123' }, log);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('http://bob:[redacted]@ch.example.com:8123/ uses http://'),
    );
  });

  it('takes a CA certificate from CLICKHOUSE_CA_CERT and routes the client log through ours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    const log = { trace: jest.fn(), debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const options = httpClientOptions(
      { CLICKHOUSE_URL: 'https://ch.example.com:8443', CLICKHOUSE_CA_CERT: join(dir, 'ca.pem') },
      log,
    );
    expect(options).toMatchObject({ application: 'clickhouse-backfill', tls: { ca_cert: Buffer.from('PEM') } });
    const Logger = options.log?.LoggerClass ?? clientLoggerClass(log);
    new Logger().warn({ module: 'HTTP Adapter', message: 'socket closed', args: { id: 1 } });
    expect(log.warn).toHaveBeenCalledWith('clickhouse client: socket closed', {
      module: 'HTTP Adapter',
      args: { id: 1 },
    });
  });
});
