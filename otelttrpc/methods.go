package otelttrpc

import (
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ttrpc-go/ttrpc/codes"
)

// systemName is rpc.system.name of every span and measurement.
var systemName = semconv.RPCSystemNameKey.String("ttrpc")

// method holds what a call of one method records that does not change
// from call to call, built once so that a call allocates as little as
// possible: the span name and start options, and the measurement options
// of each status code.
type method struct {
	side      side
	name      string // rpc.method, also the span name
	startOpts []trace.SpanStartOption
	// attrs are the span's attributes known at its start: in startOpts
	// with WithSamplerAttributes, set after the start otherwise.
	attrs []attribute.KeyValue
	// recordOpts[code] is built the first time a call ends with code.
	recordOpts [len(codeNames)]atomic.Pointer[[]metric.RecordOption]
}

// maxCachedMethods bounds the cache: a client can call any name, and
// past this many the extra ones are described afresh on every call.
const maxCachedMethods = 1024

// methodCache maps a full method name ("/service/method") to its method.
// Lookups take no lock: they read an immutable map, which additions copy
// (at most maxCachedMethods times).
type methodCache struct {
	side side
	// samplerAttributes puts the start attributes in startOpts.
	samplerAttributes bool
	mu                sync.Mutex // serialises additions
	entries           atomic.Pointer[map[string]*method]
}

func newMethodCache(s side, samplerAttributes bool) *methodCache {
	return &methodCache{side: s, samplerAttributes: samplerAttributes}
}

// get returns the method of fullMethod, creating it on first use.
func (c *methodCache) get(fullMethod string) *method {
	if p := c.entries.Load(); p != nil {
		if m, ok := (*p)[fullMethod]; ok {
			return m
		}
		if len(*p) >= maxCachedMethods {
			return newMethod(c.side, c.samplerAttributes, fullMethod)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]*method
	if p := c.entries.Load(); p != nil {
		old = *p
	}
	if m, ok := old[fullMethod]; ok {
		return m
	}
	m := newMethod(c.side, c.samplerAttributes, fullMethod)
	if len(old) >= maxCachedMethods {
		return m
	}
	next := make(map[string]*method, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[fullMethod] = m
	c.entries.Store(&next)
	return m
}

func newMethod(s side, samplerAttributes bool, fullMethod string) *method {
	name := strings.TrimPrefix(fullMethod, "/")
	kind := trace.SpanKindClient
	if s == sideServer {
		kind = trace.SpanKindServer
	}
	m := &method{
		side:      s,
		name:      name,
		attrs:     []attribute.KeyValue{systemName, semconv.RPCMethod(name)},
		startOpts: []trace.SpanStartOption{trace.WithSpanKind(kind)},
	}
	if samplerAttributes {
		m.startOpts = append(m.startOpts, trace.WithAttributes(m.attrs...))
	}
	return m
}

// measurement returns the options recording a call that ended with code.
func (m *method) measurement(code codes.Code) []metric.RecordOption {
	if int(code) >= len(m.recordOpts) {
		return m.newMeasurement(code)
	}
	if opts := m.recordOpts[code].Load(); opts != nil {
		return *opts
	}
	opts := m.newMeasurement(code)
	m.recordOpts[code].Store(&opts)
	return opts
}

func (m *method) newMeasurement(code codes.Code) []metric.RecordOption {
	attrs := []attribute.KeyValue{systemName, semconv.RPCMethod(m.name), semconv.RPCResponseStatusCode(codeName(code))}
	if failed(m.side, code) {
		attrs = append(attrs, semconv.ErrorTypeKey.String(codeName(code)))
	}
	return []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
}
