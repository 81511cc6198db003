import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTemporalCli } from '../../src/temporal/temporal-cli-path';

const dir = mkdtempSync(path.join(tmpdir(), 'temporal-cli-'));
const fakeCli = path.join(dir, 'temporal');
writeFileSync(fakeCli, '#!/bin/sh\n');
chmodSync(fakeCli, 0o755);

describe('findTemporalCli', () => {
  it('prefers TEMPORAL_CLI_PATH', () => {
    expect(findTemporalCli({ TEMPORAL_CLI_PATH: fakeCli, PATH: '' })).toBe(fakeCli);
  });

  it('rejects a TEMPORAL_CLI_PATH that is not an executable file', () => {
    expect(() => findTemporalCli({ TEMPORAL_CLI_PATH: dir })).toThrow(/not an executable file/);
  });
});
