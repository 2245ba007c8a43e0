#!/usr/bin/env bash
# Regenerates every generated file of the repository with protoc and the
# plugins built from this checkout.
#
# Usage: scripts/generate.sh [OUTDIR]
#
# Inputs are always read from the checkout this script lives in. Outputs go
# to OUTDIR (default: the checkout itself) under their repository-relative
# paths, so scripts/check-generated.sh can generate into a scratch directory
# and compare. Run from anywhere; needs go and protoc (Debian's
# protobuf-compiler, installed with apt-get when missing and running as root).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v protoc >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "generate: protoc missing, installing protobuf-compiler" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q protobuf-compiler >&2
	else
		echo "generate: protoc not found; install protobuf-compiler" >&2
		exit 1
	fi
fi
# The well-known types (google/protobuf/*.proto) ship with protobuf-compiler.
wkt=/usr/include
for d in /usr/include /usr/local/include; do
	if [ -f "$d/google/protobuf/empty.proto" ]; then
		wkt=$d
		break
	fi
done

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# protoc-gen-go comes from the protobuf module the root go.mod requires, so
# its version (written into every .pb.go) follows go.mod.
(
	cd "$root"
	go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
	go build -o "$bin/protoc-gen-go-ttrpc" ./cmd/protoc-gen-go-ttrpc
	go build -o "$bin/protoc-gen-gogottrpc" ./cmd/protoc-gen-gogottrpc
)
export PATH="$bin:$PATH"

# --- root package: envelope messages (types.proto -> types.pb.go) ---------
# Owned by the root package; its script knows the import layout it needs.
if [ -f "$root/internal/protoinclude/gen-types.sh" ]; then
	bash "$root/internal/protoinclude/gen-types.sh" "$bin/protoc-gen-go" "$out"
fi

# --- example/: gogo flavour (primary) and protobuf-go flavour --------------
mkdir -p "$out/example/goproto"
protoc -I"$root/example" -I"$wkt" \
	--gogottrpc_out="plugins=ttrpc,paths=source_relative:$out/example" \
	"$root/example/example.proto"
goproto="Mexample.proto=github.com/ttrpc-go/ttrpc/example/goproto;goproto"
protoc -I"$root/example" -I"$wkt" \
	--go_out="$out/example/goproto" --go_opt="paths=source_relative,$goproto" \
	--go-ttrpc_out="$out/example/goproto" --go-ttrpc_opt="paths=source_relative,$goproto" \
	"$root/example/example.proto"

# --- example/greeter: calls in both directions, protobuf-go flavour -------
gr=example/greeter/greeterpb
mkdir -p "$out/$gr"
protoc -I"$root/$gr" -I"$wkt" \
	--go_out="$out/$gr" --go_opt=paths=source_relative \
	--go-ttrpc_out="$out/$gr" --go-ttrpc_opt=paths=source_relative \
	"$root/$gr/greeter.proto"

# --- example/events: a hub pushing to its clients, protobuf-go flavour -----
ev=example/events/eventspb
mkdir -p "$out/$ev"
protoc -I"$root/$ev" -I"$wkt" \
	--go_out="$out/$ev" --go_opt=paths=source_relative \
	--go-ttrpc_out="$out/$ev" --go-ttrpc_opt=paths=source_relative \
	"$root/$ev/events.proto"

# --- reflection/: the reflection service (protobuf-go flavour) ------------
# Generated with -I at the root, so the descriptor registers as
# reflection/v1/reflection.proto.
protoc -I"$root" -I"$wkt" \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-ttrpc_out="$out" --go-ttrpc_opt=paths=source_relative \
	"$root/reflection/v1/reflection.proto"

# --- plugin tests -------------------------------------------------------------
# The test protos' descriptors (embedded by the golden tests, which need no
# protoc), and both flavours of Go code for them: the golden files are
# compiled against these packages, and round-trip tests run them.
pt=internal/plugintest
protos=(greeter/v1/greeter.proto common/v1/common.proto plain/plain.proto wkt/v1/wkt.proto nothing/nothing.proto)
plainM="Mplain/plain.proto=github.com/ttrpc-go/ttrpc/$pt/gen/plain;plainpb"
mkdir -p "$out/$pt/testdata" "$out/$pt/gen" "$out/$pt/gengogo"
protoc -I"$root/$pt/testdata" -I"$wkt" --include_imports \
	--descriptor_set_out="$out/$pt/testdata/protos.protoset" "${protos[@]}"
protoc -I"$root/$pt/testdata" -I"$wkt" \
	--go_out="$out/$pt/gen" --go_opt="paths=source_relative,$plainM" \
	--go-ttrpc_out="$out/$pt/gen" --go-ttrpc_opt="paths=source_relative,$plainM" \
	"${protos[@]}"
# gogo writes one Go package per run.
gogoM="Mcommon/v1/common.proto=github.com/ttrpc-go/ttrpc/$pt/gengogo/common/v1"
gogoM="$gogoM,Mgreeter/v1/greeter.proto=github.com/ttrpc-go/ttrpc/$pt/gengogo/greeter/v1"
gogoM="$gogoM,Mwkt/v1/wkt.proto=github.com/ttrpc-go/ttrpc/$pt/gengogo/wkt/v1"
gogoM="$gogoM,Mnothing/nothing.proto=github.com/ttrpc-go/ttrpc/$pt/gengogo/nothing"
for p in common/v1/common.proto greeter/v1/greeter.proto wkt/v1/wkt.proto nothing/nothing.proto; do
	protoc -I"$root/$pt/testdata" -I"$wkt" \
		--gogottrpc_out="plugins=ttrpc,paths=source_relative,$gogoM:$out/$pt/gengogo" "$p"
done

# --- interop/containerdapi: our stubs for containerd's API -----------------
# Generated from the descriptors containerd compiled into its Go packages,
# so no containerd .proto files or include paths are needed.
if [ -f "$root/interop/containerdapi/internal/gen/main.go" ]; then
	(cd "$root/interop" && go run ./containerdapi/internal/gen -out "$out/interop/containerdapi")
fi

# --- golden files of the plugin tests ----------------------------------------
# They need no protoc and are checked by `go test`; refresh them only when
# regenerating the checkout itself.
if [ "$out" = "$root" ]; then
	(cd "$root" && go test -count=1 -run '^TestGolden$' ./cmd/protoc-gen-go-ttrpc ./cmd/protoc-gen-gogottrpc -args -update >/dev/null)
fi
