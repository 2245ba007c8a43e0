package reflection_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/example"
	greeter "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/greeter/v1"
	wkt "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/wkt/v1"
	"github.com/ttrpc-go/ttrpc/reflection"
	"github.com/ttrpc-go/ttrpc/reflection/gogofiles"
	"github.com/ttrpc-go/ttrpc/status"
)

// Services whose methods are never called here: reflection only reads
// what is registered.
type (
	greeterServer struct{ greeter.GreeterService }
	clockServer   struct{ wkt.ClockService }
	exampleServer struct{ example.ExampleService }
)

// serve starts srv on a unix socket and returns a client to it; both end
// with the test.
func serve(t *testing.T, srv *ttrpc.Server) *ttrpc.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	c, err := ttrpc.Dial(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		if err := <-served; !errors.Is(err, ttrpc.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return c
}

func newServer(t *testing.T, opts ...reflection.Option) *ttrpc.Client {
	t.Helper()
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	greeter.RegisterGreeterService(srv, greeterServer{})
	example.RegisterExampleService(srv, exampleServer{})
	reflection.Register(srv, opts...)
	// Registered after reflection: still seen.
	wkt.RegisterClockService(srv, clockServer{})
	srv.Register("hand.v1.Made", map[string]ttrpc.Method{"Do": nil})
	return serve(t, srv)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestListServices(t *testing.T) {
	rc := reflection.NewClient(newServer(t))
	services, err := rc.ListServices(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name      string
		methods   []string
		described bool
	}
	want := []row{
		{"demo.greeter.v1.Greeter", []string{"Chat", "Collect", "ListNotes", "SayHello", "lower_case", "lower_stream"}, true},
		{"demo.wkt.v1.Clock", []string{"Idle", "Now", "Watch"}, true},
		{"hand.v1.Made", []string{"Do"}, false},
		// gogo code keeps its descriptors out of GlobalFiles.
		{"ttrpc.example.v1.Example", []string{"Chat", "Countdown", "Greet", "Sum"}, false},
		{reflection.ServiceName, []string{"FileByFilename", "FileContainingSymbol", "ListServices"}, true},
	}
	if len(services) != len(want) {
		t.Fatalf("ListServices = %v, want %d services", services, len(want))
	}
	for i, s := range services {
		w := want[i]
		if s.GetName() != w.name || !slices.Equal(s.GetMethods(), w.methods) || s.GetDescribed() != w.described {
			t.Errorf("service %d = %v, want %+v", i, s, w)
		}
	}
}

func TestFileContainingSymbol(t *testing.T) {
	rc := reflection.NewClient(newServer(t))
	files, err := rc.FileContainingSymbol(ctx(t), "demo.greeter.v1.Greeter")
	if err != nil {
		t.Fatal(err)
	}
	// The file and its import, nothing else.
	var paths []string
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		paths = append(paths, fd.Path())
		return true
	})
	slices.Sort(paths)
	if want := []string{"common/v1/common.proto", "greeter/v1/greeter.proto"}; !slices.Equal(paths, want) {
		t.Errorf("files = %v, want %v", paths, want)
	}
	d, err := files.FindDescriptorByName("demo.greeter.v1.Greeter.ListNotes")
	if err != nil {
		t.Fatal(err)
	}
	m := d.(protoreflect.MethodDescriptor)
	if !m.IsStreamingServer() || m.IsStreamingClient() || m.Output().FullName() != "demo.common.v1.Note" {
		t.Errorf("ListNotes described as %v", m)
	}

	// Methods, messages, fields and a leading dot resolve too; the
	// answer's well-known imports come along.
	for _, symbol := range []string{"demo.greeter.v1.Greeter.SayHello", ".demo.greeter.v1.HelloRequest", "demo.greeter.v1.HelloRequest.times", "demo.common.v1.Note", "demo.wkt.v1.Clock"} {
		if _, err := rc.FileContainingSymbol(ctx(t), symbol); err != nil {
			t.Errorf("FileContainingSymbol(%s): %v", symbol, err)
		}
	}
	files, err = rc.FileContainingSymbol(ctx(t), "demo.wkt.v1.Clock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.FindDescriptorByName("google.protobuf.Timestamp"); err != nil {
		t.Errorf("Clock's file came without its imports: %v", err)
	}
}

func TestNotDisclosed(t *testing.T) {
	rc := reflection.NewClient(newServer(t))
	// Known to the binary, but not part of any served service's files.
	for _, symbol := range []string{"google.protobuf.Duration", "demo.plain.Plain", "no.such.Thing", "hand.v1.Made"} {
		_, err := rc.FileContainingSymbol(ctx(t), symbol)
		if status.Code(err) != codes.NotFound {
			t.Errorf("FileContainingSymbol(%s) = %v, want NotFound", symbol, err)
		}
	}
	if _, err := rc.FileContainingSymbol(ctx(t), "not a name!"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("FileContainingSymbol of a bad name = %v, want InvalidArgument", err)
	}
	if _, err := rc.FileByFilename(ctx(t), "google/protobuf/duration.proto"); status.Code(err) != codes.NotFound {
		t.Errorf("FileByFilename(duration.proto) = %v, want NotFound", err)
	}
	files, err := rc.FileByFilename(ctx(t), "google/protobuf/timestamp.proto")
	if err != nil {
		t.Fatalf("FileByFilename of an import of a served file: %v", err)
	}
	if _, err := files.FindDescriptorByName("google.protobuf.Timestamp"); err != nil {
		t.Error(err)
	}
}

func TestGogoResolver(t *testing.T) {
	gogo, err := gogofiles.Load("example.proto")
	if err != nil {
		t.Fatal(err)
	}
	rc := reflection.NewClient(newServer(t, reflection.WithResolver(gogo)))
	services, err := rc.ListServices(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		if s.GetName() == "ttrpc.example.v1.Example" && !s.GetDescribed() {
			t.Error("gogo service not described with gogofiles.Load")
		}
	}
	files, err := rc.FileContainingSymbol(ctx(t), "ttrpc.example.v1.Example.Chat")
	if err != nil {
		t.Fatal(err)
	}
	d, err := files.FindDescriptorByName("ttrpc.example.v1.Example.Chat")
	if err != nil {
		t.Fatal(err)
	}
	if m := d.(protoreflect.MethodDescriptor); !m.IsStreamingClient() || !m.IsStreamingServer() {
		t.Errorf("Chat described as %v", m)
	}

	if _, err := gogofiles.Load("missing.proto"); !errors.Is(err, gogofiles.ErrNotFound) {
		t.Errorf("GogoFiles(missing.proto) = %v, want ErrNotFound", err)
	}
	if _, err := protoregistry.GlobalFiles.FindFileByPath("example.proto"); err == nil {
		t.Error("example.proto is in GlobalFiles: this test no longer shows what gogofiles adds")
	}
}

func TestServerWithoutReflection(t *testing.T) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	rc := reflection.NewClient(serve(t, srv))
	_, err = rc.ListServices(ctx(t))
	if !errors.Is(err, reflection.ErrNotServed) || status.Code(err) != codes.Unimplemented {
		t.Errorf("ListServices without reflection = %v, want ErrNotServed and Unimplemented", err)
	}
	if _, err := rc.FileContainingSymbol(ctx(t), "a.B"); !errors.Is(err, reflection.ErrNotServed) {
		t.Errorf("FileContainingSymbol without reflection = %v, want ErrNotServed", err)
	}
}
