// Package otelttrpc instruments ttrpc-go clients and servers with
// OpenTelemetry traces and metrics.
//
// ClientOptions and ServerOptions each return the ttrpc options that install
// every interceptor of one side: unary and streaming calls, in both
// directions of a connection. ServerOptions also instruments the clients
// that PeerClient returns in the server's handlers, and ClientOptions also
// instruments the services a client serves to its server (see
// ttrpc.Client.RegisterService), so calls from the server back to the
// client are traced like any other.
//
// # Semantic conventions
//
// Spans and metrics follow the OpenTelemetry RPC semantic conventions
// v1.40.0 (go.opentelemetry.io/otel/semconv/v1.40.0), the stable RPC
// conventions, with ttrpc status codes classified as gRPC's:
//
//   - Span name "service/method", kind CLIENT or SERVER, attributes
//     rpc.system.name "ttrpc", rpc.method "service/method" (fully
//     qualified) and rpc.response.status_code (the code's canonical name:
//     "OK", "NOT_FOUND", "DEADLINE_EXCEEDED", ...).
//   - A failed call has error.type set to that code name and span status
//     Error. On the client every code but OK is a failure; on the server
//     only UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE
//     and DATA_LOSS are (the others are the caller's fault, and still
//     recorded in rpc.response.status_code).
//   - Histograms rpc.client.call.duration and rpc.server.call.duration, in
//     seconds, with rpc.system.name, rpc.method, rpc.response.status_code
//     and error.type. Their bucket boundaries start at 100 µs, since local
//     ttrpc calls take tens of microseconds.
//   - A stream's span and duration cover the whole stream, from opening it
//     to its end (the client's last RecvMsg, or the handler's return). The
//     span gets the attributes ttrpc.messages.sent and
//     ttrpc.messages.received, and one "message" event per message
//     (rpc.message.type SENT or RECEIVED, rpc.message.id counting from 1)
//     unless WithMessageEvents(false) switches events off.
//   - Client spans name the server: server.address is the socket path of
//     a unix socket (or the host, with server.port, for TCP), from the
//     connection's peer address (ttrpc.UnaryClientInfo.RemoteAddr). A
//     server's PeerClient calling back its client sees an unnamed socket
//     and sets neither.
//   - Server spans of connections whose handshaker returned unix peer
//     credentials (ttrpc.UnixSocketRequireSameUser and the like) get
//     ttrpc.peer.uid, ttrpc.peer.gid and ttrpc.peer.pid. These, like the
//     message counts, are ttrpc-specific attributes: the conventions define
//     none for them.
//
// Calls of a service or method the server does not have are answered
// UNIMPLEMENTED by ttrpc before any interceptor runs: they get no server
// span or measurement (the caller's client span and duration record the
// code).
//
// # Propagation
//
// The trace context travels in the call's ttrpc metadata, W3C traceparent
// and tracestate by default (any propagation.TextMapPropagator with
// WithPropagators). That is what containerd/otelttrpc sends and reads, so a
// trace continues across a containerd/otelttrpc peer in either direction.
//
// A client stream's span ends when RecvMsg returns its end (io.EOF or an
// error; for calls whose server does not stream, the single response), or
// when the stream's context ends. A stream abandoned without either is
// never ended: cancel the context of streams you stop reading.
//
// # Cost
//
// BenchmarkUnary measures a unary call over a unix socket with both ends
// instrumented. With tracing sampled off and a no-op meter it makes 15
// allocations against 6 uninstrumented. 6 are the interceptors': the
// OpenTelemetry SDK's span and context on each side (what Tracer.Start
// allocates for a span it does not record), the traceparent entry the
// client sends and the remote parent the server continues. 2 are the
// library's intercepted call path and 1 the server's copy of the call's
// metadata. Reading the traceparent builds no metadata map
// (ttrpc.GetMetadataValue), and a span's start attributes are set only
// when it records, unless WithSamplerAttributes hands them to the
// sampler, at one allocation more per side. BenchmarkInterceptors
// measures the interceptors alone, without the transport. The README
// quotes the times.
package otelttrpc
