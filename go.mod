module github.com/ttrpc-go/ttrpc

go 1.25.0

require (
	github.com/gogo/protobuf v1.3.2
	golang.org/x/sys v0.46.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260226221140-a57be14db171
	google.golang.org/protobuf v1.36.12
)
