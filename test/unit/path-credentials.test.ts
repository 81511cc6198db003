import { fileSourceSchema } from '../../src/shared/import-file-source';
import { credentialsInPath } from '../../src/shared/path-credentials';
import { describeReference, referenceFromArgument, referenceSchema } from '../../src/shared/validate-input';
import { sideQuery, type CompareShape } from '../../src/sql/service/reference-compare';

const bucket = 'https://bucket.s3.amazonaws.com/spark/events_daily.parquet';

describe('credentials in a path', () => {
  it.each([
    ['user:password@', 'https://user:secret@bucket.s3.amazonaws.com/x.parquet'],
    ['user@', 's3://AKIAIOSFODNN7EXAMPLE@bucket/x.parquet'],
    ['SigV4', `${bucket}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ab`],
    ['SigV4, another case', `${bucket}?x-amz-signature=ab`],
    ['a session token', `${bucket}?X-Amz-Security-Token=tok`],
    ['SigV2', `${bucket}?AWSAccessKeyId=AKIA&Expires=1&Signature=ab`],
    ['GCS', 'https://storage.googleapis.com/b/x.parquet?X-Goog-Algorithm=GOOG4&X-Goog-Signature=ab'],
    ['Azure SAS', 'https://acct.blob.core.windows.net/c/x.parquet?sv=2022-11-02&sp=r&sig=ab%3D'],
    ['an encoded name', `${bucket}?X%2DAmz%2DSignature=ab`],
  ])('refuses %s', (_what, path) => {
    expect(credentialsInPath(path)).toBeDefined();
  });

  it.each([
    bucket,
    's3://bucket/spark/*.parquet',
    'https://h/exports/part-{1..20}.parquet?version=3&format=parquet',
    's3://bucket/part-?.parquet',
    '/data/with@sign/x.parquet',
    'https://h/a@b/x.parquet',
  ])('takes %s', (path) => {
    expect(credentialsInPath(path)).toBeUndefined();
  });
});

describe('validate --reference with url() and s3()', () => {
  it('refuses credentials and signed URLs in the path, naming the parameter, not its value', () => {
    const signed = referenceSchema.safeParse({ kind: 'url', path: `${bucket}?X-Amz-Signature=secretvalue` });
    expect(signed.success).toBe(false);
    const message = JSON.stringify(signed.error?.issues);
    expect(message).toContain('must not be a signed URL (it holds x-amz-signature)');
    expect(message).not.toContain('secretvalue');
    expect(referenceSchema.safeParse({ kind: 's3', path: 's3://k:s@bucket/x.parquet' }).success).toBe(false);
    expect(referenceSchema.safeParse({ kind: 's3', path: `${bucket}?sig=x` }).success).toBe(false);
    expect(referenceSchema.safeParse({ kind: 'url', path: bucket }).success).toBe(true);
  });

  it('reads s3 through a named collection when given one (a plain name), the path still a parameter', () => {
    const reference = referenceFromArgument('s3://bucket/spark/*.parquet', 'spark_s3');
    expect(referenceSchema.parse(reference)).toEqual({
      kind: 's3',
      path: 's3://bucket/spark/*.parquet',
      namedCollection: 'spark_s3',
    });
    expect(describeReference(reference)).toBe('s3(spark_s3, url = s3://bucket/spark/*.parquet, Parquet)');
    expect(referenceSchema.safeParse({ ...reference, namedCollection: 'x`; DROP' }).success).toBe(false);
    expect(referenceSchema.safeParse({ kind: 'url', path: bucket, namedCollection: 'spark_s3' }).success).toBe(false);
    const shape: CompareShape = {
      keys: [{ name: 'user_id', type: 'UInt64' }],
      date: { name: 'date', type: 'Date' },
      metrics: [],
      summable: [],
    };
    const q = sideQuery('reference', shape, { database: 'd', name: 't' }, reference);
    expect(q.query).toContain('s3(`spark_s3`, url = {reference_path:String}, format = {reference_format:String})');
    expect(q.query).not.toContain('bucket');
    expect(q.params).toMatchObject({ reference_path: 's3://bucket/spark/*.parquet', reference_format: 'Parquet' });
  });
});

describe('an import from files', () => {
  it('refuses a signed URL or credentials as its path', () => {
    expect(fileSourceSchema.safeParse({ url: `${bucket}?X-Amz-Credential=AKIA` }).success).toBe(false);
    expect(fileSourceSchema.safeParse({ s3: `${bucket}?sig=x` }).success).toBe(false);
    expect(fileSourceSchema.safeParse({ s3: 'https://u:p@bucket.s3.amazonaws.com/*.parquet' }).success).toBe(false);
    expect(fileSourceSchema.safeParse({ s3: 'https://bucket.s3.amazonaws.com/*.parquet' }).success).toBe(true);
  });
});
