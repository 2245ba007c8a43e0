// Package ttrpc is a small, fast implementation of ttrpc, "gRPC for
// low-memory environments": protobuf services called over a 10-byte
// length-prefixed framing with stream ids, usually on a unix socket, as
// containerd talks to its shims. It is wire-compatible with
// github.com/containerd/ttrpc v1.2 in both directions and keeps its API, so
// code generated for one compiles against the other with only the import
// path changed. PROTOCOL.md in the repository is the wire specification.
//
// # Design
//
// Client and Server sit on one connection engine, in layers: the wire
// (channel.go: frame header and reader; buffer.go: pooled buffers;
// frames.go: frame builders), the transport (writer.go, inbox.go,
// budget.go), the engine (conn.go: life cycle and stream tables;
// readloop.go: routing; worker.go: handlers), the streams (stream.go for
// the caller's end, serverstream.go for the handler's) and the API.
//
// Each connection has a single reader goroutine, which routes every frame
// either to a stream this side opened (a call waiting for its answer) or to
// the serving side, whose handlers run on a small per-connection pool of
// goroutines, at most WithServerMaxConcurrentStreams at once; requests
// beyond that wait their turn. What a connection holds for its peer
// (requests, unread stream messages, unwritten answers) is bounded by its
// budget: past it the reader stops reading until that drains
// (backpressure, never refusal; PROTOCOL.md section 12.1). Frames are built
// whole (header and body) in pooled buffers and written with one write;
// writers never hold a lock across I/O: the first writer to find the
// connection idle writes, writers arriving meanwhile queue behind it and are
// flushed together; a stream message that answers one just received is
// written at once with a write that never waits on the peer, and runs of
// stream messages leave in batches. Which side dialled only decides stream
// id parity (odd for the dialler), so both sides can call and serve.
//
// Any net.Conn carries a connection. One that is not a socket (it does not
// implement syscall.Conn) may deliver each write as one message, as NRI's
// multiplexer does: frames are then written and read cut the way
// containerd/ttrpc cuts them (msgconn.go; PROTOCOL.md section 2.1).
//
// # Messages and errors
//
// Messages may be google.golang.org/protobuf messages or gogo-generated
// ones (through their generated Marshal/Unmarshal/Size methods); the
// package itself does not depend on gogo. Handler errors travel as
// google.rpc.Status; the status and codes packages mirror grpc-go's without
// depending on it, and also recognise grpc-go status errors, so
// status.Code(err) gives the code of any error a call returns.
//
// # Beyond containerd/ttrpc
//
// Metadata and deadlines are sent on streams too; stream interceptors work
// on both sides; the message size limit is configurable; oversized
// messages and handler panics fail one call, never the connection; Shutdown
// lets running calls finish; the handshake result reaches handlers
// (HandshakeResult); logging goes to a Logger (a *slog.Logger will do),
// quiet by default.
package ttrpc
