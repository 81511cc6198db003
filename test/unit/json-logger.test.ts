import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentialsFromEnv, jsonLineLogger, logLevelFromEnv } from '../../src/worker/json-logger';

function capture(level: 'DEBUG' | 'INFO', redact: string[] = []) {
  const lines: string[] = [];
  const logger = jsonLineLogger({ level, write: (line) => void lines.push(line), redact });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('worker logs are JSON lines at LOG_LEVEL without credentials', () => {
  it('writes one JSON object per line with time, level, message and the attributes', () => {
    const { logger, lines, parsed } = capture('INFO');
    logger.info('partition swapped in', { workflowId: 'backfill-x', partition: '202401', step: 'swapPartition' });
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(lines[0].slice(0, -1)).not.toContain('\n');
    const [entry] = parsed();
    expect(entry).toMatchObject({
      level: 'info',
      message: 'partition swapped in',
      workflowId: 'backfill-x',
      partition: '202401',
      step: 'swapPartition',
    });
    expect(new Date(entry.time as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('drops lines below the level', () => {
    const { logger, parsed } = capture('INFO');
    logger.debug('noise');
    logger.warn('kept');
    expect(parsed().map((e) => e.message)).toEqual(['kept']);
  });

  it('writes errors as name, message and cause, and bigints as strings', () => {
    const { logger, parsed } = capture('INFO');
    const error = new Error('Activity task failed', { cause: new Error('metrics.x: column "y" does not exist') });
    logger.warn('Activity failed', { error, rows: 12n });
    expect(parsed()[0]).toMatchObject({
      error: {
        name: 'Error',
        message: 'Activity task failed',
        cause: { message: 'metrics.x: column "y" does not exist' },
      },
      rows: '12',
    });
  });

  it('replaces a credential wherever it appears in a line', () => {
    const { logger, lines } = capture('DEBUG', ['s3cr3t-pw', 'api-key-123']);
    logger.warn('connect failed', { error: new Error('auth with s3cr3t-pw refused'), header: 'Bearer api-key-123' });
    expect(lines[0]).not.toContain('s3cr3t-pw');
    expect(lines[0]).not.toContain('api-key-123');
    expect(lines[0]).toContain('auth with [redacted] refused');
  });

  it('reads LOG_LEVEL case-insensitively, defaults to info, and refuses unknown levels', () => {
    expect(logLevelFromEnv({})).toBe('INFO');
    expect(logLevelFromEnv({ LOG_LEVEL: 'debug' })).toBe('DEBUG');
    expect(() => logLevelFromEnv({ LOG_LEVEL: 'verbose' })).toThrow(
      'LOG_LEVEL must be one of trace, debug, info, warn, error, not "verbose"',
    );
  });

  it('knows the credentials of the configuration, including a password in CLICKHOUSE_URL and a profile API key', () => {
    const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'log-creds-')), 'temporal.toml');
    writeFileSync(configFile, '[profile.default]\napi_key = "profile-key"\n');
    expect(
      credentialsFromEnv({
        CLICKHOUSE_PASSWORD: 'pw',
        CLICKHOUSE_URL: 'http://user:p%40ss@clickhouse:8123',
        TEMPORAL_CONFIG_FILE: configFile,
      }).sort(),
    ).toEqual(['p@ss', 'profile-key', 'pw']);
    expect(credentialsFromEnv({ TEMPORAL_API_KEY: 'env-key', CLICKHOUSE_URL: 'not a url' })).toEqual(['env-key']);
  });
});
