#!/usr/bin/env bash
# `npm test`: the checks and the tests on both cores, the integration tests last and alone.
# First, side by side: the type check, lint, the unit tests (two workers) and the workflow tests (one file at a
# time: each starts a Temporal dev server). Each one's output is printed whole when it ends. Then the integration
# tests, one file at a time on an otherwise quiet machine: they run Temporal and the embedded engine, and some time
# a view's cutoff, so they get the machine to themselves.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
declare -A pids=()
start() {
  local name=$1
  shift
  "$@" >"$logs/$name" 2>&1 &
  pids[$name]=$!
}

start typecheck npx tsc -p tsconfig.json
start lint npx eslint .
start unit npx jest --selectProjects unit
start workflows npx jest --selectProjects workflows --runInBand

failed=()
for name in typecheck lint unit workflows; do
  if ! wait "${pids[$name]}"; then failed+=("$name"); fi
  echo "── $name ──"
  cat "$logs/$name"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi

npx jest --selectProjects integration --runInBand
