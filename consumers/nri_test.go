package consumers

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/net/multiplex"
	"github.com/containerd/ttrpc"
)

// NRI's runtime side (pkg/adaptation) and plugin side (pkg/stub, or a
// hand-made plugin of an older NRI) talk ttrpc both ways over one unix
// socket through NRI's multiplexer, all on the compat module.

// startRuntime starts an NRI runtime on a fresh socket whose plugins are
// synchronized with pods; it stops when the test ends.
func startRuntime(t *testing.T, pods []*api.PodSandbox) (*adaptation.Adaptation, string) {
	t.Helper()
	path := socketPath(t)
	dir := t.TempDir()
	syncFn := func(ctx context.Context, cb adaptation.SyncCB) error {
		_, err := cb(ctx, pods, nil)
		return err
	}
	updateFn := func(context.Context, []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
		return nil, nil
	}
	r, err := adaptation.New("compat-runtime", "v0.0.1", syncFn, updateFn,
		adaptation.WithSocketPath(path),
		adaptation.WithPluginPath(dir),
		adaptation.WithPluginConfigPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r, path
}

// oldPlugin is a plugin built against an NRI that predates RunPodSandbox
// as a method of its own: its Plugin service has Configure, Synchronize,
// StateChange and Shutdown only.
type oldPlugin struct {
	events chan *api.StateChangeEvent
}

func (p *oldPlugin) desc() *ttrpc.ServiceDesc {
	return &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{
		"Configure": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var req api.ConfigureRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			var m api.EventMask
			m.Set(api.Event_RUN_POD_SANDBOX)
			return &api.ConfigureResponse{Events: int32(m)}, nil
		},
		"Synchronize": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var req api.SynchronizeRequest
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &api.SynchronizeResponse{More: req.More}, nil
		},
		"StateChange": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var ev api.StateChangeEvent
			if err := unmarshal(&ev); err != nil {
				return nil, err
			}
			select { // later retries of the test find nobody listening
			case p.events <- &ev:
			default:
			}
			return &api.Empty{}, nil
		},
		"Shutdown": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			return &api.Empty{}, nil
		},
	}}
}

// connect registers p with the runtime at path over NRI's multiplexer and
// serves its Plugin service until the test ends.
func (p *oldPlugin) connect(t *testing.T, path string) {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	mux := multiplex.Multiplex(nc)
	l, err := mux.Listen(multiplex.PluginServiceConn)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService("nri.pkg.api.v1alpha1.Plugin", p.desc())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	rc, err := mux.Open(multiplex.RuntimeServiceConn)
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(rc)
	t.Cleanup(func() {
		client.Close()
		srv.Close()
		mux.Close()
		<-served
	})
	_, err = api.NewRuntimeClient(client).RegisterPlugin(testContext(t),
		&api.RegisterPluginRequest{PluginName: "old", PluginIdx: "20"})
	if err != nil {
		t.Fatal(err)
	}
}

// The runtime calls RunPodSandbox; the old plugin answers Unimplemented,
// which NRI must recognise (grpc-go's status.Code) to fall back to
// StateChange. On ttrpc-go without the compat layer the fallback never
// triggered.
func TestNRIOldPluginUnimplementedFallback(t *testing.T) {
	r, path := startRuntime(t, nil)
	p := &oldPlugin{events: make(chan *api.StateChangeEvent, 1)}
	p.connect(t, path)
	ctx := testContext(t)
	// RegisterPlugin returns before the runtime has configured and
	// synchronized the plugin and added it to the plugins it relays
	// events to; until then RunPodSandbox reaches nobody, so retry.
	var ev *api.StateChangeEvent
	for ev == nil {
		if err := r.RunPodSandbox(ctx, &adaptation.RunPodSandboxRequest{Pod: &api.PodSandbox{Id: "pod-old"}}); err != nil {
			t.Fatalf("RunPodSandbox: %v", err)
		}
		select {
		case ev = <-p.events:
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no StateChange fallback reached the old plugin")
		}
	}
	if ev.Event != api.Event_RUN_POD_SANDBOX || ev.Pod.GetId() != "pod-old" {
		t.Fatalf("fallback delivered %v", ev)
	}
}
