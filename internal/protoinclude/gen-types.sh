#!/usr/bin/env bash
# Regenerates types.pb.go from types.proto. The proto is compiled under the
# import path github.com/ttrpc-go/ttrpc/types.proto so that its registered file
# name cannot clash with another "types.proto" linked into the same binary.
# Usage: internal/protoinclude/gen-types.sh PROTOC_GEN_GO OUTDIR
set -euo pipefail
plugin=$1 out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/github.com/ttrpc-go/ttrpc"
cp "$root/types.proto" "$tmp/github.com/ttrpc-go/ttrpc/types.proto"
protoc --plugin=protoc-gen-go="$plugin" -I"$tmp" -I"$root/internal/protoinclude" -I/usr/include \
	--go_out="$tmp" "$tmp/github.com/ttrpc-go/ttrpc/types.proto"
cp "$tmp/github.com/ttrpc-go/ttrpc/types.pb.go" "$out/types.pb.go"
