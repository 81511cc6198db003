import { grantStatements, missingGrants, neededGrants } from '../../src/activities/service/job-grants';

/** The privileges of system.privileges this test needs, as a 26.7 server lists them. */
const PRIVILEGES = [
  { privilege: 'SELECT', aliases: [], parent_group: 'ALL' },
  { privilege: 'INSERT', aliases: [], parent_group: 'ALL' },
  { privilege: 'ALTER', aliases: [], parent_group: 'ALL' },
  { privilege: 'ALTER TABLE', aliases: [], parent_group: 'ALTER' },
  { privilege: 'ALTER DELETE', aliases: ['DELETE'], parent_group: 'ALTER TABLE' },
  {
    privilege: 'ALTER MOVE PARTITION',
    aliases: ['ALTER MOVE PART', 'MOVE PARTITION', 'MOVE PART'],
    parent_group: 'ALTER TABLE',
  },
  { privilege: 'CREATE', aliases: [], parent_group: 'ALL' },
  { privilege: 'CREATE TABLE', aliases: [], parent_group: 'CREATE' },
  { privilege: 'CREATE VIEW', aliases: [], parent_group: 'CREATE' },
  { privilege: 'DROP', aliases: [], parent_group: 'ALL' },
  { privilege: 'DROP TABLE', aliases: [], parent_group: 'DROP' },
  { privilege: 'DROP VIEW', aliases: [], parent_group: 'DROP' },
  { privilege: 'TRUNCATE', aliases: ['TRUNCATE TABLE'], parent_group: 'ALL' },
  { privilege: 'SYSTEM', aliases: [], parent_group: 'ALL' },
  { privilege: 'SYSTEM SYNC REPLICA', aliases: ['SYNC REPLICA'], parent_group: 'SYSTEM' },
  { privilege: 'CLUSTER', aliases: [], parent_group: 'ALL' },
];

const source = { database: 'raw', name: 'events' };
const target = { database: 'agg', name: 'events_daily' };

describe('grants a job needs', () => {
  it('are all held by a user with every privilege on *.* (the default user)', () => {
    const needed = neededGrants('view', source, target, 'cloud');
    expect(
      missingGrants(
        needed,
        ['GRANT SELECT, INSERT, ALTER, CREATE, DROP, TRUNCATE, SYSTEM ON *.* TO default'],
        PRIVILEGES,
      ),
    ).toEqual([]);
    expect(missingGrants(needed, ['GRANT ALL ON *.* TO admin WITH GRANT OPTION'], PRIVILEGES)).toEqual([]);
  });

  it('names what a least-privileged aggregate user lacks, and prints the GRANT statements for it', () => {
    const needed = neededGrants('aggregate', source, target, 'single-server');
    const missing = missingGrants(
      needed,
      [
        'GRANT SELECT ON raw.events TO etl',
        'GRANT SELECT, INSERT, CREATE TABLE, DROP TABLE ON agg.* TO etl',
        'GRANT etl_role TO etl',
      ],
      PRIVILEGES,
    );
    expect(missing.map((m) => `${m.privilege} ON ${m.on}`)).toEqual(['TRUNCATE ON agg.*', 'ALTER DELETE ON agg.*']);
    expect(grantStatements(missing, 'etl')).toEqual(['GRANT TRUNCATE, ALTER DELETE ON agg.* TO etl']);
  });

  it('accepts a group (ALTER TABLE) and an alias (DELETE) for the privilege under it', () => {
    const needed = neededGrants('aggregate', source, target, 'single-server');
    const base = [
      'GRANT SELECT ON raw.* TO etl',
      'GRANT SELECT, INSERT, CREATE TABLE, DROP TABLE, TRUNCATE ON agg.* TO etl',
    ];
    expect(missingGrants(needed, [...base, 'GRANT ALTER TABLE ON agg.* TO etl'], PRIVILEGES)).toEqual([]);
    expect(missingGrants(needed, [...base, 'GRANT DELETE ON agg.* TO etl'], PRIVILEGES)).toEqual([]);
  });

  it('does not count a column-level SELECT, a grant on another database, or a revoked privilege', () => {
    const needed = neededGrants('aggregate', source, target, 'single-server').filter((n) => n.privilege === 'SELECT');
    const missing = missingGrants(
      needed,
      [
        'GRANT SELECT(id, ts) ON raw.events TO etl',
        'GRANT SELECT ON *.* TO etl',
        'REVOKE SELECT ON agg.* FROM etl',
        'GRANT SELECT ON aggx.* TO etl',
      ],
      PRIVILEGES,
    );
    expect(missing.map((m) => m.on)).toEqual(['agg.*']);
  });

  it('asks view and import jobs for views and moves, and Cloud and clusters for SYSTEM SYNC REPLICA', () => {
    const privileges = (
      kind: 'aggregate' | 'view' | 'import',
      topology: 'single-server' | 'cloud' | 'replicated-cluster',
    ) => neededGrants(kind, source, target, topology).map((n) => n.privilege);
    expect(privileges('aggregate', 'single-server')).not.toContain('CREATE VIEW');
    expect(privileges('import', 'single-server')).toEqual(
      expect.arrayContaining(['ALTER MOVE PARTITION', 'CREATE VIEW', 'DROP VIEW']),
    );
    expect(privileges('aggregate', 'cloud')).toContain('SYSTEM SYNC REPLICA');
    expect(privileges('view', 'single-server')).not.toContain('SYSTEM SYNC REPLICA');
    expect(privileges('import', 'replicated-cluster')).toContain('SYSTEM SYNC REPLICA');
  });

  it('asks a replicated cluster, and no other topology, for the global CLUSTER privilege of ON CLUSTER statements', () => {
    const needed = neededGrants('view', source, target, 'replicated-cluster');
    expect(needed.filter((n) => n.privilege === 'CLUSTER')).toEqual([
      {
        privilege: 'CLUSTER',
        on: '*.*',
        why: 'ON CLUSTER statements: DDL in an Atomic database, the syncs of every replica, KILL QUERY',
      },
    ]);
    for (const topology of ['single-server', 'cloud', 'embedded'] as const) {
      expect(neededGrants('view', source, target, topology).map((n) => n.privilege)).not.toContain('CLUSTER');
    }
    // A user with every privilege on the job's databases, but none global: CLUSTER alone is missing, granted on *.*.
    const onDatabases = [
      'GRANT SELECT ON raw.events TO backfill',
      'GRANT SELECT, INSERT, CREATE, DROP, TRUNCATE, ALTER, SYSTEM SYNC REPLICA ON agg.* TO backfill',
    ];
    const missing = missingGrants(needed, onDatabases, PRIVILEGES);
    expect(missing.map((n) => `${n.privilege} ON ${n.on}`)).toEqual(['CLUSTER ON *.*']);
    expect(grantStatements(missing, 'backfill')).toEqual(['GRANT CLUSTER ON *.* TO backfill']);
    // CLUSTER granted globally (or ALL): nothing missing; granted on a database only, it does not count.
    expect(missingGrants(needed, [...onDatabases, 'GRANT CLUSTER ON *.* TO backfill'], PRIVILEGES)).toEqual([]);
    expect(missingGrants(needed, ['GRANT ALL ON *.* TO backfill'], PRIVILEGES)).toEqual([]);
    expect(
      missingGrants(needed, [...onDatabases, 'GRANT CLUSTER ON agg.* TO backfill'], PRIVILEGES).map((n) => n.privilege),
    ).toEqual(['CLUSTER']);
  });
});
