package ttrpc

import (
	"slices"
	"testing"
)

func TestServiceNamesAndMethods(t *testing.T) {
	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.ServiceNames(); len(got) != 0 {
		t.Fatalf("fresh server lists %v", got)
	}
	srv.RegisterService(testService, echoService())
	srv.Register("a.v1.Plain", map[string]Method{"Zed": nil, "Alpha": nil})
	if got, want := srv.ServiceNames(), []string{"a.v1.Plain", testService}; !slices.Equal(got, want) {
		t.Errorf("ServiceNames = %v, want %v", got, want)
	}
	got, ok := srv.ServiceMethods(testService)
	want := []string{"Bidi", "Block", "Count", "Deadline", "Echo", "Metadata", "Nil", "Panic", "StreamMetadata", "Sum"}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("ServiceMethods(%s) = %v, %v; want %v", testService, got, ok, want)
	}
	if got, ok := srv.ServiceMethods("a.v1.Plain"); !ok || !slices.Equal(got, []string{"Alpha", "Zed"}) {
		t.Errorf("ServiceMethods(a.v1.Plain) = %v, %v", got, ok)
	}
	if got, ok := srv.ServiceMethods("missing.Service"); ok || got != nil {
		t.Errorf("ServiceMethods of an unknown service = %v, %v", got, ok)
	}
}
