#!/usr/bin/env bash
# timed.sh NAME COMMAND...: runs COMMAND, prints how long it took, and appends
# "NAME<TAB>SECONDS<TAB>STATUS" to $PHASE_LOG when set (.ci/run prints them as a table).
set -uo pipefail
name=$1
shift
start=$(date +%s.%N)
"$@"
status=$?
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "[phase] $name: ${seconds} s (exit $status)" >&2
if [ -n "${PHASE_LOG:-}" ]; then
  printf '%s\t%s\t%s\n' "$name" "$seconds" "$status" >>"$PHASE_LOG"
fi
exit "$status"
