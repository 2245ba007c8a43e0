#!/usr/bin/env bash
# Footprint of a minimal echo server for each ttrpc/gRPC implementation:
# stripped binary sizes, and the server's VmRSS when idle and with 100 and
# 1000 idle client connections open (each opened by a separate client process
# that makes one call per connection, then holds them), with the per
# connection cost derived from the latter.
#
# Usage: benchmarks/footprint.sh [impl...]
# (default: bare raw ours containerd grpc)
# The servers (footprint/<impl>/server) are self-contained programs of the
# kind a user writes: one unary method on wrapperspb.BytesValue whose errors
# are made with the status package users of that library use (ttrpc-go's
# for ours, grpc-go's for containerd and grpc). "raw" is the floor: the same
# message decoded and encoded with protobuf-go over plain length-prefixed
# frames, no RPC library, so that the difference to it is what a library
# adds. "bare" is the same without protobuf, for scale.
# Each server is linked once with -dumpdep, which changes nothing in the
# binary; "method DCE" says whether the linker could drop unused methods
# ("off" when anything reachable reflects on methods by index or name, see
# scripts/check-dce.sh).
# Environment: CONNS="100 1000" overrides the connection counts, REPEAT=3
# the number of fresh servers measured per count (medians are reported).
# Works from a fresh clone; builds into and cleans up a temporary directory
# and every process it starts. Unix sockets only.
set -euo pipefail
cd "$(dirname "$0")"

IMPLS=("$@")
[ ${#IMPLS[@]} -gt 0 ] || IMPLS=(bare raw ours containerd grpc)
read -r -a CONNS <<<"${CONNS:-100 1000}"
REPEAT=${REPEAT:-3}

work=$(mktemp -d /tmp/ttfp.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for FILE PATTERN PID: poll until FILE has a line matching PATTERN,
# failing if PID exits first or 60 s pass.
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if ! kill -0 "$3" 2>/dev/null; then
			echo "footprint: process $3 exited before printing '$2':" >&2
			cat "$1" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "footprint: timed out waiting for '$2' in $1" >&2
	return 1
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
anon_kib() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }

# stop PID: ends a process this script started and forgets it, so that the
# exit trap never signals a reused PID.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# start_server IMPL: starts a fresh server, sets SERVER_PID and SOCK.
start_server() {
	local d
	d=$(mktemp -d "$work/s.XXXX")
	SOCK="$d/sock"
	"$work/$1-server" "$SOCK" >"$d/out" 2>&1 &
	SERVER_PID=$!
	pids+=("$SERVER_PID")
	wait_for "$d/out" '^ready' "$SERVER_PID"
}

# ratio A B prints A/B with three decimals (bc alone drops the leading 0).
ratio() { printf "%.3f" "$(echo "scale=6; ($1) / ($2)" | bc -l)"; }
# div1 A B prints A/B with one decimal.
div1() { printf "%.1f" "$(echo "scale=6; ($1) / ($2)" | bc -l)"; }

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

declare -A SIZE DCE IDLE ANON PERCONN PERCONN_LO MARGINAL

echo "## Stripped binaries (CGO_ENABLED=0, -trimpath -ldflags='-s -w', $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH))"
echo
echo "| impl | server bytes | server MB | above raw | method DCE | protobuf-go | grpc linked into server |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for impl in "${IMPLS[@]}"; do
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w -dumpdep' -o "$work/$impl-server" "./footprint/$impl/server" >"$work/$impl.dumpdep" 2>&1
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/$impl-client" "./footprint/$impl/client"
	s=$(stat -c %s "$work/$impl-server")
	SIZE[$impl]=$s
	dce=on
	if ! grep -q -- '-> main\.main$' "$work/$impl.dumpdep"; then
		echo "footprint: the linker printed no dependency dump for $impl" >&2
		exit 1
	fi
	if grep -q '<ReflectMethod>' "$work/$impl.dumpdep"; then dce=off; fi
	DCE[$impl]=$dce
	g=no
	if go version -m "$work/$impl-server" | grep -q 'google.golang.org/grpc'; then g=yes; fi
	pb=$(go version -m "$work/$impl-server" | awk '$2 == "google.golang.org/protobuf" {print $3}')
	above="—"
	if [ -n "${SIZE[raw]:-}" ]; then above=$((s - SIZE[raw])); fi
	printf '| %s | %d | %.2f | %s | %s | %s | %s |\n' "$impl" "$s" "$(echo "$s / 1000000" | bc -l)" "$above" "$dce" "${pb:-none}" "$g"
done

echo
echo "## Server VmRSS in KiB (medians of $REPEAT fresh servers per connection count)"
echo
echo "\"per conn\" is (RSS with N connections - RSS of the same server idle) / N;"
echo "\"marginal\" is the growth per connection between the smallest and largest N."
echo "\"idle anon\" is RssAnon of the idle server: VmRSS minus the file-backed pages of"
echo "the binary, which every process running the same binary shares."
echo
hdr="| impl | idle | idle anon |"
sep="| --- | --- | --- |"
for n in "${CONNS[@]}"; do
	hdr+=" $n conns | per conn ($n) |"
	sep+=" --- | --- |"
done
hdr+=" marginal |"
sep+=" --- |"
echo "$hdr"
echo "$sep"
for impl in "${IMPLS[@]}"; do
	idles=""
	anons=""
	cells=""
	declare -A GROWTH=()
	for n in "${CONNS[@]}"; do
		busys=""
		growths=""
		for ((r = 0; r < REPEAT; r++)); do
			start_server "$impl"
			idle=$(rss_kib "$SERVER_PID")
			anons+=" $(anon_kib "$SERVER_PID")"
			out="$work/client-$impl-$n-$r"
			"$work/$impl-client" "$SOCK" "$n" >"$out" 2>&1 &
			cpid=$!
			pids+=("$cpid")
			wait_for "$out" "^ready $n\$" "$cpid"
			busy=$(rss_kib "$SERVER_PID")
			stop "$cpid"
			stop "$SERVER_PID"
			idles+=" $idle"
			busys+=" $busy"
			growths+=" $((busy - idle))"
		done
		GROWTH[$n]=$(echo "$growths" | median)
		cells+=" $(echo "$busys" | median) | $(div1 "${GROWTH[$n]}" "$n") |"
		PERCONN[$impl]=$(div1 "${GROWTH[$n]}" "$n")
		[ -n "${PERCONN_LO[$impl]:-}" ] || PERCONN_LO[$impl]=${PERCONN[$impl]}
	done
	IDLE[$impl]=$(echo "$idles" | median)
	ANON[$impl]=$(echo "$anons" | median)
	lo=${CONNS[0]}
	hi=${CONNS[${#CONNS[@]}-1]}
	MARGINAL[$impl]="—"
	if [ "$hi" != "$lo" ]; then
		MARGINAL[$impl]=$(div1 "${GROWTH[$hi]} - ${GROWTH[$lo]}" "$hi - $lo")
	fi
	echo "| $impl | ${IDLE[$impl]} | ${ANON[$impl]} |$cells ${MARGINAL[$impl]} |"
	unset GROWTH
done

# check prints one target line: description, measured value, verdict.
check() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo MISSED; fi; }

if [ -n "${SIZE[ours]:-}" ] && [ -n "${SIZE[containerd]:-}" ]; then
	echo
	echo "## Targets (ours)"
	echo
	echo "| target | measured | result |"
	echo "| --- | --- | --- |"
	check "method dead-code elimination on in the ours server" "${DCE[ours]}" "$([ "${DCE[ours]}" = on ] && echo met || echo MISSED)"
	r=$(ratio "${SIZE[ours]}" "${SIZE[containerd]}")
	check "stripped server ≤ 0.95× containerd" "${r}×" "$(verdict "$r <= 0.95")"
	if [ -n "${SIZE[raw]:-}" ]; then
		ao=$((SIZE[ours] - SIZE[raw]))
		ac=$((SIZE[containerd] - SIZE[raw]))
		r=$(ratio "$ao" "$ac")
		check "added above raw ≤ 0.6× what containerd adds" "+$ao B vs +$ac B: ${r}×" "$(verdict "$r <= 0.6")"
	fi
	g=no
	if go version -m "$work/ours-server" | grep -q 'google.golang.org/grpc'; then g=yes; fi
	check "no grpc in the ours server build" "grpc linked: $g" "$([ $g = no ] && echo met || echo MISSED)"
	r=$(ratio "${IDLE[ours]}" "${IDLE[containerd]}")
	check "idle server RSS ≤ 0.9× containerd" "${r}×" "$(verdict "$r <= 0.9")"
	r=$(ratio "${ANON[ours]}" "${ANON[containerd]}")
	check "(for information) idle RssAnon vs containerd" "${r}×" "—"
	lo=${CONNS[0]}
	check "≤ 12 KiB per idle connection (at $lo)" "${PERCONN_LO[ours]} KiB" "$(verdict "${PERCONN_LO[ours]} <= 12")"
	check "(for information) per idle connection at ${CONNS[${#CONNS[@]}-1]}" "${PERCONN[ours]} KiB" "—"
	if [ -n "${SIZE[raw]:-}" ]; then
		echo
		echo "For scale, the raw floor (same message, no RPC library): server $(ratio "${SIZE[raw]}" "${SIZE[containerd]}")× containerd's size, idle RSS $(ratio "${IDLE[raw]}" "${IDLE[containerd]}")× containerd's."
		echo "What each library adds to the floor: binary +$(((SIZE[ours] - SIZE[raw]) / 1024)) KiB (ours), +$(((SIZE[containerd] - SIZE[raw]) / 1024)) KiB (containerd); idle RSS +$((${IDLE[ours]%.*} - ${IDLE[raw]%.*})) KiB (ours), +$((${IDLE[containerd]%.*} - ${IDLE[raw]%.*})) KiB (containerd)."
	fi
fi
