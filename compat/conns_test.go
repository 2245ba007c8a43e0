package ttrpc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Any net.Conn is a transport: net.Pipe (nerdbox's tests), *tls.Conn
// (cloud-api-adaptor), NRI's multiplexed connections.

// exercise makes small and large calls and a stream over c.
func exercise(t *testing.T, c *Client) {
	t.Helper()
	ctx := testContext(t)
	for _, n := range []int{0, 10, 5000, 1 << 20, 4<<20 - 64} {
		var size wrapperspb.Int64Value
		if err := c.Call(ctx, testService, "Size", &wrapperspb.BytesValue{Value: make([]byte, n)}, &size); err != nil || size.Value != int64(n) {
			t.Fatalf("Size(%d): %d %v", n, size.Value, err)
		}
	}
	cs, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(100))
	if err != nil {
		t.Fatal(err)
	}
	for i := range int32(100) {
		var m wrapperspb.Int32Value
		if err := cs.RecvMsg(&m); err != nil || m.Value != i {
			t.Fatalf("stream message %d: %d %v", i, m.Value, err)
		}
	}
	if err := cs.RecvMsg(&wrapperspb.Int32Value{}); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
}

// serveListener serves testDesc on l until the test ends.
func serveListener(t *testing.T, l net.Listener) {
	t.Helper()
	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, testDesc())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; err != ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
}

func TestNetPipe(t *testing.T) {
	a, b := net.Pipe()
	serveListener(t, &oneConnListener{conn: b, closed: make(chan struct{})})
	c := NewClient(a)
	defer c.Close()
	exercise(t, c)
}

func TestTLSConn(t *testing.T) {
	cert := selfSigned(t)
	l, err := tls.Listen("unix", socketPath(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, l)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	nc, err := tls.Dial("unix", l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "compat.test"})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc)
	defer c.Close()
	exercise(t, c)
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "compat.test"},
		DNSNames:              []string{"compat.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// oneConnListener hands out one connection, then blocks until closed and
// reports io.EOF (as NRI's connection listener does). Addr is nil.
type oneConnListener struct {
	once   sync.Once
	conn   net.Conn
	closed chan struct{}
	close  sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.conn })
	if c != nil {
		return c, nil
	}
	<-l.closed
	return nil, io.EOF
}

func (l *oneConnListener) Close() error {
	l.close.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return nil }
