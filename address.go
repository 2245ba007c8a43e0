package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

// Errors of address parsing and dialling. Dial, DialConn, Listen and
// ParseAddress wrap them with the address and the details, so match them
// with errors.Is.
var (
	// ErrMalformedAddress is wrapped by the error for an address that does
	// not parse: an unknown scheme, a missing path, a bad CID or port.
	ErrMalformedAddress = errors.New("ttrpc: malformed address")

	// ErrHybridVsockRefused is wrapped by the error for a hybrid vsock
	// proxy that answered the CONNECT request with anything but "OK ...",
	// or closed the connection instead of answering.
	ErrHybridVsockRefused = errors.New("ttrpc: hybrid vsock connection refused")

	// ErrListenUnsupported is wrapped by Listen's error for an address form
	// that can only be dialled (hybrid vsock: the proxy belongs to the VMM).
	ErrListenUnsupported = errors.New("ttrpc: cannot listen on this kind of address")
)

// Address schemes ParseAddress understands.
const (
	SchemeUnix   = "unix"   // unix:///path, unix://@abstract or a plain path
	SchemeVsock  = "vsock"  // vsock://CID:PORT
	SchemeHvsock = "hvsock" // hvsock:///path/to/uds:PORT (hybrid vsock)
	SchemeTCP    = "tcp"    // tcp://host:port
)

// VsockCIDAny is the CID written -1 in a vsock address: listen on every
// CID of the machine (VMADDR_CID_ANY). It cannot be dialled.
const VsockCIDAny = math.MaxUint32

// Address is a parsed endpoint address. Which fields are set depends on
// Scheme: Path for unix and hvsock, CID and Port for vsock, Port for
// hvsock, HostPort for tcp.
type Address struct {
	Scheme   string
	Path     string // unix socket path; a leading '@' names an abstract socket
	CID      uint32 // vsock context id; VsockCIDAny for -1
	Port     uint32 // vsock or hybrid vsock port
	HostPort string // tcp "host:port"
}

// String returns the address in the canonical form ParseAddress accepts.
func (a Address) String() string {
	switch a.Scheme {
	case SchemeUnix:
		if strings.HasPrefix(a.Path, "@") || strings.HasPrefix(a.Path, "/") {
			return "unix://" + a.Path
		}
		return a.Path
	case SchemeVsock:
		cid := strconv.FormatUint(uint64(a.CID), 10)
		if a.CID == VsockCIDAny {
			cid = "-1"
		}
		return "vsock://" + cid + ":" + strconv.FormatUint(uint64(a.Port), 10)
	case SchemeHvsock:
		return "hvsock://" + a.Path + ":" + strconv.FormatUint(uint64(a.Port), 10)
	case SchemeTCP:
		return "tcp://" + a.HostPort
	}
	return a.Scheme + "://?"
}

// ParseAddress parses the address forms used across the ttrpc ecosystem:
//
//	unix:///run/x.sock     unix socket at a path
//	unix://@name           abstract unix socket (ttrpc-rust's form)
//	/run/x.sock, x.sock    a plain path is a unix socket
//	vsock://CID:PORT       AF_VSOCK; CID -1 means any (only for Listen)
//	hvsock:///uds:PORT     hybrid vsock through a VMM's unix socket
//	tcp://host:port        TCP
//
// It returns an error wrapping ErrMalformedAddress when address fits none
// of them.
func ParseAddress(address string) (Address, error) {
	scheme, rest, ok := strings.Cut(address, "://")
	if !ok {
		if address == "" {
			return Address{}, malformedAddress(address, "empty address")
		}
		return Address{Scheme: SchemeUnix, Path: address}, nil
	}
	switch scheme {
	case SchemeUnix:
		if rest == "" || rest == "@" {
			return Address{}, malformedAddress(address, "missing socket path")
		}
		return Address{Scheme: SchemeUnix, Path: rest}, nil
	case SchemeVsock:
		cidText, portText, ok := strings.Cut(rest, ":")
		if !ok {
			return Address{}, malformedAddress(address, "want vsock://CID:PORT")
		}
		cid, err := parseCID(cidText)
		if err != nil {
			return Address{}, malformedAddress(address, err.Error())
		}
		port, err := parsePort(portText)
		if err != nil {
			return Address{}, malformedAddress(address, err.Error())
		}
		return Address{Scheme: SchemeVsock, CID: cid, Port: port}, nil
	case SchemeHvsock:
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return Address{}, malformedAddress(address, "want hvsock:///path/to/socket:PORT")
		}
		if i == 0 {
			return Address{}, malformedAddress(address, "missing socket path")
		}
		port, err := parsePort(rest[i+1:])
		if err != nil {
			return Address{}, malformedAddress(address, err.Error())
		}
		return Address{Scheme: SchemeHvsock, Path: rest[:i], Port: port}, nil
	case SchemeTCP:
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return Address{}, malformedAddress(address, err.Error())
		}
		if port == "" {
			return Address{}, malformedAddress(address, "missing port")
		}
		return Address{Scheme: SchemeTCP, HostPort: net.JoinHostPort(host, port)}, nil
	}
	return Address{}, malformedAddress(address, fmt.Sprintf("unknown scheme %q (want unix, vsock, hvsock or tcp)", scheme))
}

func parseCID(s string) (uint32, error) {
	if s == "-1" {
		return VsockCIDAny, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad CID %q (want a number or -1)", s)
	}
	return uint32(v), nil
}

func parsePort(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v == math.MaxUint32 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint32(v), nil
}

func malformedAddress(address, why string) error {
	return fmt.Errorf("%w %q: %s", ErrMalformedAddress, address, why)
}

// Dial connects to address (any form ParseAddress accepts) and returns a
// client on the connection, configured by opts. ctx bounds the connection
// set-up, including a hybrid vsock handshake, not the client's lifetime.
// It returns the error of ParseAddress or DialConn.
func Dial(ctx context.Context, address string, opts ...ClientOpts) (*Client, error) {
	nc, err := DialConn(ctx, address)
	if err != nil {
		return nil, err
	}
	return NewClient(nc, opts...), nil
}

// DialConn connects to address (any form ParseAddress accepts) and returns
// the raw connection, ready for NewClient; for hybrid vsock the CONNECT
// handshake is done. ctx's deadline and cancellation bound every step. It
// returns an error wrapping ErrMalformedAddress for an address that does
// not parse, ErrHybridVsockRefused for a hybrid vsock proxy that refused,
// the dial error (matching syscall.ECONNREFUSED, for one) when the
// connection fails, and ctx's error when ctx ends first.
func DialConn(ctx context.Context, address string) (net.Conn, error) {
	a, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	nc, err := a.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("ttrpc: dial %s: %w", address, err)
	}
	return nc, nil
}

func (a Address) dial(ctx context.Context) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var d net.Dialer
	switch a.Scheme {
	case SchemeUnix:
		return d.DialContext(ctx, "unix", a.Path)
	case SchemeTCP:
		return d.DialContext(ctx, "tcp", a.HostPort)
	case SchemeVsock:
		if a.CID == VsockCIDAny {
			return nil, fmt.Errorf("%w: CID -1 (any) can only be listened on", ErrMalformedAddress)
		}
		return dialVsock(ctx, a.CID, a.Port)
	case SchemeHvsock:
		return dialHybridVsock(ctx, a.Path, a.Port)
	}
	return nil, fmt.Errorf("%w: unknown scheme %q", ErrMalformedAddress, a.Scheme)
}

// Listen listens on address: a unix socket (path or abstract), a vsock
// CID and port (-1 for any CID), or a TCP host and port. A unix socket
// file already at the path is not removed: Listen fails instead. It returns
// an error wrapping ErrMalformedAddress for an address that does not
// parse, ErrListenUnsupported for a hybrid vsock address, and otherwise the
// system's error.
func Listen(address string) (net.Listener, error) {
	a, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	var l net.Listener
	switch a.Scheme {
	case SchemeUnix:
		l, err = net.Listen("unix", a.Path)
	case SchemeTCP:
		l, err = net.Listen("tcp", a.HostPort)
	case SchemeVsock:
		l, err = listenVsock(a.CID, a.Port)
	case SchemeHvsock:
		err = fmt.Errorf("%w: hybrid vsock is dialled through the VMM's socket", ErrListenUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("ttrpc: listen %s: %w", address, err)
	}
	return l, nil
}
