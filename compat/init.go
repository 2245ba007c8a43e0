package ttrpc

// grpc-go status recognition for ttrpc-go: handlers' grpc-go status
// errors keep their codes on the wire, and ttrpc-go's status package
// reads them.
import _ "github.com/ttrpc-go/ttrpc/grpcstatus"
