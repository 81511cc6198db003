import type { PauseRequest } from '../../shared/messages';
import type { PauseState } from '../../shared/progress';

/**
 * A backfill's pause: by an operator (`manual`), for cluster load (`load`), or both. It tells the running
 * partitions when the backfill becomes paused, when a `now` pause arrives while paused, and when it resumes. A
 * manual pause outlasts an automatic resume. Plain state over the progress's `pause` object, so it can be
 * unit-tested and is carried across continue-as-new with the progress.
 */
export class BackfillPause {
  constructor(
    private readonly state: PauseState,
    private readonly tell: (request: PauseRequest | undefined) => void,
  ) {}

  get paused(): boolean {
    return this.state.manual !== undefined || this.state.load !== undefined;
  }

  /** The reason a newly started partition is told, or undefined when not paused. */
  get reason(): string | undefined {
    return this.state.manual ?? this.state.load;
  }

  /** Sets (`reason`) or lifts (undefined) one kind of pause; `now` also interrupts running builds. */
  set(kind: 'manual' | 'load', reason: string | undefined, now = false): void {
    const wasPaused = this.paused;
    this.state[kind] = reason;
    if (this.paused && (!wasPaused || now)) {
      this.state.since ??= Date.now();
      this.tell({ reason: this.reason, now });
    } else if (!this.paused && wasPaused) {
      this.state.since = undefined;
      this.tell(undefined);
    }
  }
}
