import type { Command } from 'commander';
import { resumeSignal } from '../../shared/messages';
import { connectTemporalClient } from '../temporal-client';
import { queryFailure } from './backfill-handle';

/** `resume <id>`: lifts a manual pause (a pause for cluster load lifts itself after its cool-down). */
export function registerResumeCommand(program: Command): void {
  program
    .command('resume <workflowId>')
    .description('resume a paused backfill')
    .action(async (workflowId: string) => {
      const client = await connectTemporalClient();
      await client.workflow.getHandle(workflowId).signal(resumeSignal).catch(queryFailure(workflowId));
      console.log(`resume sent to ${workflowId}`);
    });
}
