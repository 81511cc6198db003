import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_CLICKHOUSE_HTTP_PORT } from '../../src/clickhouse/connect';
import { BACKFILL_SEARCH_ATTRIBUTE_ARGS } from '../../src/temporal/backfill-search-attributes';
import { DEFAULT_TEMPORAL_PORT, DEFAULT_UI_PORT } from '../../src/temporal/dev-server';
import { PRIORITY_DYNAMIC_CONFIG_ARGS } from '../../src/temporal/dev-server-task-priority';
import { SQLITE_THROUGHPUT_ARGS, THROUGHPUT_DYNAMIC_CONFIG_ARGS } from '../../src/temporal/dev-server-throughput';

const repoRoot = path.resolve(__dirname, '..', '..');

interface ComposeService {
  image: string;
  ports: string[];
  command?: string;
}

const compose = parse(readFileSync(path.join(repoRoot, 'temporal-dev.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

/** Parses compose short-syntax port specs (`[ip:]host:container[/protocol]`). */
function publishedPorts(service: ComposeService): Array<{ host: number; container: number }> {
  return service.ports.map((spec) => {
    const [container, host] = spec.split('/')[0].split(':').reverse();
    return { host: Number(host), container: Number(container) };
  });
}

describe('temporal-dev.yml', () => {
  it('publishes the Temporal gRPC and UI ports the code defaults to', () => {
    const ports = publishedPorts(compose.services.temporal);
    expect(ports).toContainEqual({ host: DEFAULT_TEMPORAL_PORT, container: DEFAULT_TEMPORAL_PORT });
    expect(ports).toContainEqual({ host: DEFAULT_UI_PORT, container: DEFAULT_UI_PORT });
  });

  it('publishes the ClickHouse HTTP port the code defaults to', () => {
    const ports = publishedPorts(compose.services.clickhouse);
    expect(ports).toContainEqual({ host: DEFAULT_CLICKHOUSE_HTTP_PORT, container: DEFAULT_CLICKHOUSE_HTTP_PORT });
  });

  it('runs the same Temporal CLI version as scripts/install-temporal-cli.sh installs', () => {
    const script = readFileSync(path.join(repoRoot, 'scripts', 'install-temporal-cli.sh'), 'utf8');
    const pinned = /^readonly TEMPORAL_CLI_VERSION="([^"]+)"$/m.exec(script)?.[1];
    expect(pinned).toBeDefined();
    expect(compose.services.temporal.image).toBe(`temporalio/temporal:${pinned}`);
  });

  it('starts Temporal with the throughput and task-priority settings our own dev server uses', () => {
    const command = compose.services.temporal.command ?? '';
    expect(command).toContain(
      [...THROUGHPUT_DYNAMIC_CONFIG_ARGS, ...PRIORITY_DYNAMIC_CONFIG_ARGS, ...SQLITE_THROUGHPUT_ARGS].join(' '),
    );
  });

  it('registers the search attributes our own dev server registers', () => {
    const command = (compose.services.temporal.command ?? '').split(/\s+/).join(' ');
    expect(command).toContain(BACKFILL_SEARCH_ATTRIBUTE_ARGS.join(' '));
  });
});
