package ttrpc

import (
	"context"
	"testing"
)

// incomingCall returns the metadata of a served call whose request carried
// entries, as serveRequest keeps it, and the request body it came from.
func incomingCall(t *testing.T, entries ...*KeyValue) (*handlerCtx, []byte) {
	t.Helper()
	body := appendRequest(nil, &Request{Service: "s", Method: "m", Payload: []byte("p"), Metadata: entries})
	raw, err := copyRequestMetadata(body)
	if err != nil {
		t.Fatal(err)
	}
	h := &handlerCtx{}
	h.init(context.Background(), 0, false)
	h.md.raw = raw
	return h, body
}

func TestIncomingMetadataOneKeyWithoutTheMap(t *testing.T) {
	h, body := incomingCall(t,
		&KeyValue{Key: "traceparent", Value: "00-abc"},
		&KeyValue{Key: "k", Value: "first"},
		&KeyValue{Key: "k", Value: "second"},
		&KeyValue{Key: "empty", Value: ""},
	)
	clear(body) // the frame body goes back to the pool: nothing may alias it

	for _, tc := range []struct {
		name, want string
		found      bool
	}{
		{"traceparent", "00-abc", true},
		{"TraceParent", "00-abc", true}, // matched as MD.Get matches
		{"k", "first", true},
		{"empty", "", true},
		{"missing", "", false},
	} {
		got, ok := GetMetadataValue(h, tc.name)
		if got != tc.want || ok != tc.found {
			t.Errorf("GetMetadataValue(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.found)
		}
	}
	if h.md.md != nil {
		t.Fatal("GetMetadataValue built the MD")
	}
	if n := testing.AllocsPerRun(100, func() { GetMetadataValue(h, "k") }); n != 0 {
		t.Errorf("GetMetadataValue allocates %v times", n)
	}

	md, ok := GetMetadata(h)
	if !ok || len(md["k"]) != 2 || md["k"][1] != "second" || md["traceparent"][0] != "00-abc" {
		t.Fatalf("GetMetadata = %v, %v", md, ok)
	}
	if again, _ := GetMetadata(h); &again["k"][0] != &md["k"][0] {
		t.Error("GetMetadata built a second MD")
	}
}

// A handler that changes the MD it got sees its change in every later
// read, GetMetadataValue included.
func TestIncomingMetadataChangesAreSeen(t *testing.T) {
	h, _ := incomingCall(t, &KeyValue{Key: "k", Value: "sent"})
	md, _ := GetMetadata(h)
	md.Set("k", "changed")
	md.Set("added", "yes")
	if v, _ := GetMetadataValue(h, "k"); v != "changed" {
		t.Errorf("k = %q after Set", v)
	}
	if v, ok := GetMetadataValue(h, "added"); !ok || v != "yes" {
		t.Errorf("added = %q, %v", v, ok)
	}
	// A context derived with metadata of its own hides the call's.
	ctx := WithMetadata(h, MD{"k": {"derived"}})
	if v, _ := GetMetadataValue(ctx, "k"); v != "derived" {
		t.Errorf("derived k = %q", v)
	}
}

// A call without metadata has none: the connection's context answers.
func TestIncomingMetadataAbsent(t *testing.T) {
	h, _ := incomingCall(t)
	if h.md.raw != nil {
		t.Fatal("entries copied from a request without any")
	}
	if md, ok := GetMetadata(h); ok || md != nil {
		t.Errorf("GetMetadata = %v, %v", md, ok)
	}
	if _, ok := GetMetadataValue(h, "k"); ok {
		t.Error("GetMetadataValue found a key")
	}
}
