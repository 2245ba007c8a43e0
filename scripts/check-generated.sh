#!/usr/bin/env bash
# Fails when a generated file of the checkout differs from what
# scripts/generate.sh produces now, or when a generated file exists that
# generation no longer produces. The checkout itself is not modified.
#
# Usage: scripts/check-generated.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash "$root/scripts/generate.sh" "$tmp/out"

status=0
while IFS= read -r -d '' f; do
	rel=${f#"$tmp/out/"}
	if [ ! -f "$root/$rel" ]; then
		echo "check-generated: $rel is missing (run make generate)" >&2
		status=1
	elif ! cmp -s "$f" "$root/$rel"; then
		echo "check-generated: $rel is stale (run make generate):" >&2
		diff -u "$root/$rel" "$f" | head -40 >&2 || true
		status=1
	fi
done < <(find "$tmp/out" -type f -print0)

# Generated files in the directories generation owns that it no longer
# writes (for example after a .proto was removed or renamed).
for dir in example reflection internal/plugintest/gen internal/plugintest/gengogo interop/containerdapi; do
	[ -d "$root/$dir" ] || continue
	while IFS= read -r -d '' f; do
		rel=${f#"$root/"}
		if head -n 20 "$f" | grep -q '^// Code generated .* DO NOT EDIT\.$' && [ ! -f "$tmp/out/$rel" ]; then
			echo "check-generated: $rel is no longer generated (delete it)" >&2
			status=1
		fi
	done < <(find "$root/$dir" -name '*.go' -type f -print0)
done

if [ "$status" = 0 ]; then
	echo "check-generated: generated files are up to date"
fi
exit "$status"
