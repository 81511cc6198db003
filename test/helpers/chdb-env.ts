import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

/**
 * chDB runs in-process and binds ONE data directory per process, while Jest reuses worker processes across
 * test files. So every Jest worker process gets its own directory, shared by all test files it runs.
 */
const dataDir = path.resolve(
  __dirname,
  '..',
  '..',
  '.data',
  'test',
  `chdb-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}`,
);

/**
 * Opens the embedded chDB engine on this process's test data directory (see above). Close the client in
 * `afterAll`; isolate tests from each other with {@link freshDatabase}.
 *
 * @returns A `@clickhouse/client` client backed by chDB.
 */
export function openTestClickHouse(): ClickHouseClient {
  mkdirSync(dataDir, { recursive: true });
  // chdb types its connection against its own copy of @clickhouse/client-common; the runtime contract is the same.
  const connection = createChdbConnection({ path: dataDir }) as unknown as NonNullable<
    ClickHouseClientConfigOptions['connection']
  >;
  return createClient({ connection });
}

/**
 * Creates a new, uniquely named database, so tests sharing the process's chDB data directory do not collide.
 *
 * @param client - Client from {@link openTestClickHouse}.
 * @param prefix - Readable prefix for the name (letters, digits, underscores).
 * @returns The database name, e.g. `orders_1a2b3c4d5e6f`.
 */
export async function freshDatabase(client: ClickHouseClient, prefix: string): Promise<string> {
  const db = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await client.command({ query: 'CREATE DATABASE {db:Identifier}', query_params: { db } });
  return db;
}
