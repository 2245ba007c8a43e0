module github.com/containerd/ttrpc

go 1.25.0

require (
	github.com/ttrpc-go/ttrpc v0.0.0-00010101000000-000000000000
	github.com/ttrpc-go/ttrpc/grpcstatus v0.0.0-00010101000000-000000000000
	golang.org/x/sys v0.46.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260226221140-a57be14db171
	google.golang.org/grpc v1.81.1
	google.golang.org/protobuf v1.36.12
)

replace github.com/ttrpc-go/ttrpc => ../

replace github.com/ttrpc-go/ttrpc/grpcstatus => ../grpcstatus
