package status

import (
	"reflect"
	"sync"

	spb "google.golang.org/genproto/googleapis/rpc/status"
)

// Recognising grpc-go's status errors without importing grpc-go: its
// errors have a method GRPCStatus() *status.Status, and that Status has a
// method Proto() *spb.Status. Both are found by reflection. Whether a
// dynamic type has that shape is worked out once and cached, so the cost on
// the error path is a map lookup and two reflective calls.

var spbType = reflect.TypeFor[*spb.Status]()

// foreignShape tells how to extract a status from one error type.
type foreignShape struct {
	ok         bool
	grpcStatus int // method index of GRPCStatus on the error type
	proto      int // method index of Proto on GRPCStatus's result type
}

var foreignShapes sync.Map // reflect.Type -> foreignShape

func shapeOf(t reflect.Type) foreignShape {
	if v, ok := foreignShapes.Load(t); ok {
		return v.(foreignShape)
	}
	sh := computeShape(t)
	foreignShapes.Store(t, sh)
	return sh
}

func computeShape(t reflect.Type) foreignShape {
	gm, ok := t.MethodByName("GRPCStatus")
	if !ok {
		return foreignShape{}
	}
	// t is a concrete type here (the dynamic type of an error), so the
	// method type has the receiver as its first parameter.
	if gm.Type.NumIn() != 1 || gm.Type.NumOut() != 1 {
		return foreignShape{}
	}
	rt := gm.Type.Out(0)
	pm, ok := rt.MethodByName("Proto")
	if !ok {
		return foreignShape{}
	}
	wantIn := 1
	if rt.Kind() == reflect.Interface {
		wantIn = 0 // interface method types carry no receiver
	}
	if pm.Type.NumIn() != wantIn || pm.Type.NumOut() != 1 || pm.Type.Out(0) != spbType {
		return foreignShape{}
	}
	return foreignShape{ok: true, grpcStatus: gm.Index, proto: pm.Index}
}

// foreignProto extracts the google.rpc.Status from an error of grpc-go's
// shape (any error whose GRPCStatus result has Proto() *spb.Status).
// found reports whether err has that shape; p is nil when err is a nil
// pointer, GRPCStatus returned nil, or one of the methods panicked (a
// broken status is treated like a missing one rather than crashing the
// caller, which is often a server turning a handler error into a reply).
func foreignProto(err error) (p *spb.Status, found bool) {
	if err == nil {
		return nil, false
	}
	v := reflect.ValueOf(err)
	sh := shapeOf(v.Type())
	if !sh.ok {
		return nil, false
	}
	if isNilValue(v) {
		return nil, true
	}
	defer func() {
		if recover() != nil {
			p = nil
		}
	}()
	r := v.Method(sh.grpcStatus).Call(nil)[0]
	if isNilValue(r) {
		return nil, true
	}
	out := r.Method(sh.proto).Call(nil)[0]
	if out.IsNil() {
		return nil, true
	}
	return out.Interface().(*spb.Status), true
}

func isNilValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return v.IsNil()
	}
	return false
}
