#!/usr/bin/env bash
# Runs the whole benchmark suite in one `go test` process and prints a
# markdown table (one column per implementation, medians, ratios of ours to
# the others) followed by the issue's performance targets.
#
# Environment:
#   COUNT      runs of each benchmark (default 5)
#   BENCH      -bench pattern (default .)
#   BENCHTIME  -benchtime (default 1s)
#   OUT        where to save the raw output (default results/bench-<UTC time>.txt)
#   BENCHSTAT  if set to 1, also print `benchstat -col /impl` of the output
#              (needs network the first time to fetch golang.org/x/perf)
set -euo pipefail
cd "$(dirname "$0")"

COUNT=${COUNT:-5}
BENCH=${BENCH:-.}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt}
mkdir -p "$(dirname "$OUT")"

echo "running: go test -run '^\$' -bench '$BENCH' -benchmem -count=$COUNT -benchtime=$BENCHTIME ." >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
go test -run '^$' -bench "$BENCH" -benchmem -count="$COUNT" -benchtime="$BENCHTIME" . >"$OUT"
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "raw output: benchmarks/$OUT" >&2
echo
grep -E '^(goos|goarch|cpu):' "$OUT" | sed 's/^/    /'
echo "    $(go env GOVERSION), $(nproc) CPUs, load average before: $load_before, after: $load_after"
echo "    (other load on the machine shows up as a large ±spread; rerun if it does)"
echo
go run ./cmd/benchtable "$OUT"
if [ "${BENCHSTAT:-0}" = 1 ]; then
	echo
	go run golang.org/x/perf/cmd/benchstat@latest -col /impl "$OUT"
fi
