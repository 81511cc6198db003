import { z } from 'zod';

/**
 * When a backfill pauses itself for cluster load, and for how long it waits. A value above its threshold is
 * overload; a threshold left out is not checked. Intervals are in seconds and become durable workflow timers.
 */
export const loadThresholdsSchema = z
  .object({
    /** Off: the backfill never pauses itself. */
    enabled: z.boolean().default(true),
    /** Queries running on the server (`system.processes`). */
    maxRunningQueries: z.number().int().nonnegative().default(100),
    /** Memory of the largest running query, bytes (`system.processes.memory_usage`). */
    maxQueryMemoryBytes: z.number().int().nonnegative().optional(),
    /** Merges under way (`system.merges`). */
    maxActiveMerges: z.number().int().nonnegative().default(64),
    /** Unfinished mutations on the target (`system.mutations`, `is_done = 0`). */
    maxPendingMutations: z.number().int().nonnegative().default(0),
    /**
     * Active parts in the fullest partition of the source or target (`system.parts`); well below the server's
     * `parts_to_delay_insert` (1000 by default; 150 before 24.x), where inserts start to be delayed.
     */
    maxPartsPerPartition: z.number().int().positive().default(300),
    /** `system.metrics` BackgroundMergesAndMutationsPoolTask. */
    maxBackgroundPoolTasks: z.number().int().nonnegative().default(64),
    /** `system.metrics` DelayedInserts: any delayed insert means the server is already throttling. */
    maxDelayedInserts: z.number().int().nonnegative().default(0),
    /** `system.metrics` MemoryTracking, bytes. */
    maxMemoryTrackingBytes: z.number().int().nonnegative().optional(),
    /** How often the load is checked again while paused for it. */
    checkIntervalSeconds: z.number().positive().default(30),
    /** How long the load must stay below every threshold before the backfill resumes on its own. */
    cooldownSeconds: z.number().nonnegative().default(120),
  })
  .strict();

export type LoadThresholds = z.infer<typeof loadThresholdsSchema>;
export type LoadThresholdsInput = z.input<typeof loadThresholdsSchema>;
