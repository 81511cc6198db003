import { Client, Connection } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queue';
import { temporalConfigFromEnv } from '../temporal/connection';

/** The task queue the CLI starts workflows on: `TEMPORAL_TASK_QUEUE` or the default. */
export function taskQueueFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE;
}

/**
 * A Temporal client for the server configured the standard Temporal way (environment variables and `temporal.toml`
 * profiles, see {@link temporalConfigFromEnv}).
 */
export async function connectTemporalClient(env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const target = temporalConfigFromEnv(env);
  const connection = await Connection.connect(target.connectionOptions);
  return new Client({ connection, namespace: target.namespace });
}
