import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { gatherJobReport } from '../report/gather-job-report';
import { renderReportHtml } from '../report/render-report-html';
import { connectTemporalClient } from '../temporal-client';

/**
 * `report <workflowId> --html <file>`: one self-contained page of a finished or running job, for a change ticket or
 * an audit: its summary, a per-partition timeline, rows and rows/s per partition, every validation check, the
 * reference validations of its target and its statements. Read-only: from Temporal's histories, and on the
 * worker from the ledger and the dry run.
 */
export function registerReportCommand(program: Command): void {
  program
    .command('report <workflowId>')
    .description('write a self-contained HTML report of a finished or running job (timeline, rows, checks, statements)')
    .requiredOption('--html <file>', 'the HTML file to write')
    .action(async (workflowId: string, options: { html: string }) => {
      const client = await connectTemporalClient();
      const report = await gatherJobReport(client, workflowId);
      writeFileSync(options.html, renderReportHtml(report));
      console.log(
        `wrote ${options.html}: ${report.workflowId} (${report.status.toLowerCase()}), ` +
          `${report.partitions.length} partitions`,
      );
    });
}
