package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttrpc-go/ttrpc/internal/plugintest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

// asPlugin makes the test binary act as the plugin. gogo's generator keeps
// its plugin list in a global that each run filters by the "plugins="
// parameter, so every generation needs a fresh process, like under protoc.
const asPlugin = "PROTOC_GEN_GOGOTTRPC_TEST_AS_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(asPlugin) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func generateFiles(t *testing.T, param string, files ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), asPlugin+"=1")
	cmd.Stdin = bytes.NewReader(plugintest.Request(t, param, files...))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("plugin failed: %v\n%s", err, stderr.String())
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
	return got
}

func TestGolden(t *testing.T) {
	// gogo generates one Go package per run, as protoc-gen-gogo does.
	for _, tc := range []struct {
		name  string
		param string
		files []string
	}{
		{"ttrpc", "plugins=ttrpc,paths=source_relative", []string{"greeter/v1/greeter.proto"}},
		{"no_service", "plugins=ttrpc,paths=source_relative", []string{"common/v1/common.proto"}},
		{"mapping", "plugins=ttrpc,Mplain/plain.proto=github.com/ttrpc-go/ttrpc/internal/plugintest/gen/plain", []string{"plain/plain.proto"}},
		{"import_path", "plugins=ttrpc,import_path=github.com/ttrpc-go/ttrpc/internal/plugintest/gen/plain", []string{"plain/plain.proto"}},
		{"well_known_types", "plugins=ttrpc,paths=source_relative", []string{"wkt/v1/wkt.proto"}},
		{"well_known_types_mapped", "plugins=ttrpc,paths=source_relative,Mgoogle/protobuf/empty.proto=google.golang.org/protobuf/types/known/emptypb", []string{"wkt/v1/wkt.proto"}},
		{"no_methods", "plugins=ttrpc,paths=source_relative", []string{"nothing/nothing.proto"}},
		{"messages_only", "paths=source_relative", []string{"greeter/v1/greeter.proto"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plugintest.Compare(t, filepath.Join("testdata", tc.name), generateFiles(t, tc.param, tc.files...))
		})
	}
}

// TestPluginsParameter pins the reference's behaviour: stubs only with
// plugins=ttrpc, and the vanity settings apply either way.
func TestPluginsParameter(t *testing.T) {
	for _, tc := range []struct {
		param     string
		wantStubs bool
	}{
		{"paths=source_relative", false},
		{"plugins=ttrpc,paths=source_relative", true},
		{"plugins=grpc+ttrpc,paths=source_relative", true},
	} {
		t.Run(tc.param, func(t *testing.T) {
			src := generateFiles(t, tc.param, "greeter/v1/greeter.proto")["greeter/v1/greeter.pb.go"]
			if src == "" {
				t.Fatal("greeter.pb.go not generated")
			}
			if got := strings.Contains(src, "func RegisterGreeterService("); got != tc.wantStubs {
				t.Errorf("stubs generated = %v, want %v", got, tc.wantStubs)
			}
			for _, want := range []string{") Marshal() (", ") Unmarshal(dAtA []byte) error", ") Size() (n int)", ") String() string"} {
				if !strings.Contains(src, want) {
					t.Errorf("vanity: %q missing", want)
				}
			}
			for _, unwanted := range []string{"func (m *HelloReply) GetMessage()", ") GoString() string"} {
				if strings.Contains(src, unwanted) {
					t.Errorf("vanity: %q present", unwanted)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	var out bytes.Buffer
	if err := run(bytes.NewReader([]byte{0xff, 0xff}), &out); err == nil {
		t.Fatal("run accepted a malformed request")
	}
}

// TestGoldenCompiles vets the golden gogo packages, in place of the
// protoc-gen-go ones, against this module's ttrpc package.
func TestGoldenCompiles(t *testing.T) {
	plugintest.Vet(t, map[string]string{
		"common/v1/common.pb.go":         "testdata/no_service/common/v1/common.pb.go",
		"greeter/v1/greeter.pb.go":       "testdata/ttrpc/greeter/v1/greeter.pb.go",
		"greeter/v1/greeter_ttrpc.pb.go": "",
		"plain/plain.pb.go":              "testdata/mapping/plain/plain.pb.go",
		"plain/plain_ttrpc.pb.go":        "",
		"wkt/v1/wkt.pb.go":               "testdata/well_known_types/wkt/v1/wkt.pb.go",
		"wkt/v1/wkt_ttrpc.pb.go":         "",
		"nothing/nothing.pb.go":          "testdata/no_methods/nothing/nothing.pb.go",
		"nothing/nothing_ttrpc.pb.go":    "",
	})
}
