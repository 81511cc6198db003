#!/usr/bin/env bash
# `npm test`: the checks side by side, then the tests that start servers one file at a time.
# First, side by side: the type check, lint and the unit tests (two workers); each one's output is printed whole
# when it ends. Then the workflow and integration tests, one file at a time on an otherwise quiet machine: each
# starts a Temporal dev server (and the embedded engine), some time a view's cutoff, and the scripted-cluster fault
# tests watch retries as they happen, so they get the machine to themselves.
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

failed=()
for name in typecheck lint unit; do
  if ! wait "${pids[$name]}"; then failed+=("$name"); fi
  echo "── $name ──"
  cat "$logs/$name"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi

npx jest --selectProjects workflows integration --runInBand
