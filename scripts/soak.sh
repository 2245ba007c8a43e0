#!/usr/bin/env bash
# Load test of ttrpc-go over a unix socket (no network): 100 connections
# keep 10,000 calls in flight for a minute (unary echoes with checked
# results, and one bidirectional stream in twenty), then the figures are
# printed: calls per second, errors (must be 0), goroutines and RSS before,
# at the peak and after. The test fails on any error or leftover goroutine.
#
# Usage: scripts/soak.sh [duration]
# Environment: TTRPC_SOAK_DURATION (default 1m; the argument wins),
# TTRPC_SOAK_CONNS (100), TTRPC_SOAK_INFLIGHT (10000).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

export TTRPC_SOAK_DURATION=${1:-${TTRPC_SOAK_DURATION:-1m}}
export TTRPC_SOAK_CONNS=${TTRPC_SOAK_CONNS:-100}
export TTRPC_SOAK_INFLIGHT=${TTRPC_SOAK_INFLIGHT:-10000}

echo "soak: ${TTRPC_SOAK_CONNS} connections, ${TTRPC_SOAK_INFLIGHT} calls in flight, ${TTRPC_SOAK_DURATION}"
echo "soak: $(go version), $(nproc) CPUs"
# No -race: the figures are for the library as shipped.
go test -tags soak -run '^TestSoak$' -count=1 -v -timeout 30m .
