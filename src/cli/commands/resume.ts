import type { Command } from 'commander';
import { resumeUpdate } from '../../shared/messages';
import { connectTemporalClient } from '../temporal-client';
import { sendUpdate } from './backfill-handle';

/**
 * `resume <id>`: the `resume` Update, which lifts a manual pause (a pause for cluster load lifts itself after its
 * cool-down); prints the job's answer, or its refusal ("not paused") with exit code 1.
 */
export function registerResumeCommand(program: Command): void {
  program
    .command('resume <workflowId>')
    .description('resume a paused backfill')
    .action(async (workflowId: string) => {
      const client = await connectTemporalClient();
      const handle = client.workflow.getHandle(workflowId);
      const answer = await sendUpdate(workflowId, () => handle.executeUpdate(resumeUpdate));
      console.log(`${workflowId} ${answer}`);
    });
}
