package otelttrpc

import (
	"slices"
	"testing"

	"github.com/ttrpc-go/ttrpc"
)

func TestRequestCarrierSet(t *testing.T) {
	shared := []*ttrpc.KeyValue{
		{Key: "a", Value: "1"}, {Key: "traceparent", Value: "old"}, {Key: "b", Value: "2"}, {Key: "traceparent", Value: "older"},
	}
	orig := slices.Clone(shared)
	req := &ttrpc.Request{Metadata: shared}
	c := (*requestCarrier)(req)
	c.Set("TraceParent", "new")
	var got []string
	for _, kv := range req.Metadata {
		got = append(got, kv.Key+"="+kv.Value)
	}
	if want := []string{"a=1", "b=2", "traceparent=new"}; !slices.Equal(got, want) {
		t.Errorf("metadata %v, want %v", got, want)
	}
	if !slices.Equal(shared, orig) || shared[1].Value != "old" {
		t.Error("Set modified the entries it was given")
	}
	if v := c.Get("traceparent"); v != "new" {
		t.Errorf("Get = %q", v)
	}
	if keys := c.Keys(); len(keys) != 3 {
		t.Errorf("Keys = %v", keys)
	}

	empty := (*requestCarrier)(&ttrpc.Request{})
	empty.Set("traceparent", "x")
	if empty.Get("traceparent") != "x" || len(empty.Metadata) != 1 {
		t.Errorf("metadata of an empty request: %v", empty.Metadata)
	}
}
