/**
 * `temporal server start-dev` settings that make the server honour task-queue priority and fairness (see
 * src/shared/task-priority.ts): Server 1.32 matches tasks in arrival order unless its priority matcher is on
 * (`matching.useNewMatcher`), and fairness keys only count with `matching.enableFairness` (which implies the
 * priority matcher). On Temporal Cloud the server's settings are not ours to pass (docs/operating.md).
 */
export const PRIORITY_DYNAMIC_CONFIG_ARGS = [
  '--dynamic-config-value',
  'matching.useNewMatcher=true',
  '--dynamic-config-value',
  'matching.enableFairness=true',
];
