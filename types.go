package ttrpc

// The envelope types Request, Response, KeyValue and StringList are
// generated from types.proto into types.pb.go (protoc-gen-go), so they are
// ordinary protobuf-go messages, as in containerd/ttrpc. The runtime does
// not marshal them through reflection: envelope.go encodes and decodes the
// same fields by hand.

// File_request_proto is the descriptor of the envelope messages, under the
// name containerd/ttrpc exports it as. Its file path and package differ
// from containerd/ttrpc's, so that both libraries can be linked into one
// binary without a protobuf registry conflict.
var File_request_proto = File_github_com_ttrpc_go_ttrpc_types_proto //nolint:revive // name kept for API compatibility
