package ttrpc

import (
	"context"
	"fmt"
	"path"
	"sync"
	"sync/atomic"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
)

// Method handles a unary call: it decodes the request with unmarshal and
// returns the response message or an error (sent to the caller as a status).
type Method func(ctx context.Context, unmarshal func(any) error) (any, error)

// StreamHandler handles a streaming call over stream. For a call whose
// server side does not stream, the returned message is the single response;
// otherwise it should be nil. A returned error ends the call with a status.
type StreamHandler func(context.Context, StreamServer) (any, error)

// Stream describes a streaming method: its handler and which sides stream.
type Stream struct {
	Handler         StreamHandler
	StreamingClient bool
	StreamingServer bool
}

// ServiceDesc lists a service's unary methods and streaming methods by
// their wire names. A name present in both is served as unary.
type ServiceDesc struct {
	Methods map[string]Method
	Streams map[string]Stream
}

// methodEntry is a registered method, resolved once at registration.
type methodEntry struct {
	fullMethod string // "/service/method", as interceptors see it
	unary      Method
	stream     Stream // used when unary is nil
}

// serviceSet is the registry one side of a connection serves. Lookups read
// an immutable snapshot without locking; registration copies it.
type serviceSet struct {
	mu       sync.Mutex // serialises writers
	snapshot atomic.Pointer[map[string]map[string]*methodEntry]
}

// register adds a service; it panics on a duplicate name, as registering
// one twice is a programming error.
func (s *serviceSet) register(name string, desc *ServiceDesc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.load()
	if _, ok := old[name]; ok {
		panic(fmt.Sprintf("ttrpc: duplicate service %s registered", name))
	}
	methods := make(map[string]*methodEntry, len(desc.Methods)+len(desc.Streams))
	for m, st := range desc.Streams {
		methods[m] = &methodEntry{fullMethod: fullMethodName(name, m), stream: st}
	}
	for m, h := range desc.Methods {
		methods[m] = &methodEntry{fullMethod: fullMethodName(name, m), unary: h}
	}
	next := make(map[string]map[string]*methodEntry, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = methods
	s.snapshot.Store(&next)
}

func (s *serviceSet) load() map[string]map[string]*methodEntry {
	if p := s.snapshot.Load(); p != nil {
		return *p
	}
	return nil
}

// lookup finds a method; the byte slices are converted without allocating.
// It returns the Unimplemented status a caller gets for unknown names,
// quoting at most a short prefix of them.
func (s *serviceSet) lookup(service, method []byte) (*methodEntry, *spb.Status) {
	methods, ok := s.load()[string(service)]
	if !ok {
		return nil, refusal(codes.Unimplemented, "service %s", service)
	}
	m, ok := methods[string(method)]
	if !ok {
		return nil, refusal(codes.Unimplemented, "method %s", method)
	}
	return m, nil
}

// any reports whether anything is registered.
func (s *serviceSet) any() bool { return len(s.load()) > 0 }

func fullMethodName(service, method string) string {
	return "/" + path.Join(service, method)
}
