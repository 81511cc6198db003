import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ClickHouse } from '../../src/clickhouse/clickhouse';
import { openEmbeddedClickHouse } from '../../src/clickhouse/connect';

/**
 * chDB runs in-process and binds ONE data directory per process, while Jest reuses worker processes across
 * test files. So every Jest worker process gets its own directory, shared by all test files it runs.
 */
export const testDataDir = path.resolve(
  __dirname,
  '..',
  '..',
  '.data',
  'test',
  `chdb-${process.env.JEST_WORKER_ID ?? '0'}-${process.pid}`,
);

/** Opens the embedded engine on this process's test data directory. Close it in `afterAll`. */
export function openTestClickHouse(dataDir: string = testDataDir): ClickHouse {
  return openEmbeddedClickHouse(dataDir);
}

/** Creates a new, uniquely named database, so tests sharing a chDB data directory do not collide. */
export async function freshDatabase(ch: ClickHouse, prefix: string): Promise<string> {
  const db = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await ch.exec({ query: 'CREATE DATABASE {db:Identifier}', params: { db } });
  return db;
}
