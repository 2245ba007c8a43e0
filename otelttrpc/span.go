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

// startTime returns the time a call starts, or the zero time when the
// duration histogram records nothing (a no-op meter, or no reader wants
// it): the span keeps its own times, and reading the clock costs.
func (in *instruments) startTime(ctx context.Context) time.Time {
	if in.duration.Enabled(ctx) {
		return time.Now()
	}
	return time.Time{}
}
