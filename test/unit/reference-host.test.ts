import { forbiddenReferenceHost } from '../../src/shared/reference-host';
import { referenceSchema } from '../../src/shared/validate-input';

describe('validate --reference hosts', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', '169.254.169.254'],
    ['https://169.254.1.2/x.parquet', '169.254.1.2'],
    ['http://2852039166/latest/meta-data/', '169.254.169.254'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://[fd00:ec2::254]/latest/meta-data/', '[fd00:ec2::254]'],
    ['http://[fe80::1]/x.parquet', '[fe80::1]'],
    ['http://[::ffff:169.254.169.254]/', '[::ffff:a9fe:a9fe]'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata.google.internal'],
    ['http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/', 'metadata.google.internal.'],
    ['http://100.100.100.200/latest/meta-data/', '100.100.100.200'],
    ['s3://169.254.169.254/bucket/x.parquet', '169.254.169.254'],
  ])('refuses %s, naming the host', (path, host) => {
    expect(forbiddenReferenceHost(path)).toBe(
      `host ${host} is a link-local or cloud metadata address: the ClickHouse server would send its own ` +
        `credentials there; give the files' real location`,
    );
  });

  it.each([
    'https://storage.googleapis.com/b/x.parquet',
    's3://my-bucket/exports/*.parquet',
    'https://my-bucket.s3.eu-west-1.amazonaws.com/x.parquet',
    'http://127.0.0.1:9000/b/x.parquet',
    'http://10.0.0.5/x.parquet',
  ])('allows %s', (path) => {
    expect(forbiddenReferenceHost(path)).toBeUndefined();
  });

  it('is refused by the reference schema for url() and s3()', () => {
    const url = referenceSchema.safeParse({ kind: 'url', path: 'http://169.254.169.254/latest/meta-data/' });
    expect(url.error?.issues).toEqual([
      expect.objectContaining({ path: ['path'], message: expect.stringContaining('host 169.254.169.254') }),
    ]);
    const s3 = referenceSchema.safeParse({ kind: 's3', path: 'https://metadata.google.internal/x.parquet' });
    expect(s3.success).toBe(false);
    expect(referenceSchema.safeParse({ kind: 's3', path: 's3://bucket/x.parquet' }).success).toBe(true);
  });
});
