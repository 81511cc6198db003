import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { temporalConnectionOptionsFromEnv } from '../../src/temporal/connection';

const dir = mkdtempSync(path.join(tmpdir(), 'temporal-tls-'));
const certFile = path.join(dir, 'client.pem');
const keyFile = path.join(dir, 'client.key');
writeFileSync(certFile, 'CERT');
writeFileSync(keyFile, 'KEY');

describe('temporalConnectionOptionsFromEnv', () => {
  it('defaults to the local dev server without TLS', () => {
    expect(temporalConnectionOptionsFromEnv({})).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      connectionOptions: { address: '127.0.0.1:7233' },
    });
  });

  it('uses TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE', () => {
    const t = temporalConnectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'backfills' });
    expect(t).toEqual({
      address: 'temporal:7233',
      namespace: 'backfills',
      connectionOptions: { address: 'temporal:7233' },
    });
  });

  it('enables TLS for an API key', () => {
    const t = temporalConnectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret' });
    expect(t.connectionOptions).toEqual({ address: 'x.tmprl.cloud:7233', tls: true, apiKey: 'secret' });
  });

  it('reads the mTLS client certificate and key', () => {
    const t = temporalConnectionOptionsFromEnv({ TEMPORAL_TLS_CERT: certFile, TEMPORAL_TLS_KEY: keyFile });
    expect(t.connectionOptions.tls).toEqual({ clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
  });

  it('rejects a certificate without a key and unreadable files', () => {
    expect(() => temporalConnectionOptionsFromEnv({ TEMPORAL_TLS_CERT: certFile })).toThrow(/must be set together/);
    expect(() =>
      temporalConnectionOptionsFromEnv({ TEMPORAL_TLS_CERT: certFile, TEMPORAL_TLS_KEY: path.join(dir, 'missing') }),
    ).toThrow(/Cannot read TEMPORAL_TLS_KEY file/);
  });
});
