// Command ttrpc calls and inspects ttrpc servers from the command line: a
// containerd shim, a Kata agent in a VM, an NRI plugin, or any server of
// ttrpc-go, containerd/ttrpc or ttrpc-rust.
//
//	ttrpc list ADDRESS [SERVICE]
//	ttrpc describe ADDRESS SYMBOL
//	ttrpc call ADDRESS SERVICE/METHOD [-d JSON | -d @FILE | -d @-]
//
// ADDRESS is any form ttrpc.Dial accepts: unix:///path, a plain path,
// unix://@abstract, vsock://CID:PORT, hvsock:///path/to/vmm.sock:PORT or
// tcp://host:port.
//
// list prints the services a server serves, or the methods of one with
// their call shapes; describe prints a service, method, message or enum as
// .proto source; call sends a request written in protobuf JSON and prints
// the answer as protobuf JSON. All four call shapes work: requests of a
// client-streaming or bidirectional call are JSON objects one a line (sent
// as each line arrives with -d @-), and the answers of a server-streaming
// or bidirectional call are printed one a line as they arrive. -H
// key=value (repeatable) sends metadata, --timeout bounds the command and
// travels with the call as its deadline, --max-message-size sets the
// largest message sent or received.
//
// The descriptors of the methods come from the server's reflection service
// (ttrpc.reflection.v1.Reflection, see package
// github.com/ttrpc-go/ttrpc/reflection) or, for a server without it (such
// as every containerd/ttrpc server), from .proto files parsed at run time
// (--proto FILE, repeatable, with -I DIR for imports; no protoc needed) or
// from a FileDescriptorSet (--protoset FILE). Asked to use reflection on a
// server without it, the command says so and that --proto or --protoset is
// needed, and exits 1.
//
// The exit status says what happened: 0 success; 1 the tool failed (cannot
// connect, no reflection and no --proto); 2 bad usage (an unknown flag or
// command, missing arguments, bad JSON, a service or method the
// descriptors do not define, which is found before any call is made); 64
// plus the status code when the call fails, for example 68
// (DeadlineExceeded, also when --timeout passes), 69 (NotFound), 76
// (Unimplemented), 78 (Unavailable, also when the connection closes before
// the call has finished). A failed call is reported on standard error with
// its code name and message:
//
//	ERROR: code = NotFound desc = no such container
//
// The command lives in a module of its own, so that its dependencies never
// reach the users of the library. From a checkout of the repository:
//
//	cd cmd/ttrpc && go install .
package main
