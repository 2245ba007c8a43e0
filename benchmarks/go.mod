module github.com/ttrpc-go/ttrpc/benchmarks

go 1.25.0

replace github.com/ttrpc-go/ttrpc => ../

require (
	github.com/containerd/ttrpc v1.2.10
	github.com/ttrpc-go/ttrpc v0.0.0-00010101000000-000000000000
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/containerd/log v0.1.0 // indirect
	github.com/sirupsen/logrus v1.9.4 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260706201446-f0a921348800 // indirect
)
