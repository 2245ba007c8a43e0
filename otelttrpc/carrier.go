package otelttrpc

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"

	"github.com/ttrpc-go/ttrpc"
)

// requestCarrier writes propagation fields straight into a unary request's
// metadata entries, which the client has already copied from the context:
// no map is built or cloned per call.
type requestCarrier ttrpc.Request

var _ propagation.TextMapCarrier = (*requestCarrier)(nil)

// Get returns the first value of key, or "".
func (r *requestCarrier) Get(key string) string {
	key = strings.ToLower(key)
	for _, kv := range r.Metadata {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// Set replaces every value of key with value. The entries are filtered
// into a new slice, never modified in place, since an earlier interceptor
// may share them.
func (r *requestCarrier) Set(key, value string) {
	key = strings.ToLower(key)
	for i, kv := range r.Metadata {
		if kv.Key != key {
			continue
		}
		kept := make([]*ttrpc.KeyValue, i, len(r.Metadata))
		copy(kept, r.Metadata[:i])
		for _, kv := range r.Metadata[i+1:] {
			if kv.Key != key {
				kept = append(kept, kv)
			}
		}
		r.Metadata = kept
		break
	}
	if len(r.Metadata) == 0 {
		// The common case, a call without metadata of its own: one
		// allocation holds both the entry and the slice.
		b := &singleEntry{}
		b.kv.Key, b.kv.Value = key, value
		b.list[0] = &b.kv
		r.Metadata = b.list[:]
		return
	}
	r.Metadata = append(r.Metadata, &ttrpc.KeyValue{Key: key, Value: value})
}

// singleEntry is a metadata list of one entry, allocated at once.
type singleEntry struct {
	kv   ttrpc.KeyValue
	list [1]*ttrpc.KeyValue
}

// Keys returns the metadata keys, duplicates included.
func (r *requestCarrier) Keys() []string {
	keys := make([]string, 0, len(r.Metadata))
	for _, kv := range r.Metadata {
		keys = append(keys, kv.Key)
	}
	return keys
}

// mdCarrier reads and writes ttrpc metadata.
type mdCarrier ttrpc.MD

var _ propagation.TextMapCarrier = mdCarrier(nil)

// Get returns the first value of key, or "".
func (m mdCarrier) Get(key string) string {
	if v, ok := ttrpc.MD(m).Get(key); ok {
		return v[0]
	}
	return ""
}

// Set replaces the values of key with value.
func (m mdCarrier) Set(key, value string) { ttrpc.MD(m).Set(key, value) }

// Keys returns the metadata keys.
func (m mdCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// extract returns ctx with the remote span context found in the metadata
// of the call ctx belongs to.
func extract(ctx context.Context, p propagation.TextMapPropagator) context.Context {
	md, _ := ttrpc.GetMetadata(ctx)
	return p.Extract(ctx, mdCarrier(md))
}

// injectContext returns ctx with metadata that carries ctx's span context,
// for a stream about to be opened. The caller's metadata is cloned, never
// modified: it may be shared.
func injectContext(ctx context.Context, p propagation.TextMapPropagator) context.Context {
	md, ok := ttrpc.GetMetadata(ctx)
	if ok {
		md = md.Clone()
	} else {
		md = ttrpc.MD{}
	}
	p.Inject(ctx, mdCarrier(md))
	return ttrpc.WithMetadata(ctx, md)
}
