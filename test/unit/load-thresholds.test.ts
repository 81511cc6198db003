import { loadThresholdsSchema } from '../../src/shared/load-thresholds';
import { assessLoad, type LoadSample } from '../../src/shared/load-assessment';

const calm: LoadSample = {
  runningQueries: 1,
  maxQueryMemoryBytes: 0,
  activeMerges: 0,
  pendingMutations: 0,
  maxPartsPerPartition: 3,
  fullestPartition: 'db.events/202401',
  backgroundPoolTasks: 0,
  delayedInserts: 0,
  memoryTrackingBytes: 50_000_000,
};
const defaults = loadThresholdsSchema.parse({});

describe('the cluster load decision', () => {
  it('finds a quiet cluster fit for the next step with the default thresholds', () => {
    expect(assessLoad(calm, defaults)).toEqual({ overloaded: false });
  });

  it('defaults keep parts per partition well below parts_to_delay_insert and wait with durable timers', () => {
    expect(defaults.maxPartsPerPartition).toBeLessThan(1000);
    expect(defaults.cooldownSeconds).toBeGreaterThan(0);
    expect(defaults.checkIntervalSeconds).toBeGreaterThan(0);
  });

  it('names the signal, its value, the limit and the fullest partition when parts pile up', () => {
    const verdict = assessLoad({ ...calm, maxPartsPerPartition: 412 }, defaults);
    expect(verdict).toEqual({
      overloaded: true,
      reason: 'parts per partition 412 > 300 (db.events/202401)',
      signals: ['parts per partition'],
    });
  });

  it('names every signal over its threshold at once', () => {
    const verdict = assessLoad({ ...calm, delayedInserts: 2, pendingMutations: 1, activeMerges: 70 }, defaults);
    expect(verdict.reason).toBe('active merges 70 > 64; pending mutations on the target 1 > 0; DelayedInserts 2 > 0');
    expect(verdict.signals).toEqual(['active merges', 'pending mutations on the target', 'DelayedInserts']);
  });

  it('checks memory only when a limit is given', () => {
    const heavy = { ...calm, memoryTrackingBytes: 9e9, maxQueryMemoryBytes: 5e9 };
    expect(assessLoad(heavy, defaults).overloaded).toBe(false);
    const limited = loadThresholdsSchema.parse({ maxMemoryTrackingBytes: 8e9 });
    expect(assessLoad(heavy, limited).reason).toBe('MemoryTracking bytes 9000000000 > 8000000000');
  });

  it('never finds overload when disabled', () => {
    const off = loadThresholdsSchema.parse({ enabled: false });
    expect(assessLoad({ ...calm, delayedInserts: 100, maxPartsPerPartition: 5000 }, off)).toEqual({
      overloaded: false,
    });
  });

  it('refuses unknown threshold names and negative limits', () => {
    expect(loadThresholdsSchema.safeParse({ maxParts: 3 }).success).toBe(false);
    expect(loadThresholdsSchema.safeParse({ maxActiveMerges: -1 }).success).toBe(false);
  });
});
