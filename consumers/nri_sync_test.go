package consumers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
	"github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	"github.com/containerd/ttrpc"
)

// NRI's multiplexed connections deliver each Write as one message and
// fail a Read whose buffer is smaller than the next message; the compat
// module cuts and reads frames as containerd/ttrpc does there (frameConn),
// so messages of any size get through.

// syncPlugin is a stub plugin recording what it was synchronized with.
type syncPlugin struct {
	synced chan []*api.PodSandbox
	pods   chan string
}

func (p *syncPlugin) Synchronize(_ context.Context, pods []*api.PodSandbox, _ []*api.Container) ([]*api.ContainerUpdate, error) {
	p.synced <- pods
	return nil, nil
}

func (p *syncPlugin) RunPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	select { // retries find nobody listening
	case p.pods <- pod.Id:
	default:
	}
	return nil
}

// A Synchronize larger than 4 MiB fails to send with OversizedMessageErr
// (ResourceExhausted); NRI re-chunks it by RejectedLength/MaximumLength
// and the plugin stays connected. On ttrpc-go without the compat layer
// the plugin was disconnected instead.
func TestNRISynchronizeOver4MiBIsSplit(t *testing.T) {
	const nPods, annotation = 200, 32 << 10
	pods := make([]*api.PodSandbox, nPods)
	for i := range pods {
		pods[i] = &api.PodSandbox{
			Id:          "pod-" + itoa(i),
			Annotations: map[string]string{"big": strings.Repeat("x", annotation)},
		}
	}
	r, path := startRuntime(t, pods)

	var syncCalls atomic.Int32
	countSync := func(ctx context.Context, unmarshal ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, method ttrpc.Method) (any, error) {
		if strings.HasSuffix(info.FullMethod, "/Synchronize") {
			syncCalls.Add(1)
		}
		return method(ctx, unmarshal)
	}
	p := &syncPlugin{synced: make(chan []*api.PodSandbox, 1), pods: make(chan string, 1)}
	closed := make(chan struct{})
	s, err := stub.New(p, stub.WithSocketPath(path), stub.WithOnClose(func() { close(closed) }), stub.WithPluginName("sync"), stub.WithPluginIdx("10"),
		stub.WithTTRPCOptions(nil, []ttrpc.ServerOpt{ttrpc.WithUnaryServerInterceptor(countSync)}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	var got []*api.PodSandbox
	select {
	case got = <-p.synced:
	case <-closed:
		t.Fatal("the runtime disconnected the plugin instead of splitting its Synchronize")
	}
	if len(got) != nPods {
		t.Fatalf("plugin synchronized with %d pods, want %d", len(got), nPods)
	}
	if n := syncCalls.Load(); n < 2 {
		t.Fatalf("%d Synchronize requests: the message was not split", n)
	}
	// Still connected: an event reaches the plugin (retried: the runtime
	// adds the plugin to those it relays events to after Synchronize).
	for delivered := false; !delivered; {
		if err := r.RunPodSandbox(ctx, &adaptation.RunPodSandboxRequest{Pod: &api.PodSandbox{Id: "after-sync"}}); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-p.pods:
			if id != "after-sync" {
				t.Fatalf("event for %q", id)
			}
			delivered = true
		case <-closed:
			t.Fatal("the plugin was disconnected")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}
