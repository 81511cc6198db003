import { Command, CommanderError } from 'commander';
import { registerApproveCommands } from './commands/approve';
import { registerCancelCommand } from './commands/cancel';
import { registerConfirmCommand } from './commands/confirm';
import { registerDevServerCommand } from './commands/dev-server';
import { registerDoctorCommand } from './commands/doctor';
import { registerListCommand } from './commands/list';
import { registerPauseCommand } from './commands/pause';
import { registerResumeCommand } from './commands/resume';
import { registerRetryFailedCommand } from './commands/retry-failed';
import { registerRollbackCommand } from './commands/rollback';
import { registerStartCommand } from './commands/start';
import { registerValidateCommand } from './commands/validate';
import { errorLine } from './error-line';
import { registerScheduleCommand } from './commands/schedule';
import { registerStatusCommand } from './commands/status';
import { registerPlanCommand } from './commands/plan';
import { registerHistoryCommand } from './commands/history';
import { registerReportCommand } from './commands/report';

/**
 * The `ch-backfill` command line: it only talks to Temporal (and `dev-server` runs one); the worker does all
 * ClickHouse work.
 */
export function buildProgram(): Command {
  const program = new Command('ch-backfill')
    .description('durable, partition-by-partition ClickHouse backfills on Temporal')
    .showHelpAfterError()
    .exitOverride();
  registerStartCommand(program);
  registerValidateCommand(program);
  registerScheduleCommand(program);
  registerStatusCommand(program);
  registerPauseCommand(program);
  registerResumeCommand(program);
  registerCancelCommand(program);
  registerRetryFailedCommand(program);
  registerApproveCommands(program);
  registerConfirmCommand(program);
  registerRollbackCommand(program);
  registerListCommand(program);
  registerDevServerCommand(program);
  registerDoctorCommand(program);
  registerPlanCommand(program);
  registerHistoryCommand(program);
  registerReportCommand(program);
  return program;
}

/** Runs the CLI; errors print as one line and set a non-zero exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    console.error(`ch-backfill: ${errorLine(err)}`);
    return 1;
  }
}
