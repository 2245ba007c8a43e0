module github.com/ttrpc-go/ttrpc/cmd/ttrpc

go 1.25.0

require (
	github.com/bufbuild/protocompile v0.14.1
	github.com/ttrpc-go/ttrpc v0.0.0-00010101000000-000000000000
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/gogo/protobuf v1.3.2 // indirect
	golang.org/x/sync v0.8.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260226221140-a57be14db171 // indirect
)

replace github.com/ttrpc-go/ttrpc => ../..
