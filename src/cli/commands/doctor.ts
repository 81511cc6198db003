import { Client, Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Command } from 'commander';
import type { ClickHouseDoctorInput, DoctorCheck } from '../../activities/service/doctor';
import { backfillPartitionsKey, backfillRoleKey, backfillTargetKey } from '../../temporal/backfill-search-attributes';
import { temporalConfigFromEnv, type TemporalConfig } from '../../temporal/connection';
import type { doctorWorkflow } from '../../workflows';
import { askService, NoWorkerError } from '../ask-service';
import { CliError } from '../cli-error';
import { errorLine } from '../error-line';
import { loadJobFile } from '../job-file';
import { nameWorkflowFailures, taskQueueFromEnv } from '../temporal-client';

const { IndexedValueType } = temporal.api.enums.v1;
const GRPC_NOT_FOUND = 5;

/** How the Temporal CLI (`--type`) names each search attribute type. */
const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `Keyword` for `INDEXED_VALUE_TYPE_KEYWORD`, as the server reports a registered attribute's type. */
function cliTypeName(indexed: number): string {
  const name = IndexedValueType[indexed]?.replace('INDEXED_VALUE_TYPE_', '') as SearchAttributeType | undefined;
  return (name && CLI_TYPE_NAMES[name]) ?? `type ${indexed}`;
}

interface Report {
  print(check: DoctorCheck, fix?: string[]): void;
  failures: number;
}

function report(): Report {
  const r: Report = {
    failures: 0,
    print(check, fix = []) {
      if (!check.ok) r.failures++;
      console.log(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}`);
      for (const line of fix) console.log(`      ${line}`);
    },
  };
  return r;
}

/** Temporal reachable, the namespace there, our search attributes registered; false when nothing more can run. */
async function checkTemporal(client: Client, config: TemporalConfig, r: Report): Promise<boolean> {
  const { workflowService, operatorService } = client.connection;
  const { serverVersion } = await workflowService.getSystemInfo({});
  r.print({ name: 'Temporal reachable', ok: true, detail: `${config.address} (server ${serverVersion || 'unknown'})` });

  const { namespace } = config;
  try {
    await workflowService.describeNamespace({ namespace });
    r.print({ name: 'namespace', ok: true, detail: `${namespace} exists` });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
    r.print({ name: 'namespace', ok: false, detail: `${namespace} does not exist` }, [
      `fix: temporal operator namespace create --address ${config.address} --namespace ${namespace}`,
    ]);
    return false;
  }

  const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
  for (const key of [backfillTargetKey, backfillPartitionsKey, backfillRoleKey]) {
    const wanted = CLI_TYPE_NAMES[key.type];
    const registered = customAttributes?.[key.name];
    const name = `search attribute ${key.name}`;
    if (registered === undefined || registered === null) {
      r.print({ name, ok: false, detail: `not registered in namespace ${namespace}` }, [
        'fix: temporal operator search-attribute create ' +
          `--address ${config.address} --namespace ${namespace} --name ${key.name} --type ${wanted}`,
      ]);
    } else if (cliTypeName(registered) !== wanted) {
      r.print({ name, ok: false, detail: `registered as ${cliTypeName(registered)}, backfills need ${wanted}` });
    } else {
      r.print({ name, ok: true, detail: wanted });
    }
  }
  return true;
}

/** Runs `doctorWorkflow`'s checks on the task queue's service workflow; a worker must take them within `timeoutMs`. */
async function checkWorkerAndClickHouse(
  client: Client,
  input: ClickHouseDoctorInput,
  timeoutMs: number,
  r: Report,
): Promise<void> {
  const taskQueue = taskQueueFromEnv();
  let checks: DoctorCheck[];
  try {
    checks = await askService<typeof doctorWorkflow>(client, 'doctorWorkflow', [input], {
      what: 'ClickHouse checks',
      pickupMs: timeoutMs,
    });
  } catch (err) {
    if (err instanceof NoWorkerError) {
      r.print(
        {
          name: 'worker',
          ok: false,
          detail: `no worker on task queue ${taskQueue} picked up a check within ${timeoutMs / 1000} s`,
        },
        [`fix: start one with TEMPORAL_TASK_QUEUE=${taskQueue} npm run worker`],
      );
    } else {
      r.print({ name: 'worker', ok: false, detail: errorLine(err) });
    }
    return;
  }
  r.print({ name: 'worker', ok: true, detail: `serves task queue ${taskQueue}` });
  for (const check of checks) r.print(check, check.fix);
}

/**
 * `doctor [--job <file>]`: checks, one line each, everything a backfill needs: Temporal (reachable, namespace,
 * search attributes, with the exact commands that fix what is missing), a worker on the task queue, and ClickHouse
 * as that worker sees it (reachable, version, every kind of statement a backfill runs). The ClickHouse checks run
 * on the worker, because in embedded mode no other process may open the data directory.
 */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check Temporal, the worker and ClickHouse for everything a backfill needs')
    .option('--job <file>', "check in the job's target database, with its insert settings")
    .option('--timeout <seconds>', 'how long to wait for a worker to pick up the ClickHouse checks', '15')
    .action(async (options: { job?: string; timeout: string }) => {
      const timeoutMs = Number(options.timeout) * 1000;
      if (!(timeoutMs > 0))
        throw new CliError(`--timeout must be a positive number of seconds, not ${options.timeout}`);
      const loaded = options.job ? loadJobFile(options.job) : undefined;
      // A restate names a view, whose tables the worker reads from the server: checked in the view's database.
      const job = loaded?.kind === 'view-restate' ? undefined : loaded;
      const target = (job?.target.table ?? (loaded?.kind === 'view-restate' ? loaded.view : undefined))?.split('.');
      const input: ClickHouseDoctorInput = {
        ...(target?.length === 2 ? { database: target[0] } : {}),
        ...(job
          ? {
              insertSettings: job.insertSettings,
              job: {
                kind: job.kind,
                ...('table' in job.source ? { source: job.source.table } : {}),
                target: job.target.table,
                safety: job.safety,
              },
            }
          : {}),
      };
      const config = temporalConfigFromEnv();
      const r = report();
      let connection: Connection;
      try {
        connection = await Connection.connect({ ...config.connectionOptions, connectTimeout: '5s' });
      } catch (err) {
        r.print({ name: 'Temporal reachable', ok: false, detail: `${config.address}: ${errorLine(err)}` }, [
          'fix: start one with `npx ch-backfill dev-server`, or set TEMPORAL_ADDRESS (or TEMPORAL_PROFILE)',
        ]);
        throw new CliError('doctor: Temporal is not reachable');
      }
      try {
        const client = nameWorkflowFailures(new Client({ connection, namespace: config.namespace }));
        if (await checkTemporal(client, config, r)) await checkWorkerAndClickHouse(client, input, timeoutMs, r);
      } finally {
        await connection.close();
      }
      if (r.failures > 0) throw new CliError(`doctor: ${r.failures} check(s) failed`);
    });
}
