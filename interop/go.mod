module github.com/ttrpc-go/ttrpc/interop

go 1.25.0

require (
	github.com/containerd/containerd/api v1.12.0
	github.com/containerd/log v0.1.0
	github.com/containerd/ttrpc v1.2.10
	github.com/ttrpc-go/ttrpc v0.0.0-00010101000000-000000000000
	github.com/ttrpc-go/ttrpc/grpcstatus v0.0.0-00010101000000-000000000000
	google.golang.org/grpc v1.81.1
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/opencontainers/image-spec v1.1.1 // indirect
	github.com/sirupsen/logrus v1.10.2 // indirect
	golang.org/x/net v0.55.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
	golang.org/x/text v0.37.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260226221140-a57be14db171 // indirect
)

replace github.com/ttrpc-go/ttrpc => ../

replace github.com/ttrpc-go/ttrpc/grpcstatus => ../grpcstatus
