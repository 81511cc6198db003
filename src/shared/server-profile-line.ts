import type { ServerProfile } from './server-profile';

/**
 * A profile on one line, for `plan` and `doctor`: topology, version, hosts, engines (databases, then tables) and
 * pending patch parts, e.g. `cloud, ClickHouse 26.7.1.5421, 3 hosts (a, b, c), engines: default Replicated,
 * default.events SharedMergeTree`.
 */
export function serverProfileLine(profile: ServerProfile): string {
  const hosts = `${profile.hosts.length} host${profile.hosts.length === 1 ? '' : 's'} (${profile.hosts.join(', ')})`;
  const engines = [...Object.entries(profile.databaseEngines), ...Object.entries(profile.tableEngines)]
    .map(([name, engine]) => `${name} ${engine}`)
    .join(', ');
  const patches = Object.entries(profile.patchPartitions).map(([t, ids]) => `${t} (${ids.length})`);
  const sharding = profile.sharding;
  // A sharded cluster: its shards, their replicas, and what each Distributed table spreads over.
  const shards = sharding
    ? `, cluster ${sharding.name}: ${sharding.shards.length} shards (${sharding.shards
        .map((s) => `${s.num}: ${s.hosts.join(' ')}`)
        .join('; ')}), ` +
      Object.entries(sharding.distributed)
        .map(([t, d]) => `${t} → ${d.local.database}.${d.local.name} by ${d.shardingKey ?? 'no key'}`)
        .join(', ')
    : '';
  return (
    `${profile.topology}, ClickHouse ${profile.version}, ${hosts}, engines: ${engines || 'none yet'}` +
    (patches.length > 0 ? `, pending patch parts: ${patches.join(', ')}` : '') +
    shards
  );
}
