#!/usr/bin/env bash
# Fails when the Go linker's method dead-code elimination is switched off
# for a minimal program built on ttrpc-go (scripts/dcecheck).
#
# Why it matters: when anything a program can reach calls
# reflect.Value.Method / reflect.Type.Method, or MethodByName with a name
# the compiler cannot see, the linker must keep every exported method of
# every type converted to an interface, for the whole program. For a small
# ttrpc server that is about a megabyte (status/foreign.go once did this).
#
# Two independent signals, both from the linker itself, so the check does
# not depend on sizes and cannot flake:
#  1. `-ldflags=-dumpdep` prints every reachability edge "from -> to" and
#     tags the functions the compiler marked REFLECTMETHOD (the attribute
#     the linker's deadcode pass acts on) with "<ReflectMethod>". Any such
#     reachable symbol fails the check; the script prints the chain of
#     edges that makes it reachable, from the culprit back to the entry.
#  2. The program's canary type has an exported method that nothing calls
#     while the type is converted to an interface; `go tool nm` must not
#     find it in the binary (and must find its sibling that is called
#     through an interface, so that a broken build cannot pass).
# The program is also required to link exactly the dependency versions the
# root go.mod requires, because those are what a user's build gets: with
# Go 1.26, google.golang.org/protobuf before v1.36.12 switches the
# elimination off by itself (golang/protobuf#1704).
#
# Usage: scripts/check-dce.sh [MODULE_DIR]   (default: scripts/dcecheck)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$(cd "${1:-$root/scripts/dcecheck}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
	echo "check-dce: FAIL: $*" >&2
	exit 1
}

# The versions a ttrpc-go user gets by default: those of the root go.mod.
go mod edit -json "$root/go.mod" |
	awk -F'"' '/"Path":/ {p = $4} /"Version":/ {print p, $4}' >"$work/root-reqs"
while read -r mod want; do
	got=$(cd "$dir" && go list -m -f '{{.Version}}' "$mod" 2>/dev/null || true)
	if [ -n "$got" ] && [ "$got" != "$want" ]; then
		fail "$dir builds with $mod $got, the root go.mod requires $want: the check must link what a user gets; align $dir/go.mod"
	fi
done <"$work/root-reqs"

# -dumpdep only prints; the binary is the ordinary one. Not stripped, so
# that nm can read it.
if ! (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags=-dumpdep -o "$work/prog" .) >"$work/dep" 2>&1; then
	cat "$work/dep" >&2
	fail "building $dir failed"
fi
grep -q -- '-> main\.main$' "$work/dep" ||
	fail "the linker printed no dependency dump (is -ldflags=-dumpdep still supported?)"

# Signal 1: reachable REFLECTMETHOD functions, each with its chain.
if grep -q '<ReflectMethod>' "$work/dep"; then
	echo "check-dce: method dead-code elimination is OFF for $dir." >&2
	echo "Reachable functions that reflect on methods, each with the edges that reach it:" >&2
	awk '
		function bare(s) { sub(/ <.*$/, "", s); return s }
		{
			i = index($0, " -> ")
			if (i == 0) next
			from = bare(substr($0, 1, i - 1)); to = substr($0, i + 4)
			flagged = (to ~ /<ReflectMethod>/)
			to = bare(to)
			if (!(to in parent)) parent[to] = from
			if (flagged && !(to in seen)) { seen[to] = 1; order[++n] = to }
		}
		END {
			for (k = 1; k <= n && k <= 5; k++) {
				s = order[k]; printf "\n  %s\n", s
				for (d = 0; d < 40 && (s in parent) && parent[s] != "_"; d++) {
					s = parent[s]; printf "    <- %s\n", s
				}
			}
			if (n > 5) printf "\n  (%d more)\n", n - 5
		}' "$work/dep" >&2
	cat >&2 <<-'EOF'

	The first entry is the one the linker reached first, usually the cause.
	An edge from "type:T" is a method the linker kept for type T, because
	an interface with that method is used or because something calls
	MethodByName with that constant name (protobuf-go before v1.36.12 asks
	for "Methods", which keeps Go 1.26's reflect.Type.Methods iterator).
	EOF
	fail "a reachable function reflects on methods by index or computed name"
fi

# Signal 2: the canary.
syms=$(go tool nm "$work/prog")
grep -q ' main\.canary\.Name$' <<<"$syms" ||
	fail "canary method main.canary.Name missing: the check program no longer exercises an interface call"
if grep -q ' main\.canary\.Unused$' <<<"$syms"; then
	fail "main.canary.Unused was kept: the linker kept an exported method nothing calls, so method dead-code elimination is off"
fi

# Signal 3: a program that only serves (serveronly/) must not link the
# client's call path. A server's peer clients are Clients, so anything
# every Client makes in its constructor (a method value of the call path,
# say) drags the whole path into every server: about 24 KB once. Symbol
# names, not sizes: this cannot flake.
if [ -d "$dir/serveronly" ]; then
	(cd "$dir" && CGO_ENABLED=0 go build -trimpath -o "$work/serveronly" ./serveronly) ||
		fail "building $dir/serveronly failed"
	srv=$(go tool nm "$work/serveronly")
	grep -qF ' github.com/ttrpc-go/ttrpc.(*Server).Serve' <<<"$srv" ||
		fail "serveronly no longer serves: (*Server).Serve is missing"
	for sym in '(*Client).roundTrip' '(*conn).openStream'; do
		if grep -qF " github.com/ttrpc-go/ttrpc.$sym" <<<"$srv"; then
			fail "the server-only program links github.com/ttrpc-go/ttrpc.$sym: something every Client or connection makes reaches the client call path"
		fi
	done
fi

echo "check-dce: method dead-code elimination is on for $dir (no reachable ReflectMethod, canary method dropped); no client call path in a server"

