package reflection

import (
	"github.com/ttrpc-go/ttrpc"
	reflectionv1 "github.com/ttrpc-go/ttrpc/reflection/v1"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// ServiceName is the wire name of the reflection service.
const ServiceName = "ttrpc.reflection.v1.Reflection"

// Option configures the reflection service.
type Option func(*service)

// WithResolver adds r to the places descriptors are looked up in, before
// protoregistry.GlobalFiles (which is always searched last). Use it for
// descriptors that code did not register globally, such as gogo's (see
// package reflection/gogofiles) or a set built at run time.
func WithResolver(r protodesc.Resolver) Option {
	return func(s *service) { s.resolvers = append(s.resolvers, r) }
}

// Register registers the reflection service on srv. It describes every
// service registered on srv, before or after this call, whose descriptor
// one of the resolvers has, and lists the others by name. Like
// RegisterService it panics when srv already has the service.
func Register(srv *ttrpc.Server, opts ...Option) {
	s := &service{srv: srv}
	for _, o := range opts {
		o(s)
	}
	s.resolvers = append(s.resolvers, protoregistry.GlobalFiles)
	reflectionv1.RegisterReflectionService(srv, s)
}
