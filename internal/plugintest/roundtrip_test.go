package plugintest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	gocommon "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/common/v1"
	gogreeter "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/greeter/v1"
	plainpb "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/plain"
	gogocommon "github.com/ttrpc-go/ttrpc/internal/plugintest/gengogo/common/v1"
	gogogreeter "github.com/ttrpc-go/ttrpc/internal/plugintest/gengogo/greeter/v1"
	"github.com/ttrpc-go/ttrpc/status"
)

// serve starts a server on a fresh unix socket with register applied and
// returns a client connected to it; both are closed when the test ends.
func serve(t *testing.T, register func(*ttrpc.Server)) *ttrpc.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "t") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	register(srv)
	l, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	t.Cleanup(func() {
		client.Close()
		srv.Close()
		if err := <-served; err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return client
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// goServer implements the protoc-gen-go-ttrpc flavour of Greeter.
type goServer struct{}

func (goServer) SayHello(_ context.Context, req *gogreeter.HelloRequest) (*gogreeter.HelloReply, error) {
	return &gogreeter.HelloReply{Message: strings.Repeat("hello "+req.Name+";", int(req.GetTimes()))}, nil
}

func (goServer) LowerCase(_ context.Context, req *gogreeter.HelloRequest) (*gogreeter.HelloReply, error) {
	return &gogreeter.HelloReply{Message: "lower " + req.Name}, nil
}

func (goServer) ListNotes(_ context.Context, req *gogreeter.HelloRequest, s gogreeter.Greeter_ListNotesServer) error {
	for i := int32(1); i <= req.GetTimes(); i++ {
		if err := s.Send(&gocommon.Note{Text: req.Name, Seq: int64(i)}); err != nil {
			return err
		}
	}
	return nil
}

func (goServer) Collect(_ context.Context, s gogreeter.Greeter_CollectServer) (*gogreeter.HelloReply, error) {
	var texts []string
	for {
		n, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return &gogreeter.HelloReply{Message: strings.Join(texts, "+")}, nil
		}
		if err != nil {
			return nil, err
		}
		texts = append(texts, fmt.Sprint(n.Text, n.Seq))
	}
}

func (goServer) Chat(_ context.Context, s gogreeter.Greeter_ChatServer) error {
	return goEcho(s, "chat ")
}

func (goServer) LowerStream(_ context.Context, s gogreeter.Greeter_LowerStreamServer) error {
	return goEcho(s, "lower stream ")
}

type goBidi interface {
	Send(*gogreeter.HelloReply) error
	Recv() (*gogreeter.HelloRequest, error)
}

func goEcho(s goBidi, prefix string) error {
	for {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&gogreeter.HelloReply{Message: prefix + req.Name}); err != nil {
			return err
		}
	}
}

// gogoServer implements the protoc-gen-gogottrpc flavour of Greeter.
type gogoServer struct{}

func (gogoServer) SayHello(_ context.Context, req *gogogreeter.HelloRequest) (*gogogreeter.HelloReply, error) {
	return &gogogreeter.HelloReply{Message: strings.Repeat("hello "+req.Name+";", int(req.GetTimes()))}, nil
}

func (gogoServer) LowerCase(_ context.Context, req *gogogreeter.HelloRequest) (*gogogreeter.HelloReply, error) {
	return &gogogreeter.HelloReply{Message: "lower " + req.Name}, nil
}

func (gogoServer) ListNotes(_ context.Context, req *gogogreeter.HelloRequest, s gogogreeter.Greeter_ListNotesServer) error {
	for i := int32(1); i <= req.GetTimes(); i++ {
		if err := s.Send(&gogocommon.Note{Text: req.Name, Seq: int64(i)}); err != nil {
			return err
		}
	}
	return nil
}

func (gogoServer) Collect(_ context.Context, s gogogreeter.Greeter_CollectServer) (*gogogreeter.HelloReply, error) {
	var texts []string
	for {
		n, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return &gogogreeter.HelloReply{Message: strings.Join(texts, "+")}, nil
		}
		if err != nil {
			return nil, err
		}
		texts = append(texts, fmt.Sprint(n.Text, n.Seq))
	}
}

func (gogoServer) Chat(_ context.Context, s gogogreeter.Greeter_ChatServer) error {
	return gogoEcho(s, "chat ")
}

func (gogoServer) LowerStream(_ context.Context, s gogogreeter.Greeter_LowerStreamServer) error {
	return gogoEcho(s, "lower stream ")
}

type gogoBidi interface {
	Send(*gogogreeter.HelloReply) error
	Recv() (*gogogreeter.HelloRequest, error)
}

func gogoEcho(s gogoBidi, prefix string) error {
	for {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&gogogreeter.HelloReply{Message: prefix + req.Name}); err != nil {
			return err
		}
	}
}

// Every result a client driver collects, in call order; both drivers must
// produce exactly this against either server.
var wantResults = []string{
	"SayHello: hello ann;hello ann;",
	"lower_case: lower bob",
	"ListNotes: cy1 cy2 cy3",
	"Collect: a1+b2",
	"Chat: chat x, chat y",
	"lower_stream: lower stream p, lower stream q",
}

// goClient exercises every method through the protoc-gen-go-ttrpc client.
func goClient(ctx context.Context, c gogreeter.GreeterClient) ([]string, error) {
	var out []string
	two := int32(2)
	r, err := c.SayHello(ctx, &gogreeter.HelloRequest{Name: "ann", Times: &two})
	if err != nil {
		return out, fmt.Errorf("SayHello: %w", err)
	}
	out = append(out, "SayHello: "+r.Message)
	if r, err = c.LowerCase(ctx, &gogreeter.HelloRequest{Name: "bob"}); err != nil {
		return out, fmt.Errorf("lower_case: %w", err)
	}
	out = append(out, "lower_case: "+r.Message)

	three := int32(3)
	ls, err := c.ListNotes(ctx, &gogreeter.HelloRequest{Name: "cy", Times: &three})
	if err != nil {
		return out, fmt.Errorf("ListNotes: %w", err)
	}
	var notes []string
	for {
		n, err := ls.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("ListNotes: %w", err)
		}
		notes = append(notes, fmt.Sprint(n.Text, n.Seq))
	}
	out = append(out, "ListNotes: "+strings.Join(notes, " "))

	cs, err := c.Collect(ctx)
	if err != nil {
		return out, fmt.Errorf("Collect: %w", err)
	}
	for i, text := range []string{"a", "b"} {
		if err := cs.Send(&gocommon.Note{Text: text, Seq: int64(i + 1)}); err != nil {
			return out, fmt.Errorf("Collect: %w", err)
		}
	}
	if r, err = cs.CloseAndRecv(); err != nil {
		return out, fmt.Errorf("Collect: %w", err)
	}
	out = append(out, "Collect: "+r.Message)

	chat, err := c.Chat(ctx)
	if err != nil {
		return out, fmt.Errorf("Chat: %w", err)
	}
	got, err := goBidiRun(chat, "x", "y")
	if err != nil {
		return out, fmt.Errorf("Chat: %w", err)
	}
	out = append(out, "Chat: "+got)
	lower, err := c.LowerStream(ctx)
	if err != nil {
		return out, fmt.Errorf("lower_stream: %w", err)
	}
	if got, err = goBidiRun(lower, "p", "q"); err != nil {
		return out, fmt.Errorf("lower_stream: %w", err)
	}
	return append(out, "lower_stream: "+got), nil
}

type goBidiClient interface {
	Send(*gogreeter.HelloRequest) error
	Recv() (*gogreeter.HelloReply, error)
	CloseSend() error
}

func goBidiRun(s goBidiClient, names ...string) (string, error) {
	var got []string
	for _, name := range names {
		if err := s.Send(&gogreeter.HelloRequest{Name: name}); err != nil {
			return "", err
		}
		r, err := s.Recv()
		if err != nil {
			return "", err
		}
		got = append(got, r.Message)
	}
	if err := s.CloseSend(); err != nil {
		return "", err
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after CloseSend: %v, want io.EOF", err)
	}
	return strings.Join(got, ", "), nil
}

// gogoClient exercises every method through the gogo client.
func gogoClient(ctx context.Context, c gogogreeter.GreeterClient) ([]string, error) {
	var out []string
	r, err := c.SayHello(ctx, &gogogreeter.HelloRequest{Name: "ann", XTimes: &gogogreeter.HelloRequest_Times{Times: 2}})
	if err != nil {
		return out, fmt.Errorf("SayHello: %w", err)
	}
	out = append(out, "SayHello: "+r.Message)
	if r, err = c.LowerCase(ctx, &gogogreeter.HelloRequest{Name: "bob"}); err != nil {
		return out, fmt.Errorf("lower_case: %w", err)
	}
	out = append(out, "lower_case: "+r.Message)

	ls, err := c.ListNotes(ctx, &gogogreeter.HelloRequest{Name: "cy", XTimes: &gogogreeter.HelloRequest_Times{Times: 3}})
	if err != nil {
		return out, fmt.Errorf("ListNotes: %w", err)
	}
	var notes []string
	for {
		n, err := ls.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("ListNotes: %w", err)
		}
		notes = append(notes, fmt.Sprint(n.Text, n.Seq))
	}
	out = append(out, "ListNotes: "+strings.Join(notes, " "))

	cs, err := c.Collect(ctx)
	if err != nil {
		return out, fmt.Errorf("Collect: %w", err)
	}
	for i, text := range []string{"a", "b"} {
		if err := cs.Send(&gogocommon.Note{Text: text, Seq: int64(i + 1)}); err != nil {
			return out, fmt.Errorf("Collect: %w", err)
		}
	}
	if r, err = cs.CloseAndRecv(); err != nil {
		return out, fmt.Errorf("Collect: %w", err)
	}
	out = append(out, "Collect: "+r.Message)

	chat, err := c.Chat(ctx)
	if err != nil {
		return out, fmt.Errorf("Chat: %w", err)
	}
	got, err := gogoBidiRun(chat, "x", "y")
	if err != nil {
		return out, fmt.Errorf("Chat: %w", err)
	}
	out = append(out, "Chat: "+got)
	lower, err := c.LowerStream(ctx)
	if err != nil {
		return out, fmt.Errorf("lower_stream: %w", err)
	}
	if got, err = gogoBidiRun(lower, "p", "q"); err != nil {
		return out, fmt.Errorf("lower_stream: %w", err)
	}
	return append(out, "lower_stream: "+got), nil
}

type gogoBidiClient interface {
	Send(*gogogreeter.HelloRequest) error
	Recv() (*gogogreeter.HelloReply, error)
	CloseSend() error
}

func gogoBidiRun(s gogoBidiClient, names ...string) (string, error) {
	var got []string
	for _, name := range names {
		if err := s.Send(&gogogreeter.HelloRequest{Name: name}); err != nil {
			return "", err
		}
		r, err := s.Recv()
		if err != nil {
			return "", err
		}
		got = append(got, r.Message)
	}
	if err := s.CloseSend(); err != nil {
		return "", err
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after CloseSend: %v, want io.EOF", err)
	}
	return strings.Join(got, ", "), nil
}

// TestGeneratedRoundTrip runs every method, including the ones whose proto
// names are not CamelCase, between the two generated flavours in all four
// pairings: the codec must carry gogo and protobuf-go messages alike, and
// both plugins must agree on the names used on the wire.
func TestGeneratedRoundTrip(t *testing.T) {
	servers := map[string]func(*ttrpc.Server){
		"go server":   func(s *ttrpc.Server) { gogreeter.RegisterGreeterService(s, goServer{}) },
		"gogo server": func(s *ttrpc.Server) { gogogreeter.RegisterGreeterService(s, gogoServer{}) },
	}
	clients := map[string]func(context.Context, *ttrpc.Client) ([]string, error){
		"go client": func(ctx context.Context, c *ttrpc.Client) ([]string, error) {
			return goClient(ctx, gogreeter.NewGreeterClient(c))
		},
		"gogo client": func(ctx context.Context, c *ttrpc.Client) ([]string, error) {
			return gogoClient(ctx, gogogreeter.NewGreeterClient(c))
		},
	}
	for cname, run := range clients {
		for sname, register := range servers {
			t.Run(cname+" to "+sname, func(t *testing.T) {
				got, err := run(testContext(t), serve(t, register))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got, "\n") != strings.Join(wantResults, "\n") {
					t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantResults, "\n"))
				}
			})
		}
	}
}

// TestWireMethodNames checks that servers from both plugins register every
// method under its proto name, and not under its Go name.
func TestWireMethodNames(t *testing.T) {
	servers := map[string]func(*ttrpc.Server){
		"go":   func(s *ttrpc.Server) { gogreeter.RegisterGreeterService(s, goServer{}) },
		"gogo": func(s *ttrpc.Server) { gogogreeter.RegisterGreeterService(s, gogoServer{}) },
	}
	for name, register := range servers {
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t)
			c := serve(t, register)
			const svc = "demo.greeter.v1.Greeter"
			var resp gogreeter.HelloReply
			if err := c.Call(ctx, svc, "lower_case", &gogreeter.HelloRequest{Name: "z"}, &resp); err != nil {
				t.Fatalf("lower_case: %v", err)
			}
			if resp.Message != "lower z" {
				t.Errorf("lower_case answered %q", resp.Message)
			}
			for _, goName := range []string{"LowerCase", "LowerStream"} {
				err := c.Call(ctx, svc, goName, &gogreeter.HelloRequest{}, &resp)
				if got := status.Code(err); got != codes.Unimplemented {
					t.Errorf("%s: got %v (%v), want Unimplemented", goName, got, err)
				}
			}
			s, err := c.NewStream(ctx, &ttrpc.StreamDesc{StreamingClient: true, StreamingServer: true}, svc, "lower_stream", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SendMsg(&gogreeter.HelloRequest{Name: "w"}); err != nil {
				t.Fatal(err)
			}
			if err := s.RecvMsg(&resp); err != nil {
				t.Fatalf("lower_stream: %v", err)
			}
			if resp.Message != "lower stream w" {
				t.Errorf("lower_stream answered %q", resp.Message)
			}
			if err := s.CloseSend(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

type bareServer struct{}

func (bareServer) Get(_ context.Context, in *plainpb.Outer_Inner) (*plainpb.Outer, error) {
	return &plainpb.Outer{Inner: &plainpb.Outer_Inner{Value: in.Value + "!"}}, nil
}

// TestNoProtoPackage checks a service of a file without a proto package:
// it is known on the wire by its bare name.
func TestNoProtoPackage(t *testing.T) {
	ctx := testContext(t)
	c := serve(t, func(s *ttrpc.Server) { plainpb.RegisterBareService(s, bareServer{}) })
	out, err := plainpb.NewBareClient(c).Get(ctx, &plainpb.Outer_Inner{Value: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if out.GetInner().GetValue() != "v!" {
		t.Errorf("got %q", out.GetInner().GetValue())
	}
	var resp plainpb.Outer
	if err := c.Call(ctx, "Bare", "Get", &plainpb.Outer_Inner{Value: "w"}, &resp); err != nil {
		t.Fatalf(`raw call to "Bare": %v`, err)
	}
}

type goEchoServer struct{}

func (goEchoServer) Echo(_ context.Context, n *gocommon.Note) (*gocommon.Note, error) {
	return &gocommon.Note{Text: "go:" + n.Text, Seq: n.Seq + 1}, nil
}

type gogoEchoServer struct{}

func (gogoEchoServer) Echo(_ context.Context, n *gogocommon.Note) (*gogocommon.Note, error) {
	return &gogocommon.Note{Text: "gogo:" + n.Text, Seq: n.Seq + 1}, nil
}

// TestUnaryOnlyService covers the unary-only shape (the gogo plugin
// registers it with Server.Register, like the original gogo plugin) in both
// directions between the flavours.
func TestUnaryOnlyService(t *testing.T) {
	t.Run("go client to gogo server", func(t *testing.T) {
		c := serve(t, func(s *ttrpc.Server) { gogogreeter.RegisterEchoService(s, gogoEchoServer{}) })
		n, err := gogreeter.NewEchoClient(c).Echo(testContext(t), &gocommon.Note{Text: "a", Seq: 1})
		if err != nil || n.Text != "gogo:a" || n.Seq != 2 {
			t.Fatalf("Echo = %v, %v", n, err)
		}
	})
	t.Run("gogo client to go server", func(t *testing.T) {
		c := serve(t, func(s *ttrpc.Server) { gogreeter.RegisterEchoService(s, goEchoServer{}) })
		n, err := gogogreeter.NewEchoClient(c).Echo(testContext(t), &gogocommon.Note{Text: "b", Seq: 5})
		if err != nil || n.Text != "go:b" || n.Seq != 6 {
			t.Fatalf("Echo = %v, %v", n, err)
		}
	})
}
