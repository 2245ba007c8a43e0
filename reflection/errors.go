package reflection

import "errors"

// ErrNotServed is wrapped by Client's errors when the server does not
// serve the reflection service (it answered Unimplemented). The server's
// status error is wrapped too.
var ErrNotServed = errors.New("the server does not offer reflection (ttrpc.reflection.v1.Reflection is unimplemented)")
