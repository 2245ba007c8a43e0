//go:build linux

package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The UnixSocketRequire* handshakers against real peers: this process
// (root when the tests run as root) and a copy of the test binary started
// as another user, on a path socket and on an abstract one.

// relPeerEnv selects the peer mode of TestRelUnixCredsPeer and names the
// socket it connects to.
const relPeerEnv = "TTRPC_RELIABILITY_PEER_ADDR"

// relNobody is the uid and gid of the other user.
const relNobody = 65534

// TestRelUnixCredsPeer is not a test of its own: it is the peer process of
// TestUnixCredentials, run when relPeerEnv is set. It calls Whoami and
// prints "uid N" with the uid the server saw, or "closed" when the server
// hung up without sending a frame.
func TestRelUnixCredsPeer(t *testing.T) {
	addr := os.Getenv(relPeerEnv)
	if addr == "" {
		return
	}
	fmt.Println(relProbeCreds(addr))
}

// relProbeCreds connects to addr, asks Whoami and describes the outcome.
func relProbeCreds(addr string) string {
	nc, err := net.Dial("unix", addr)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(relIOTimeout))
	// The server may already have hung up: a failed write is not the
	// outcome, what can be read is.
	_, _ = nc.Write(relCall(1, "Whoami"))
	h, body, err := newFrameReader(nc, defaultMaxMessageSize).next()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return "closed"
		}
		return "read: " + err.Error()
	}
	defer putBuffer(body)
	var data []byte
	if body != nil {
		data = *body
	}
	var resp Response
	var uid wrapperspb.Int64Value
	if h.typ != frameResponse || proto.Unmarshal(data, &resp) != nil || resp.Status.GetCode() != 0 ||
		proto.Unmarshal(resp.Payload, &uid) != nil {
		return fmt.Sprintf("unexpected %v frame: %v", h.typ, resp.Status)
	}
	return fmt.Sprintf("uid %d", uid.Value)
}

// relCredsDesc serves Whoami: the uid of the handshake's *unix.Ucred.
func relCredsDesc() *ServiceDesc {
	return &ServiceDesc{Methods: map[string]Method{
		"Whoami": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			info, _ := HandshakeResult(ctx)
			uc, ok := info.(*unix.Ucred)
			if !ok {
				return nil, fmt.Errorf("handshake result %T, want *unix.Ucred", info)
			}
			return wrapperspb.Int64(int64(uc.Uid)), nil
		},
	}}
}

// relOtherUser prepares running the test binary as relNobody: a copy in a
// directory that user can reach. It returns the copy's path and the
// directory, which is also where path sockets go.
func relOtherUser(t *testing.T) (binary, dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "tc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return "", dir
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	binary = filepath.Join(dir, "peer.test")
	if err := os.WriteFile(binary, self, 0o755); err != nil {
		t.Fatal(err)
	}
	return binary, dir
}

// relProbeAsNobody runs the peer process as relNobody against addr.
func relProbeAsNobody(t *testing.T, binary, dir, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), relIOTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "-test.run=^TestRelUnixCredsPeer$", "-test.count=1")
	cmd.Dir = dir
	// A race-enabled peer would otherwise sleep a second on exit.
	cmd.Env = []string{relPeerEnv + "=" + addr, "PATH=/usr/bin:/bin", "GORACE=atexit_sleep_ms=0"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: relNobody, Gid: relNobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("peer process: %v\n%s", err, out)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first
}

func TestUnixCredentials(t *testing.T) {
	binary, dir := relOtherUser(t)
	self := fmt.Sprintf("uid %d", os.Geteuid())
	nobody := fmt.Sprintf("uid %d", relNobody)
	tests := []struct {
		name string
		hs   UnixCredentialsFunc
		// selfOK and nobodyOK say whether this process and the other user
		// are let in.
		selfOK, nobodyOK bool
	}{
		{"RequireUidGid(nobody)", UnixSocketRequireUidGid(relNobody, relNobody), false, true},
		{"RequireUidGid(any uid, nobody's gid)", UnixSocketRequireUidGid(-1, relNobody), false, true},
		{"RequireUidGid(nobody's uid, any gid)", UnixSocketRequireUidGid(relNobody, -1), false, true},
		{"RequireUidGid(nobody's uid, gid 0)", UnixSocketRequireUidGid(relNobody, 0), false, false},
		{"RequireUidGid(anyone)", UnixSocketRequireUidGid(-1, -1), true, true},
		{"RequireRoot", UnixSocketRequireRoot(), os.Geteuid() == 0 && os.Getegid() == 0, false},
		{"RequireSameUser", UnixSocketRequireSameUser(), true, false},
	}
	addrs := map[string]func() string{
		"path socket":     func() string { return filepath.Join(dir, "s") },
		"abstract socket": func() string { return "@ttrpc-reliability-" + strconv.Itoa(os.Getpid()) },
	}
	for kind, addr := range addrs {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				checkGoroutines(t)
				logs := &relLogs{}
				srv, err := NewServer(WithServerHandshaker(tt.hs), WithServerLogger(slog.New(logs)))
				if err != nil {
					t.Fatal(err)
				}
				srv.RegisterService(relService, relCredsDesc())
				a := addr()
				l, err := net.Listen("unix", a)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(a, "@") {
					if err := os.Chmod(a, 0o777); err != nil {
						t.Fatal(err)
					}
				}
				served := make(chan error, 1)
				go func() { served <- srv.Serve(context.Background(), l) }()
				defer func() {
					srv.Close()
					if err := <-served; !errors.Is(err, ErrServerClosed) {
						t.Errorf("Serve: %v", err)
					}
				}()

				relCheckProbe(t, "this process", relProbeCreds(a), self, tt.selfOK, logs)
				if binary == "" {
					t.Log("not root: the other-user half of this case cannot run")
					return
				}
				relCheckProbe(t, "the other user", relProbeAsNobody(t, binary, dir, a), nobody, tt.nobodyOK, logs)
			})
		}
	}
}

// relCheckProbe checks one peer's outcome: let in and seen with its own
// uid, or hung up on without a frame and logged.
func relCheckProbe(t *testing.T, who, got, uid string, ok bool, logs *relLogs) {
	t.Helper()
	if ok {
		if got != uid {
			t.Fatalf("%s: %s, want to be served as %s", who, got, uid)
		}
		return
	}
	if got != "closed" {
		t.Fatalf("%s: %s, want the connection closed without a frame", who, got)
	}
	relEventually(t, "the refusal to be logged", func() bool { return logs.contains("refusing connection") && logs.contains(uid+" gid") })
}

// TestUnixCredentialsNeedUnixSocket checks that the credentials handshake
// refuses connections it cannot read credentials from.
func TestUnixCredentialsNeedUnixSocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, _, err := UnixSocketRequireSameUser().Handshake(context.Background(), a); err == nil {
		t.Fatal("a net.Pipe connection passed the unix credentials handshake")
	}
}
