import type { Command } from 'commander';
import { ledgerHistoryInputSchema } from '../../shared/plan-input';
import { describeIssues } from '../../shared/input-errors';
import type { LedgerEntry } from '../../shared/ledger';
import type { ledgerHistoryWorkflow } from '../../workflows';
import { askService } from '../ask-service';
import { CliError } from '../cli-error';
import { connectTemporalClient } from '../temporal-client';
import { textTable } from '../text-table';
import { qualifiedName } from '../../shared/table-ref';

const count = (n: number): string => n.toLocaleString('en-US');

/** One ledger row as a line of `history`. */
function historyRow(e: LedgerEntry): string[] {
  return [
    e.swappedAt,
    e.partition,
    e.build,
    e.action,
    e.fingerprint ? count(e.fingerprint.rows) : '?',
    count(e.targetRows),
    e.jobHash,
    e.writer,
    e.fingerprint ? 'yes' : `no: ${e.note}`,
  ];
}

/**
 * `history <target> [--partition P]`: what the ledger knows of a target, newest first: every swap with the build,
 * the source rows it was built from, the target rows after it, the job definition and the job, and whether the row
 * vouches for the partition's contents (what `--only changed` relies on). Read on the worker.
 */
export function registerHistoryCommand(program: Command): void {
  program
    .command('history <target>')
    .description("the ledger's rows of a target (table or database.table), newest first")
    .option('--partition <id>', 'only this partition (YYYYMM or YYYYMMDD)')
    .option('--ledger <table>', "the ledger table in the target's database (the job's ledger.table)")
    .option('--limit <n>', 'at most this many rows', '100')
    .option('--cluster <name>', "on a replicated cluster listing the server in several: the job's cluster")
    .option('--json', 'print the rows as JSON')
    .action(
      async (
        target: string,
        options: { partition?: string; ledger?: string; limit: string; cluster?: string; json?: boolean },
      ) => {
        const parsed = ledgerHistoryInputSchema.safeParse({
          target,
          partition: options.partition,
          ledger: options.ledger,
          limit: Number(options.limit),
          cluster: options.cluster,
        });
        if (!parsed.success) throw new CliError(`invalid history input:\n${describeIssues(parsed.error)}`);
        const client = await connectTemporalClient();
        const history = await askService<typeof ledgerHistoryWorkflow>(client, 'ledgerHistoryWorkflow', [parsed.data], {
          what: 'history',
        });
        if (options.json) {
          console.log(JSON.stringify(history, null, 2));
          return;
        }
        const ledger = qualifiedName(history.ledger);
        const of = options.partition ? ` partition ${options.partition}` : '';
        console.log(`${ledger} on ${qualifiedName(history.target)}${of}: ${history.entries.length} rows, newest first`);
        if (history.entries.length === 0) return;
        console.log(
          textTable(
            [
              'swapped at (UTC)',
              'partition',
              'build',
              'action',
              'source rows',
              'target rows',
              'job definition',
              'writer',
              'vouches',
            ],
            history.entries.map(historyRow),
            0,
          ),
        );
      },
    );
}
