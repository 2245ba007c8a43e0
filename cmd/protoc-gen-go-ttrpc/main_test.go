package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/ttrpc-go/ttrpc/internal/plugintest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

func TestGolden(t *testing.T) {
	all := []string{"greeter/v1/greeter.proto", "common/v1/common.proto", "plain/plain.proto", "wkt/v1/wkt.proto", "nothing/nothing.proto"}
	const plainM = "Mplain/plain.proto=github.com/ttrpc-go/ttrpc/internal/plugintest/gen/plain;plainpb"
	for _, tc := range []struct {
		name  string
		param string
		files []string
	}{
		{"source_relative", "paths=source_relative," + plainM, all},
		{"import_paths", plainM, all},
		{"prefix", "paths=source_relative,prefix=TTRPC," + plainM, all},
		{"module", "module=github.com/ttrpc-go/ttrpc/internal/plugintest/gen,unknown_option=1", []string{"greeter/v1/greeter.proto"}},
		{"no_service", "paths=source_relative", []string{"common/v1/common.proto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in bytes.Buffer
			in.Write(plugintest.Request(t, tc.param, tc.files...))
			var out bytes.Buffer
			if err := run(&in, &out); err != nil {
				t.Fatal(err)
			}
			var resp pluginpb.CodeGeneratorResponse
			if err := proto.Unmarshal(out.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Error != nil {
				t.Fatalf("plugin error: %s", resp.GetError())
			}
			if got, want := resp.GetSupportedFeatures(), uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL); got != want {
				t.Errorf("supported features = %d, want %d", got, want)
			}
			got := make(map[string]string)
			for _, f := range resp.File {
				got[f.GetName()] = f.GetContent()
			}
			plugintest.Compare(t, filepath.Join("testdata", tc.name), got)
		})
	}
}

func TestBadParameter(t *testing.T) {
	var in, out bytes.Buffer
	in.Write(plugintest.Request(t, "paths=nonsense", "greeter/v1/greeter.proto"))
	if err := run(&in, &out); err == nil {
		t.Fatal("run accepted paths=nonsense")
	}
}

func TestBadInput(t *testing.T) {
	var out bytes.Buffer
	if err := run(bytes.NewReader([]byte{0xff, 0xff}), &out); err == nil {
		t.Fatal("run accepted a malformed request")
	}
}

// TestGoldenCompiles vets the golden stubs in place of the checked-in ones,
// next to protoc-gen-go's messages, against this module's ttrpc package.
func TestGoldenCompiles(t *testing.T) {
	for _, dir := range []string{"source_relative", "prefix"} {
		t.Run(dir, func(t *testing.T) {
			golden := filepath.Join("testdata", dir)
			plugintest.Vet(t, map[string]string{
				"greeter/v1/greeter_ttrpc.pb.go": filepath.Join(golden, "greeter/v1/greeter_ttrpc.pb.go"),
				"plain/plain_ttrpc.pb.go":        filepath.Join(golden, "plain/plain_ttrpc.pb.go"),
				"wkt/v1/wkt_ttrpc.pb.go":         filepath.Join(golden, "wkt/v1/wkt_ttrpc.pb.go"),
				"nothing/nothing_ttrpc.pb.go":    filepath.Join(golden, "nothing/nothing_ttrpc.pb.go"),
			})
		})
	}
}
