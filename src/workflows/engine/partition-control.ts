import type { PauseRequest } from '../../shared/messages';

/**
 * What operators have told one partition workflow: pause state, whether a running build was interrupted by
 * `pause --now`, and the decision on a shrinking partition. Plain state, so it can be unit-tested.
 */
export class PartitionControl {
  private request: PauseRequest | undefined;
  private cancelBuild: (() => void) | undefined;
  /** True when the running build was cancelled by `pause --now` (and is to be redone), not by a cancel. */
  interrupted = false;
  /** The operator's answer for a shrinking partition; the first answer counts. */
  decision: 'approve' | 'reject' | undefined;
  /** True while the partition waits for an operator's answer (the `approve`/`reject` Updates need one). */
  awaitingApproval = false;

  get paused(): boolean {
    return this.request !== undefined;
  }

  pause(request: PauseRequest): void {
    this.request = request;
    if (request.now && this.cancelBuild) {
      this.interrupted = true;
      this.cancelBuild();
    }
  }

  resume(): void {
    this.request = undefined;
  }

  decide(decision: 'approve' | 'reject'): void {
    this.decision ??= decision;
  }

  /** Why an `approve`/`reject` Update to `partition` does not apply now, or undefined when it does. */
  answerRefusal(partition: string): string | undefined {
    if (this.decision) return `${partition} was already ${this.decision === 'approve' ? 'approved' : 'rejected'}`;
    if (!this.awaitingApproval) return `${partition} is not awaiting approval`;
    return undefined;
  }

  /** A build starts: `pause --now` may cancel it through `cancel` until {@link leaveInterruptible}. */
  enterInterruptible(cancel: () => void): void {
    this.cancelBuild = cancel;
    this.interrupted = false;
  }

  leaveInterruptible(): void {
    this.cancelBuild = undefined;
  }

  /**
   * Whether swapping `newRows` in for `liveRows` needs an operator's approval: the partition would lose more than
   * `maxShrink` of its live rows. No guard (`undefined`) or an empty live partition never asks.
   */
  needsApproval(maxShrink: number | undefined, liveRows: number, newRows: number): boolean {
    return maxShrink !== undefined && liveRows > 0 && newRows < liveRows * (1 - maxShrink);
  }
}
