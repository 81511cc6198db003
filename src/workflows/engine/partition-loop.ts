import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  metricMeter,
  patched,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { loadPausedSeconds } from '../../shared/backfill-metrics';
import type { BackfillSummary, PartitionPlan } from '../../shared/backfill-results';
import { innermostMessage } from '../../shared/failure-message';
import { FailureType } from '../../shared/failure-types';
import type { Safety } from '../../shared/job-spec';
import { type LoadThresholds } from '../../shared/load-thresholds';
import { assessLoad, type LoadSample } from '../../shared/load-assessment';
import {
  approveSignal,
  approveUpdate,
  partitionStepSignal,
  pauseSignal,
  pauseUpdate,
  progressQuery,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  setParallelismUpdate,
  type PartitionRef,
  type PauseRequest,
} from '../../shared/messages';
import type { BackfillProgress, PartitionProgress } from '../../shared/progress';
import { BackfillPause } from './backfill-pause';
import { currentDetailsOf } from './current-details';
import { packPartitions, unpackPartitions, type CarriedPartitions } from './carried-partitions';
import { approvalRefusal, pauseRefusal, refuseIf, resumeRefusal } from './operator-refusals';
import { applyStepReport } from './partition-progress';
import { PartitionLoopState, checkParallelism, withRates } from './partition-loop-state';
import { startPartitionWriter, type PartitionWriter } from './partition-writer';
import type { PartitionTask } from '../../shared/partition-task';

/** What {@link PartitionLoop.run} needs from the job kind that uses it. */
export interface PartitionLoopOptions<P extends PartitionPlan> {
  /**
   * The planned partitions. The loop runs, in the order of `progress.partitions`, every entry still `pending`
   * whose id is among these (so a continued run passes the same list and skips what is done; a job that runs its
   * partitions in stages passes each stage's).
   */
  partitions: readonly P[];
  /** The partition writer's task for one partition: how its shadow is built and swapped in. */
  taskFor: (partition: P) => PartitionTask;
  /** How a partition held by another job's writer is waited for, or failed. */
  safety: Pick<Safety, 'whenPartitionBusy' | 'busyRecheckSeconds'>;
  /** The job's load thresholds and one reading of the cluster's load (usually the `checkClusterLoad` activity). */
  load: { thresholds: LoadThresholds; sample: () => Promise<LoadSample> };
  /** `database.table` of the target: the label of the load-pause metric. */
  target: string;
  /**
   * Called when Temporal suggests continue-as-new, once no partition is running and every handler has finished:
   * the job calls `continueAsNew` with its own carry (input, plan without its partitions, …) and `carry`, and in
   * its next run hands `carry.partitions` to {@link PartitionLoop.resume}. Never returns.
   */
  continueAsNew: (carry: LoopCarry) => Promise<never>;
  /**
   * After a cancel, outside cancellation: the partitions that ended cancelled (e.g. to drop their shadows again).
   * Then the loop sets the phase `cancelled` and rethrows the cancellation.
   */
  afterCancel?: (cancelled: P[]) => Promise<void>;
}

/**
 * What the loop carries into the job's next run: the progress (its `partitions` emptied) and every partition,
 * packed (see src/workflows/engine/carried-partitions.ts).
 */
export interface LoopCarry {
  progress: BackfillProgress;
  partitions: CarriedPartitions;
}

/**
 * The workflow-side loop every partitioned job kind runs its partitions with: at most `progress.parallelism`
 * partition writers at once (src/workflows/engine/partition-writer.ts, each under its partition's lock), none started
 * while paused, the cluster's load checked before each, every child's result counted into the progress.
 *
 * Construct it once the input is known, with the job's progress (fresh from `initialProgress`, or the one
 * carried across continue-as-new); the constructor installs the job's handlers, all answered from that progress:
 * query `progress` (with rates and ETA), signals `pause {reason, now?}` / `resume` (forwarded to the running
 * partitions), `approve`/`reject {partition}` (forwarded to that partition), `partitionStep` (a child's step
 * report), and update `setParallelism` (1–64, returns the previous value; the next free slot obeys it). `pause`,
 * `resume`, `approve` and `reject` are Updates too, each with a validator that refuses, with the reason and no
 * trace in history, a command that does not apply (src/workflows/engine/operator-refusals.ts). Fill
 * `progress.partitions` (state `pending`), call {@link run}, then end with {@link close} over {@link outcome}.
 *
 * ```ts
 * const loop = new PartitionLoop(carried?.progress ?? initialProgress(job.parallelism));
 * let partitions = carried ? loop.resume(carried.partitions) : …plan, then fill loop.progress.partitions…;
 * await loop.run({ partitions, taskFor, safety: job.safety, load, target,
 *   continueAsNew: (carry) => continueAsNew<typeof myWorkflow>(raw, { input, plan, ...carry }) });
 * return loop.close({ workflowId, target, from, to, ...loop.outcome() });
 * ```
 *
 * Load: before a partition starts, the cluster's load is sampled unless a sample found it calm less than
 * `checkIntervalSeconds` ago. Over a threshold of `load.thresholds` the loop pauses itself (`pause.load`), re-checks
 * every `checkIntervalSeconds` on a durable timer and resumes after `cooldownSeconds` below every threshold; a
 * manual pause outlasts an automatic resume.
 *
 * Durability: each child's completion is in history. When Temporal suggests continue-as-new (checked before each
 * partition starts), the loop waits for the running partitions and every handler, compacts the done partitions'
 * results and calls `continueAsNew`. A failed partition does not stop the others (state `failed`, `error` set); the
 * job decides what a failure means once `run` returns. On cancellation the running partitions are cancelled with
 * the job (each drops its shadow; one already swapping completes), `afterCancel` runs, the phase becomes
 * `cancelled` and the cancellation is rethrown.
 */
export class PartitionLoop {
  readonly pause: BackfillPause;
  private readonly state: PartitionLoopState;
  private readonly running = new Map<string, PartitionWriter>();
  private readonly byId = new Map<string, PartitionProgress>();
  /** The answers (`approve`/`reject` Updates) given to partitions still running, so a second one is refused. */
  private readonly answered = new Map<string, 'approve' | 'reject'>();
  /** When a load sample last found the cluster calm (workflow time). */
  private calmAt: number | undefined;
  /** What a job kind adds to each `progress` answer (see {@link extendProgress}). */
  private extension: ((progress: BackfillProgress) => Partial<BackfillProgress>) | undefined;

  constructor(readonly progress: BackfillProgress) {
    this.state = new PartitionLoopState(progress);
    this.pause = new BackfillPause((progress.pause ??= {}), (request: PauseRequest | undefined) => {
      for (const child of this.running.values()) {
        // A child may finish between our deciding and its receiving: then the signal has nothing to do.
        const sent = request ? child.signal(pauseSignal, request) : child.signal(resumeSignal);
        sent.catch(() => undefined);
      }
    });

    setHandler(progressQuery, () => ({ ...withRates(progress, Date.now()), ...this.extension?.(progress) }));
    setHandler(pauseSignal, (request = {}) =>
      this.pause.set('manual', request.reason ?? 'paused by an operator', request.now),
    );
    setHandler(resumeSignal, () => this.pause.set('manual', undefined));
    const forward = (decision: typeof approveSignal) => (ref?: { partition: string }) => {
      if (ref)
        this.running
          .get(ref.partition)
          ?.signal(decision)
          .catch(() => undefined);
    };
    setHandler(approveSignal, forward(approveSignal));
    setHandler(rejectSignal, forward(rejectSignal));
    // The same commands as Updates, refused with a reason when they do not apply (see operator-refusals.ts).
    setHandler(pauseUpdate, (request = {}) => this.pauseByOperator(request), {
      validator: (request = {}) => refuseIf(pauseRefusal(progress.pause, request.now ?? false, this.inserting())),
    });
    setHandler(resumeUpdate, () => this.resumeByOperator(), {
      validator: () => refuseIf(resumeRefusal(progress.pause)),
    });
    for (const [update, signal, answer] of [
      [approveUpdate, approveSignal, 'approve'],
      [rejectUpdate, rejectSignal, 'reject'],
    ] as const) {
      setHandler(update, (ref) => this.answer(ref?.partition ?? '', signal, answer), {
        validator: (ref?: PartitionRef) =>
          refuseIf(
            approvalRefusal(
              ref?.partition,
              ref && this.byId.get(ref.partition),
              ref && this.answered.get(ref.partition),
            ),
          ),
      });
    }
    setHandler(setParallelismUpdate, (parallelism) => this.state.setParallelism(parallelism), {
      validator: checkParallelism,
    });
    setHandler(partitionStepSignal, (report) => applyStepReport(this.byId.get(report.partition), report));
    // Outside cancellation: a cancelled job keeps saying where it stands (and its wait is not a rejected promise).
    void CancellationScope.nonCancellable(() => this.showDetails());
  }

  /**
   * Keeps the Web UI's current details (the workflow metadata query) saying where the job stands, set only when
   * the line changes. Replay-safe: `setCurrentDetails` and `condition` are workflow state, not commands.
   */
  private async showDetails(): Promise<void> {
    let shown = '';
    for (;;) {
      await condition(() => currentDetailsOf(this.progress) !== shown);
      shown = currentDetailsOf(this.progress);
      setCurrentDetails(shown);
    }
  }

  /** The `pause` Update: pauses as the signal does and says what became of the running INSERTs. */
  private pauseByOperator({ reason, now }: PauseRequest): string {
    const inserting = this.inserting();
    const load = this.progress.pause?.load;
    this.pause.set('manual', reason ?? 'paused by an operator', now);
    const inserts = inserting === 1 ? '1 running INSERT' : `${inserting} running INSERTs`;
    const finish = inserting === 1 ? 'finishes' : 'finish';
    return (
      'paused: no new partition or step starts until resume' +
      (inserting === 0 ? '' : now ? `; ${inserts} cancelled, redone after resume` : `; ${inserts} ${finish} first`) +
      (load === undefined ? '' : ` (it was already paused for cluster load: ${load})`)
    );
  }

  /** The `resume` Update: lifts the manual pause; says when a pause for load still holds the job. */
  private resumeByOperator(): string {
    this.pause.set('manual', undefined);
    const load = this.progress.pause?.load;
    return load === undefined
      ? 'resumed: partitions start again'
      : `manual pause lifted; still paused for cluster load (${load}) until its cool-down`;
  }

  /** The `approve`/`reject` Updates: forwards the answer to the partition's writer and says what follows. */
  private async answer(partition: string, signal: typeof approveSignal, answer: 'approve' | 'reject'): Promise<string> {
    const child = this.running.get(partition);
    if (!child) throw ApplicationFailure.create({ message: `${partition} is no longer running`, nonRetryable: true });
    this.answered.set(partition, answer);
    await child.signal(signal);
    return answer === 'approve'
      ? `approved ${partition}: it is swapped in next`
      : `rejected ${partition}: it fails and the live partition keeps what it had`;
  }

  /** How many partitions are building (their INSERT under way), as `progress` shows them. */
  private inserting(): number {
    return this.progress.partitions.filter((p) => p.state === 'running' && p.step === 'insert').length;
  }

  /**
   * Adds what `extend` derives from the progress (e.g. an import's files done) to every `progress` answer. Run
   * only when the query is answered, it keeps nothing in the workflow's state and issues no command.
   */
  extendProgress(extend: (progress: BackfillProgress) => Partial<BackfillProgress>): void {
    this.extension = extend;
  }

  /**
   * Takes back the partitions a previous run carried ({@link LoopCarry}): fills `progress.partitions` and
   * returns the plans of the partitions still pending, for {@link run}.
   */
  resume<P extends PartitionPlan>(carried: CarriedPartitions): P[] {
    const { entries, plans } = unpackPartitions<P>(carried);
    this.progress.partitions = entries;
    return plans;
  }

  /**
   * Runs every pending partition of `progress.partitions` to its end (see the class). Returns when none is left
   * running; the outcome of each is in its progress entry.
   */
  async run<P extends PartitionPlan>(options: PartitionLoopOptions<P>): Promise<void> {
    const { progress, state, pause } = this;
    for (const entry of progress.partitions) this.byId.set(entry.id, entry);
    const planned = new Map(options.partitions.map((p) => [p.id, p]));
    const inFlight: Promise<void>[] = [];
    try {
      for (const entry of progress.partitions) {
        // A partition of another stage of the job (see `partitions`) is left pending, without waiting for a slot.
        const partition = planned.get(entry.id);
        if (entry.state !== 'pending' || !partition) continue;
        const ready = () => state.hasSlot && !pause.paused;
        await condition(ready);
        await this.waitForCalm(options);
        await condition(ready);
        if (workflowInfo().continueAsNewSuggested) {
          await condition(() => state.active === 0);
          await Promise.all(inFlight);
          await condition(allHandlersFinished);
          state.compactForCarry();
          log.info('continuing as new', { done: progress.done, total: progress.total });
          const partitions = packPartitions(progress.partitions, [...options.partitions]);
          return await options.continueAsNew({ progress: { ...progress, partitions: [] }, partitions });
        }
        inFlight.push(this.runPartition(options, partition, entry));
      }
      await Promise.all(inFlight);
    } catch (err) {
      if (!isCancellation(err)) throw err;
      await CancellationScope.nonCancellable(async () => {
        await Promise.all(inFlight);
        const cancelled = state.settleCancelled().flatMap((e) => planned.get(e.id) ?? []);
        await options.afterCancel?.(cancelled);
      });
      progress.phase = 'cancelled';
      log.warn('backfill cancelled', {
        swapped: progress.partitions.filter((p) => p.state === 'swapped').map((p) => p.id),
      });
      throw err;
    }
  }

  /**
   * The per-partition part of the job's summary as of now: each done partition's outcome, the totals of their
   * checks and step times, failures, rows and elapsed time. Bounded per partition (no checks, no timings).
   */
  outcome(): Pick<BackfillSummary, 'partitions' | 'totals' | 'failed' | 'rowsRead' | 'rowsWritten' | 'elapsedMs'> {
    const { progress } = this;
    return {
      partitions: progress.partitions.flatMap((p) => (p.result ? [p.result] : [])),
      totals: progress.totals ?? { checksPassed: {}, stepMs: {} },
      failed: progress.partitions.flatMap((p) => (p.error ? [{ partition: p.id, error: p.error }] : [])),
      rowsRead: progress.rowsRead,
      rowsWritten: progress.rowsWritten,
      elapsedMs: Date.now() - progress.startedAt,
    };
  }

  /**
   * Ends the job with `summary` (built from {@link outcome}): when a partition failed, phase `failed` and a
   * non-retryable `PartitionsFailed` naming every failed partition, the summary in its details; else phase
   * `completed` and the summary returned.
   */
  close<S extends BackfillSummary>(summary: S): S {
    const { progress } = this;
    if (summary.failed.length > 0) {
      progress.phase = 'failed';
      throw ApplicationFailure.create({
        message:
          `${summary.failed.length} of ${progress.total} partitions failed: ` +
          summary.failed.map((f) => `${f.partition} (${f.error})`).join('; '),
        type: FailureType.PartitionsFailed,
        nonRetryable: true,
        details: [summary],
      });
    }
    progress.phase = 'completed';
    return summary;
  }

  /** Runs one partition's writer to its end, holding a slot. Never throws: the outcome is in `entry`. */
  private async runPartition<P extends PartitionPlan>(
    options: PartitionLoopOptions<P>,
    partition: P,
    entry: PartitionProgress,
  ): Promise<void> {
    const { state } = this;
    // The slot is taken before the child is started: `running` only learns of a child once its start resolved,
    // and the loop must not start another partition in between.
    state.begin(entry, Date.now());
    try {
      const child = await startPartitionWriter(options.taskFor(partition), options.safety, (holder) =>
        state.waiting(entry, holder),
      );
      state.started(entry);
      this.running.set(partition.id, child);
      if (this.pause.paused) child.signal(pauseSignal, { reason: this.pause.reason }).catch(() => undefined);
      const result = await child.result();
      state.succeeded(entry, result);
      if (result.emptied) {
        log.info('partition emptied: source has no rows', { partition: partition.id, removed: result.rowsBefore });
      } else log.info('partition done', { partition: partition.id, rows: result.rowsWritten });
    } catch (err) {
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) {
        state.cancelled(entry);
      } else {
        state.failed(entry, innermostMessage(err));
        log.warn('partition failed', { partition: partition.id, error: entry.error });
      }
    } finally {
      state.finished(entry, Date.now());
      this.running.delete(partition.id);
      this.answered.delete(partition.id);
    }
  }

  /**
   * Pauses for load while the cluster is over a threshold; returns once it stayed below for the cool-down. A
   * sample that found the cluster calm holds for `checkIntervalSeconds`: partitions starting within it take no new
   * one (thousands of small partitions would otherwise pay a sample each).
   */
  private async waitForCalm({
    load,
    target,
  }: Pick<PartitionLoopOptions<PartitionPlan>, 'load' | 'target'>): Promise<void> {
    const { thresholds } = load;
    if (!thresholds.enabled) return;
    // Histories recorded before this change sampled before every partition.
    const amortised = patched('amortised-load-checks');
    const interval = thresholds.checkIntervalSeconds * 1000;
    if (amortised && this.calmAt !== undefined && Date.now() - this.calmAt < interval) return;
    let verdict = assessLoad(await load.sample(), thresholds);
    if (!verdict.overloaded) {
      this.calmAt = Date.now();
      return;
    }
    let calmSince: number | undefined;
    // Every wait below is paused for load, the cool-down included: counted against the signals last over.
    const pausedSeconds = loadPausedSeconds(metricMeter, target);
    let signals: string[] = [];
    for (;;) {
      if (verdict.overloaded) {
        calmSince = undefined;
        signals = verdict.signals ?? [];
        this.progress.lastLoadReason = verdict.reason;
        if (this.progress.pause?.load !== verdict.reason)
          log.warn('paused for cluster load', { reason: verdict.reason });
        this.pause.set('load', verdict.reason);
      } else {
        calmSince ??= Date.now();
        if (Date.now() - calmSince >= thresholds.cooldownSeconds * 1000) break;
      }
      const asleepSince = Date.now();
      await sleep(thresholds.checkIntervalSeconds * 1000);
      for (const signal of signals) pausedSeconds.add(Date.now() - asleepSince, signal);
      verdict = assessLoad(await load.sample(), thresholds);
    }
    log.info('cluster load back below thresholds: resuming', { cooldownSeconds: thresholds.cooldownSeconds });
    this.calmAt = Date.now();
    this.pause.set('load', undefined);
  }
}
