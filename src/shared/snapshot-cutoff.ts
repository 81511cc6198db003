/**
 * The `cutoff` of a view job over a source without a usable time column (the guide's last scenario): inserts are
 * paused by an operator, the source is snapshotted, the view created, and its target filled from the snapshot.
 */
export const SNAPSHOT_CUTOFF = 'snapshot';
