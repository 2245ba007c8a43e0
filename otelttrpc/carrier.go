package otelttrpc

import (
	"context"
	"encoding/hex"
	"strings"
	"unsafe"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

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

// traceparentLen is the length of a version 00 traceparent value:
// "00-" trace id "-" span id "-" flags, in lower-case hex.
const traceparentLen = 2 + 1 + 32 + 1 + 16 + 1 + 2

// traceparentEntry is a metadata list holding one traceparent entry, its
// value's bytes included: one allocation for what would otherwise take
// two (the value, built by propagation.TraceContext, and the entry).
type traceparentEntry struct {
	kv    ttrpc.KeyValue
	list  [1]*ttrpc.KeyValue
	value [traceparentLen]byte
}

// injectTraceparent does what propagation.TraceContext's Inject does to a
// request without metadata of its own, for a span context without trace
// state: it sets traceparent to sc (nothing for an invalid sc). It reports
// false, doing nothing, for the other requests and span contexts, which the
// propagator handles.
func injectTraceparent(sc trace.SpanContext, r *ttrpc.Request) bool {
	if !sc.IsValid() {
		return true
	}
	if len(r.Metadata) != 0 || sc.TraceState().Len() != 0 {
		return false
	}
	e := &traceparentEntry{}
	v := e.value[:0]
	v = append(v, "00-"...)
	tid, sid := sc.TraceID(), sc.SpanID()
	v = hex.AppendEncode(v, tid[:])
	v = append(v, '-')
	v = hex.AppendEncode(v, sid[:])
	v = append(v, '-')
	// Only the flags the W3C format defines travel: sampled and random.
	v = hex.AppendEncode(v, []byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))})
	// The bytes are written once, above, and never again: the string can
	// alias them.
	e.kv.Key, e.kv.Value = traceparentKey, unsafe.String(&e.value[0], len(v))
	e.list[0] = &e.kv
	r.Metadata = e.list[:]
	return true
}

// traceparentKey is the metadata key of the W3C trace context.
const traceparentKey = "traceparent"

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
func (in *instruments) extract(ctx context.Context) context.Context {
	if in.traceContext {
		// Two keys read where the call's metadata arrived: no MD is built
		// for them (ttrpc.GetMetadataValue).
		if sc := parseTraceContext(ctxMetadata{ctx}); sc.IsValid() {
			return &remoteParent{Context: ctx, sc: sc}
		}
		return ctx
	}
	md, _ := ttrpc.GetMetadata(ctx)
	return in.propagator.Extract(ctx, mdCarrier(md))
}

// ctxMetadata reads the first value of a key of a context's metadata.
type ctxMetadata struct{ ctx context.Context }

func (g ctxMetadata) get(key string) string {
	v, _ := ttrpc.GetMetadataValue(g.ctx, key)
	return v
}

// tracestateKey is the metadata key of the W3C trace state.
const tracestateKey = "tracestate"

// parseTraceContext returns the span context that propagation.TraceContext
// extracts from the metadata md reads, accepting and refusing exactly what it does, without
// going through a carrier: an invalid one when md has none or a malformed
// one. The W3C format: "vv-<32 hex trace id>-<16 hex span id>-ff" in lower
// case, version ff refused, version 00 with nothing after the flags (but
// one "-", which the propagator lets pass) and no flag but sampled and
// random; later versions may add fields after a "-".
func parseTraceContext[M interface{ get(key string) string }](md M) trace.SpanContext {
	h := md.get(traceparentKey)
	// The fields are at fixed offsets: 2, 32, 16 and 2 hex digits, each
	// followed by "-" (optional after the flags).
	if len(h) < traceparentLen || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return trace.SpanContext{}
	}
	var ver, flags [1]byte
	var cfg trace.SpanContextConfig
	if !decodeHex(ver[:], h[0:2]) || ver[0] == 0xff ||
		!decodeHex(cfg.TraceID[:], h[3:35]) || !decodeHex(cfg.SpanID[:], h[36:52]) || !decodeHex(flags[:], h[53:55]) {
		return trace.SpanContext{}
	}
	rest := h[traceparentLen:]
	if rest != "" {
		if rest[0] != '-' {
			return trace.SpanContext{} // flags longer than 2 digits
		}
		rest = rest[1:]
	}
	if ver[0] == 0 && (rest != "" || flags[0] > 3) {
		return trace.SpanContext{}
	}
	cfg.TraceFlags = trace.TraceFlags(flags[0]) & (trace.FlagsSampled | trace.FlagsRandom)
	if v := md.get(tracestateKey); v != "" {
		// A malformed trace state is dropped, the trace kept, as the
		// W3C specification (and the propagator) want.
		cfg.TraceState, _ = trace.ParseTraceState(v)
	}
	cfg.Remote = true
	sc := trace.NewSpanContext(cfg)
	if !sc.IsValid() {
		return trace.SpanContext{}
	}
	return sc
}

// decodeHex decodes s, 2*len(dst) lower-case hex digits, into dst. It
// reports false for any other character.
func decodeHex(dst []byte, s string) bool {
	for i := range dst {
		hi, lo := hexValue[s[2*i]], hexValue[s[2*i+1]]
		if hi|lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// hexValue maps a lower-case hex digit to its value, anything else to
// 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

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

// remoteParent is what trace.ContextWithRemoteSpanContext(ctx, sc)
// returns, in one allocation instead of two (the span and the context):
// it is both the context and its current span, a non-recording one that
// only carries sc.
type remoteParent struct {
	context.Context
	noop.Span
	sc trace.SpanContext // remote, as parseTraceContext makes it
}

// SpanContext returns the remote span context.
func (p *remoteParent) SpanContext() trace.SpanContext { return p.sc }

// Value returns p itself, as a trace.Span, for the key the trace package
// keeps the current span under, and the parent's values for other keys.
func (p *remoteParent) Value(key any) any {
	if spanKeyProbe.Value(key) != nil {
		return trace.Span(p)
	}
	return p.Context.Value(key)
}

// spanKeyProbe answers only for the trace package's (unexported) key of
// the current span: remoteParent asks it which key that is.
var spanKeyProbe = trace.ContextWithSpanContext(context.Background(), trace.SpanContext{})
