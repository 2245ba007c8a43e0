package ttrpc

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	valid := []struct {
		in    string
		want  Address
		canon string
	}{
		{"unix:///run/x.sock", Address{Scheme: SchemeUnix, Path: "/run/x.sock"}, "unix:///run/x.sock"},
		{"unix://@ttrpc-abstract", Address{Scheme: SchemeUnix, Path: "@ttrpc-abstract"}, "unix://@ttrpc-abstract"},
		{"unix://rel.sock", Address{Scheme: SchemeUnix, Path: "rel.sock"}, "rel.sock"},
		{"/run/x.sock", Address{Scheme: SchemeUnix, Path: "/run/x.sock"}, "unix:///run/x.sock"},
		{"x.sock", Address{Scheme: SchemeUnix, Path: "x.sock"}, "x.sock"},
		{"vsock://3:1024", Address{Scheme: SchemeVsock, CID: 3, Port: 1024}, "vsock://3:1024"},
		{"vsock://-1:1024", Address{Scheme: SchemeVsock, CID: VsockCIDAny, Port: 1024}, "vsock://-1:1024"},
		{"hvsock:///run/vm/kata.hvsock:1024", Address{Scheme: SchemeHvsock, Path: "/run/vm/kata.hvsock", Port: 1024}, "hvsock:///run/vm/kata.hvsock:1024"},
		{"hvsock:///a:b/c:7", Address{Scheme: SchemeHvsock, Path: "/a:b/c", Port: 7}, "hvsock:///a:b/c:7"},
		{"tcp://127.0.0.1:8080", Address{Scheme: SchemeTCP, HostPort: "127.0.0.1:8080"}, "tcp://127.0.0.1:8080"},
		{"tcp://[::1]:8080", Address{Scheme: SchemeTCP, HostPort: "[::1]:8080"}, "tcp://[::1]:8080"},
		{"tcp://:8080", Address{Scheme: SchemeTCP, HostPort: ":8080"}, "tcp://:8080"},
	}
	for _, tc := range valid {
		got, err := ParseAddress(tc.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseAddress(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if s := got.String(); s != tc.canon {
			t.Errorf("ParseAddress(%q).String() = %q, want %q", tc.in, s, tc.canon)
		}
		if again, err := ParseAddress(got.String()); err != nil || again != got {
			t.Errorf("ParseAddress(%q) does not round-trip: %+v, %v", got.String(), again, err)
		}
	}

	malformed := []string{
		"",
		"unix://",
		"unix://@",
		"http://example.com",
		"vsock://3",
		"vsock://x:1024",
		"vsock://-2:1024",
		"vsock://3:-1",
		"vsock://3:4294967295",
		"vsock://4294967296:1",
		"vsock://3:port",
		"hvsock:///run/x.sock",
		"hvsock://:1024",
		"hvsock:///run/x.sock:abc",
		"tcp://localhost",
		"tcp://localhost:",
	}
	for _, in := range malformed {
		if a, err := ParseAddress(in); !errors.Is(err, ErrMalformedAddress) {
			t.Errorf("ParseAddress(%q) = %+v, %v; want ErrMalformedAddress", in, a, err)
		}
	}
}

func TestDialRejectsMalformedAndAnyCID(t *testing.T) {
	for _, in := range []string{"ftp://x", "vsock://-1:1024", "tcp://nohost"} {
		if _, err := DialConn(t.Context(), in); !errors.Is(err, ErrMalformedAddress) {
			t.Errorf("DialConn(%q) = %v, want ErrMalformedAddress", in, err)
		}
		if _, err := Dial(t.Context(), in); !errors.Is(err, ErrMalformedAddress) {
			t.Errorf("Dial(%q) = %v, want ErrMalformedAddress", in, err)
		}
	}
	if _, err := Listen("ftp://x"); !errors.Is(err, ErrMalformedAddress) {
		t.Errorf("Listen(ftp://x) = %v, want ErrMalformedAddress", err)
	}
	if _, err := Listen("hvsock:///run/x.sock:1"); !errors.Is(err, ErrListenUnsupported) {
		t.Errorf("Listen(hvsock) = %v, want ErrListenUnsupported", err)
	}
}
