import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerProfile } from '../../src/shared/server-profile';

/** A recorded server profile of test/fixtures/server-profiles/ (`single-server-26.7`, `sharded-cluster`, …). */
export function recordedProfile(name: string): ServerProfile {
  return JSON.parse(
    readFileSync(path.resolve(__dirname, '../fixtures/server-profiles', `${name}.json`), 'utf8'),
  ) as ServerProfile;
}
