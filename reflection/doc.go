// Package reflection serves and reads ttrpc server reflection: the
// ttrpc.reflection.v1.Reflection service (reflection/v1/reflection.proto,
// specified in PROTOCOL.md under "Extension: server reflection"), through
// which a client learns which services a server serves and gets the
// protobuf descriptors that describe them. Generic tools, such as the
// ttrpc command, then call any method without the .proto files.
//
// Reflection is opt-in: a server offers it after Register. The descriptors
// come from the code that defined the services: protoc-gen-go code
// registers them in protoregistry.GlobalFiles, which is always searched;
// gogo-generated code keeps them in gogo's own registry, which
// reflection/gogofiles turns into a resolver for WithResolver. Only the files of the services
// registered on the server, and the files they import, are ever served.
//
// Servers that do not offer reflection, containerd/ttrpc's among them,
// answer Unimplemented; Client reports that as ErrNotServed.
package reflection
