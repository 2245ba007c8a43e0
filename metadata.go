package ttrpc

import (
	"context"
	"strings"
)

// MD is the metadata of a call: keys (lower-cased by the setters) mapped to
// their values. It travels as one KeyValue entry per value. An MD is a plain
// map: clone it before sharing it between goroutines that modify it.
type MD map[string][]string

// Get returns the values stored for key, matched case-insensitively, and
// false when there are none.
func (m MD) Get(key string) ([]string, bool) {
	v, ok := m[strings.ToLower(key)]
	if !ok || len(v) == 0 {
		return nil, false
	}
	return v, true
}

// Set replaces the values of key (lower-cased); with no values the key is
// removed.
func (m MD) Set(key string, values ...string) {
	key = strings.ToLower(key)
	if len(values) == 0 {
		delete(m, key)
		return
	}
	m[key] = values
}

// Append adds values to key (lower-cased); with no values it does nothing.
func (m MD) Append(key string, values ...string) {
	if len(values) == 0 {
		return
	}
	key = strings.ToLower(key)
	m[key] = append(m[key], values...)
}

// Clone returns a deep copy of m (nil for nil). Value slices are copied, so
// the copy can be modified while m is read elsewhere.
func (m MD) Clone() MD {
	if m == nil {
		return nil
	}
	total := 0
	for _, v := range m {
		total += len(v)
	}
	backing := make([]string, 0, total)
	out := make(MD, len(m))
	for k, v := range m {
		if v == nil {
			out[k] = nil
			continue
		}
		start := len(backing)
		backing = append(backing, v...)
		out[k] = backing[start:len(backing):len(backing)]
	}
	return out
}

// toKeyValues flattens m into envelope entries, one per value.
func (m MD) toKeyValues() []*KeyValue {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	if n == 0 {
		return nil
	}
	entries := make([]KeyValue, n)
	out := make([]*KeyValue, 0, n)
	for k, vs := range m {
		for _, v := range vs {
			kv := &entries[len(out)]
			kv.Key, kv.Value = k, v
			out = append(out, kv)
		}
	}
	return out
}

type metadataKey struct{}

// GetMetadata returns the metadata attached to ctx, by WithMetadata or by
// the server for an incoming call, and false when there is none. The MD
// of an incoming call is built the first time it is asked for, and every
// later call returns that same map, changes included.
func GetMetadata(ctx context.Context) (MD, bool) {
	switch md := ctx.Value(metadataKey{}).(type) {
	case MD:
		return md, true
	case *incomingMD:
		return md.get(), true
	}
	return nil, false
}

// GetMetadataValue returns the first value of name in ctx's metadata, and
// false when there is none. For an incoming call whose MD nobody asked for
// yet, it reads the entry where the request's metadata was kept, without
// building the MD or allocating.
func GetMetadataValue(ctx context.Context, name string) (string, bool) {
	var md MD
	switch v := ctx.Value(metadataKey{}).(type) {
	case MD:
		md = v
	case *incomingMD:
		if v, ok, decoded := v.first(name); !decoded {
			return v, ok // found without building the MD
		}
		md = v.get()
	default:
		return "", false
	}
	if v, ok := md.Get(name); ok {
		return v[0], true
	}
	return "", false
}

// WithMetadata returns a context carrying md; calls made with it send md.
// A handler's context already carries the incoming metadata, so calls it
// makes with that context forward it, as in containerd/ttrpc.
func WithMetadata(ctx context.Context, md MD) context.Context {
	return context.WithValue(ctx, metadataKey{}, md)
}
