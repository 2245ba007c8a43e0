package consumers

import (
	"context"
	"errors"
	"fmt"
	"testing"

	task "github.com/containerd/containerd/api/runtime/task/v3"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// containerd's shim client (core/runtime/v2) reads every shim error with
// errgrpc.ToNative and branches on errdefs (Delete of a missing task goes
// on only when the shim said NotFound); shims answer with
// errgrpc.ToGRPC. Both ends here use containerd's generated task API on
// the compat module.

// shimTasks answers like a runc shim for a task that does not exist. The
// embedded interface is nil: methods not listed would panic, which the
// server recovers into an Internal status.
type shimTasks struct {
	task.TTRPCTaskService
}

func (shimTasks) Delete(context.Context, *task.DeleteRequest) (*task.DeleteResponse, error) {
	return nil, errgrpc.ToGRPC(fmt.Errorf("task nope: %w", errdefs.ErrNotFound))
}

func (shimTasks) Create(context.Context, *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	return nil, errgrpc.ToGRPC(fmt.Errorf("task nope: %w", errdefs.ErrAlreadyExists))
}

func (shimTasks) Start(context.Context, *task.StartRequest) (*task.StartResponse, error) {
	return nil, errgrpc.ToGRPC(fmt.Errorf("not created: %w", errdefs.ErrFailedPrecondition))
}

func (shimTasks) Kill(context.Context, *task.KillRequest) (*emptypb.Empty, error) {
	return nil, errgrpc.ToGRPC(fmt.Errorf("signal 0: %w", errdefs.ErrInvalidArgument))
}

func (shimTasks) Pause(context.Context, *task.PauseRequest) (*emptypb.Empty, error) {
	return nil, errgrpc.ToGRPC(fmt.Errorf("cgroup gone: %w", errdefs.ErrUnavailable))
}

func TestShimClientErrdefsMapping(t *testing.T) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	task.RegisterTTRPCTaskService(srv, shimTasks{})
	client := task.NewTTRPCTaskClient(serve(t, srv))
	ctx := testContext(t)

	_, err = client.Delete(ctx, &task.DeleteRequest{ID: "nope"})
	checkErrdefs(t, "Delete", err, errdefs.IsNotFound)
	_, err = client.Create(ctx, &task.CreateTaskRequest{ID: "nope"})
	checkErrdefs(t, "Create", err, errdefs.IsAlreadyExists)
	_, err = client.Start(ctx, &task.StartRequest{ID: "nope"})
	checkErrdefs(t, "Start", err, errdefs.IsFailedPrecondition)
	_, err = client.Kill(ctx, &task.KillRequest{ID: "nope"})
	checkErrdefs(t, "Kill", err, errdefs.IsInvalidArgument)
	_, err = client.Pause(ctx, &task.PauseRequest{ID: "nope"})
	checkErrdefs(t, "Pause", err, errdefs.IsUnavailable)

	// A shim that does not serve task v3 at all (an older shim).
	empty, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	old := task.NewTTRPCTaskClient(serve(t, empty))
	_, err = old.Delete(ctx, &task.DeleteRequest{ID: "nope"})
	checkErrdefs(t, "Delete on a shim without the service", err, errdefs.IsNotImplemented)

	// A closed connection: containerd checks errors.Is(err, ttrpc.ErrClosed)
	// before mapping.
	c := serve(t, srv)
	c.Close()
	_, err = task.NewTTRPCTaskClient(c).Delete(ctx, &task.DeleteRequest{ID: "nope"})
	if !errors.Is(err, ttrpc.ErrClosed) {
		t.Fatalf("Delete on a closed client: %v", err)
	}
}

func checkErrdefs(t *testing.T, what string, err error, is func(error) bool) {
	t.Helper()
	native := errgrpc.ToNative(err)
	if !is(native) {
		t.Errorf("%s: %v maps to %v (%T), not the expected errdefs kind", what, err, native, native)
	}
}
