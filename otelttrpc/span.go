package otelttrpc

import (
	"context"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ttrpc-go/ttrpc/codes"
)

// finish ends a call's span with its outcome and records its duration
// since start (nothing for a zero start, see startTime). msg describes a
// failure for the span status.
func (in *instruments) finish(ctx context.Context, span trace.Span, m *method, start time.Time, code codes.Code, msg string) {
	if span.IsRecording() {
		name := codeName(code)
		if failed(m.side, code) {
			span.SetAttributes(semconv.RPCResponseStatusCode(name), semconv.ErrorTypeKey.String(name))
			span.SetStatus(otelcodes.Error, msg)
		} else {
			span.SetAttributes(semconv.RPCResponseStatusCode(name))
		}
	}
	span.End()
	if !start.IsZero() && in.duration.Enabled(ctx) {
		in.duration.Record(ctx, time.Since(start).Seconds(), m.measurement(code)...)
	}
}

// start starts the span of a call of m. Its attributes go to the sampler
// only when WithSamplerAttributes asked for it; otherwise a span that
// records gets them right after it started, and one that does not (the
// sampler said no) never costs their copy.
func (in *instruments) start(ctx context.Context, m *method) (context.Context, trace.Span) {
	ctx, span := in.tracer.Start(ctx, m.name, m.startOpts...)
	if !in.samplerAttributes && span.IsRecording() {
		span.SetAttributes(m.attrs...)
	}
	return ctx, span
}

// startTime returns the time a call starts, or the zero time when the
// duration histogram records nothing (a no-op meter, or no reader wants
// it): the span keeps its own times, and reading the clock costs.
func (in *instruments) startTime(ctx context.Context) time.Time {
	if in.duration.Enabled(ctx) {
		return time.Now()
	}
	return time.Time{}
}
