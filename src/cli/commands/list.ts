import type { Command } from 'commander';
import { backfillPartitionsKey, backfillTargetKey } from '../../temporal/backfill-search-attributes';
import { connectTemporalClient } from '../temporal-client';

/** `list [--running] [--target <table>] [--limit <n>]`: backfills, newest first, from Temporal's visibility. */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list running and recent backfills (also filterable in the Web UI by BackfillTarget)')
    .option('--running', 'only running backfills')
    .option('--target <table>', 'only backfills of this target, as the job names it')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (options: { running?: boolean; target?: string; limit: string }) => {
      const client = await connectTemporalClient();
      const filters = ["WorkflowType = 'backfillWorkflow'"];
      if (options.running) filters.push("ExecutionStatus = 'Running'");
      // JSON quoting makes the target a safe visibility string literal.
      if (options.target) filters.push(`BackfillTarget = ${JSON.stringify(options.target)}`);
      const limit = Number(options.limit);
      let shown = 0;
      for await (const w of client.workflow.list({ query: filters.join(' AND ') })) {
        if (shown++ >= limit) break;
        const partitions = w.typedSearchAttributes.get(backfillPartitionsKey) ?? [];
        const range = partitions.length ? `${partitions[0]}…${partitions[partitions.length - 1]}` : '';
        console.log(
          [
            w.workflowId,
            w.status.name,
            w.typedSearchAttributes.get(backfillTargetKey) ?? '?',
            `${partitions.length} partitions ${range}`.trim(),
            `started ${w.startTime.toISOString()}`,
          ].join('  '),
        );
      }
      if (shown === 0) console.log('no backfills');
    });
}
