package ttrpc

import (
	"maps"
	"slices"
)

// ServiceNames returns the full names of the services registered on the
// server, sorted. Tools such as the reflection service use it to say what
// the server serves; it never fails.
func (s *Server) ServiceNames() []string {
	return slices.Sorted(maps.Keys(s.services.load()))
}

// ServiceMethods returns the sorted names of the methods (unary and
// streaming) registered for the service called name, and false when no
// such service is registered.
func (s *Server) ServiceMethods(name string) ([]string, bool) {
	methods, ok := s.services.load()[name]
	if !ok {
		return nil, false
	}
	return slices.Sorted(maps.Keys(methods)), true
}
