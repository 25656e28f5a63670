#!/usr/bin/env bash
# `npm test`, what CI runs: set-up, build, lint, unit and end-to-end tests, in that order, stopping
# at the first that fails. At the end, each phase's time and the total (the end-to-end run has
# printed each file's just before: test/fileTimes.js), so the suite's cost stays in view.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

start=$(date +%s)
summary=()
run_phase() {
  local name="$1" t0 rc
  shift
  t0=$(date +%s)
  "$@"
  rc=$?
  summary+=("$(printf '  %-10s %5ss%s' "$name" "$(($(date +%s) - t0))" "$([ $rc -eq 0 ] || echo "  failed ($rc)")")")
  return $rc
}
report() {
  local total=$(($(date +%s) - start))
  printf '\nnpm test, by phase:\n'
  printf '%s\n' "${summary[@]}"
  printf '  %-10s %5ss (%d min %d s)\n' total "$total" $((total / 60)) $((total % 60))
}
trap report EXIT

# The set-up brings Node.js 24 when the machine's is older; every later phase runs on it.
run_phase setup bash scripts/bootstrap.sh --tests &&
  . scripts/env.sh &&
  run_phase build npm run --silent build &&
  run_phase lint npm run --silent lint &&
  run_phase unit npm run --silent test:unit &&
  run_phase e2e npm run --silent test:e2e
