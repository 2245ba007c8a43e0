package otelttrpc

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/semconv/v1.40.0/rpcconv"
	"go.opentelemetry.io/otel/trace"
)

// Option configures ClientOptions, ServerOptions and the interceptor
// constructors.
type Option func(*options)

type options struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator
	messageEvents  bool
	// samplerAttributes: see WithSamplerAttributes.
	samplerAttributes bool
}

// WithTracerProvider sets the provider of the tracer (default: the global
// one, otel.GetTracerProvider, as it is when the option list is applied).
// A nil provider keeps the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) {
		if tp != nil {
			o.tracerProvider = tp
		}
	}
}

// WithMeterProvider sets the provider of the meter (default: the global
// one, otel.GetMeterProvider). A nil provider keeps the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) {
		if mp != nil {
			o.meterProvider = mp
		}
	}
}

// WithPropagators sets how the trace context travels in call metadata
// (default: propagation.TraceContext, W3C traceparent and tracestate). Pass
// otel.GetTextMapPropagator() to use the global propagator. A nil
// propagator keeps the default.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(o *options) {
		if p != nil {
			o.propagator = p
		}
	}
}

// WithMessageEvents switches the per-message span events of streams on
// (the default) or off. Message counts are recorded as span attributes
// either way.
func WithMessageEvents(on bool) Option {
	return func(o *options) { o.messageEvents = on }
}

// WithSamplerAttributes hands a span's rpc.system.name and rpc.method
// attributes to the sampler, at the span's start, as the OpenTelemetry
// specification advises for attributes known then (default off). Without
// it the sampler sees the span's name, which is rpc.method itself, and its
// kind; a span the sampler records gets the attributes right after its
// start, and a span it drops costs nothing for them. Turn it on for a
// sampler that decides from attributes: it costs an allocation on every
// call, recorded or not.
func WithSamplerAttributes(on bool) Option {
	return func(o *options) { o.samplerAttributes = on }
}

// durationBuckets are the histogram boundaries in seconds: the conventions'
// advice (5 ms to 10 s) extended below, where most ttrpc calls fall.
var durationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
}

// instruments is what one side's interceptors record with.
type instruments struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	// traceContext says propagator is the W3C one, whose injection into
	// a unary request has a faster path (injectTraceparent).
	traceContext  bool
	duration      metric.Float64Histogram
	messageEvents bool
	// samplerAttributes: see WithSamplerAttributes.
	samplerAttributes bool
	methods           *methodCache
}

// side tells the two ends of a call apart.
type side int

const (
	sideClient side = iota
	sideServer
)

func newOptions(opts []Option) options {
	o := options{
		tracerProvider: otel.GetTracerProvider(),
		meterProvider:  otel.GetMeterProvider(),
		propagator:     propagation.TraceContext{},
		messageEvents:  true,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// newInstruments builds one side's tracer and histogram. A histogram the
// meter refuses is reported to otel.Handle and replaced by a no-op one, so
// instrumentation never breaks calls.
func newInstruments(o options, s side) *instruments {
	tracer := o.tracerProvider.Tracer(ScopeName,
		trace.WithInstrumentationVersion(Version()),
		trace.WithSchemaURL(semconv.SchemaURL))
	meter := o.meterProvider.Meter(ScopeName,
		metric.WithInstrumentationVersion(Version()),
		metric.WithSchemaURL(semconv.SchemaURL))
	bounds := metric.WithExplicitBucketBoundaries(durationBuckets...)
	var hist metric.Float64Histogram
	var err error
	if s == sideClient {
		var h rpcconv.ClientCallDuration
		h, err = rpcconv.NewClientCallDuration(meter, bounds)
		hist = h.Inst()
	} else {
		var h rpcconv.ServerCallDuration
		h, err = rpcconv.NewServerCallDuration(meter, bounds)
		hist = h.Inst()
	}
	if err != nil {
		otel.Handle(err)
	}
	return &instruments{
		tracer:            tracer,
		propagator:        o.propagator,
		traceContext:      isTraceContext(o.propagator),
		duration:          hist,
		messageEvents:     o.messageEvents,
		samplerAttributes: o.samplerAttributes,
		methods:           newMethodCache(s, o.samplerAttributes),
	}
}

// isTraceContext reports whether p is propagation.TraceContext itself.
func isTraceContext(p propagation.TextMapPropagator) bool {
	_, ok := p.(propagation.TraceContext)
	return ok
}
