import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { temporalConfigFromEnv } from '../../src/temporal/connection';

const dir = mkdtempSync(path.join(tmpdir(), 'temporal-config-'));
const certFile = path.join(dir, 'client.pem');
const keyFile = path.join(dir, 'client.key');
const caFile = path.join(dir, 'ca.pem');
writeFileSync(certFile, 'CERT');
writeFileSync(keyFile, 'KEY');
writeFileSync(caFile, 'CA');
const configFile = path.join(dir, 'temporal.toml');
writeFileSync(
  configFile,
  [
    '[profile.default]',
    'address = "default.example:7233"',
    '[profile.prod]',
    'address = "prod.tmprl.cloud:7233"',
    'namespace = "backfills.acct"',
    'api_key = "profile-key"',
    '[profile.mtls]',
    'address = "mtls.example:7233"',
    '[profile.mtls.tls]',
    `client_cert_path = "${certFile}"`,
    `client_key_path = "${keyFile}"`,
  ].join('\n'),
);

const bytes = (text: string) => Uint8Array.from(Buffer.from(text));

describe('the Temporal connection is configured the standard Temporal way', () => {
  it('defaults to the local dev server without TLS when nothing is configured', () => {
    const t = temporalConfigFromEnv({});
    expect(t).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', addressConfigured: false });
    expect(t.connectionOptions).toMatchObject({ address: '127.0.0.1:7233', tls: undefined, apiKey: undefined });
  });

  it('uses TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, and treats empty variables as unset', () => {
    const t = temporalConfigFromEnv({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'backfills' });
    expect(t).toMatchObject({ address: 'temporal:7233', namespace: 'backfills', addressConfigured: true });
    expect(t.connectionOptions.address).toBe('temporal:7233');
    expect(temporalConfigFromEnv({ TEMPORAL_ADDRESS: '', TEMPORAL_API_KEY: '' })).toMatchObject({
      address: '127.0.0.1:7233',
      addressConfigured: false,
      connectionOptions: { tls: undefined, apiKey: undefined },
    });
  });

  it('turns TLS on for TEMPORAL_API_KEY, unless TEMPORAL_TLS=false', () => {
    const t = temporalConfigFromEnv({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret' });
    expect(t.connectionOptions).toMatchObject({ address: 'x.tmprl.cloud:7233', tls: true, apiKey: 'secret' });
    expect(t.apiKey).toBe('secret');
    const plain = temporalConfigFromEnv({ TEMPORAL_API_KEY: 'secret', TEMPORAL_TLS: 'false' });
    expect(plain.connectionOptions).toMatchObject({ tls: false, apiKey: 'secret' });
  });

  it('reads the mTLS client certificate, key and server CA from the standard variables', () => {
    const t = temporalConfigFromEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
      TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile,
    });
    expect(t.connectionOptions.tls).toMatchObject({
      clientCertPair: { crt: bytes('CERT'), key: bytes('KEY') },
      serverRootCACertificate: bytes('CA'),
    });
  });

  it('reads the profile TEMPORAL_PROFILE of TEMPORAL_CONFIG_FILE, with environment variables taking precedence', () => {
    expect(temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: configFile })).toMatchObject({
      address: 'default.example:7233',
      addressConfigured: true,
    });
    const prod = temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' });
    expect(prod).toMatchObject({
      address: 'prod.tmprl.cloud:7233',
      namespace: 'backfills.acct',
      apiKey: 'profile-key',
    });
    expect(prod.connectionOptions).toMatchObject({ tls: true, apiKey: 'profile-key' });
    const mtls = temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'mtls' });
    expect(mtls.connectionOptions.tls).toMatchObject({ clientCertPair: { crt: bytes('CERT'), key: bytes('KEY') } });
    const overridden = temporalConfigFromEnv({
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'other',
    });
    expect(overridden).toMatchObject({ address: 'prod.tmprl.cloud:7233', namespace: 'other' });
  });

  it('refuses the retired variables, naming the standard replacement', () => {
    expect(() => temporalConfigFromEnv({ TEMPORAL_TLS_CERT: certFile })).toThrow(
      'TEMPORAL_TLS_CERT is no longer read: set the standard Temporal variable TEMPORAL_TLS_CLIENT_CERT_PATH instead.',
    );
    expect(() => temporalConfigFromEnv({ TEMPORAL_TLS_KEY: keyFile })).toThrow(/TEMPORAL_TLS_CLIENT_KEY_PATH/);
    expect(() => temporalConfigFromEnv({ TEMPORAL_TLS_CA: caFile })).toThrow(/TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
  });

  it('refuses half an mTLS pair, an unreadable PEM file and an unknown profile', () => {
    expect(() => temporalConfigFromEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile })).toThrow(
      /client certificate and key must be set together/,
    );
    expect(() =>
      temporalConfigFromEnv({
        TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
        TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'missing.key'),
      }),
    ).toThrow(/Temporal client configuration \(profile 'default'\): ENOENT.*missing\.key/);
    expect(() => temporalConfigFromEnv({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'staging' })).toThrow(
      /Profile 'staging' not found/,
    );
  });
});
