package ttrpc

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func TestMD(t *testing.T) {
	md := MD{}
	md.Set("Key", "a", "b")
	if v, ok := md.Get("KEY"); !ok || fmt.Sprint(v) != "[a b]" {
		t.Errorf("Get after Set: %v %v", v, ok)
	}
	md.Append("key", "c")
	md.Append("key") // no values: no change
	if v, _ := md.Get("key"); fmt.Sprint(v) != "[a b c]" {
		t.Errorf("after Append: %v", v)
	}
	md.Set("key") // no values: removed
	if _, ok := md.Get("key"); ok {
		t.Error("Set with no values did not remove the key")
	}
	md["empty"] = []string{}
	if _, ok := md.Get("empty"); ok {
		t.Error("a key with no values was found")
	}
	if _, ok := md.Get("missing"); ok {
		t.Error("missing key found")
	}
}

func TestMDClone(t *testing.T) {
	if MD(nil).Clone() != nil {
		t.Error("nil MD cloned to non-nil")
	}
	md := MD{"a": {"1", "2"}, "nil": nil}
	c := md.Clone()
	c["a"][0] = "changed"
	c["a"] = append(c["a"], "3")
	if md["a"][0] != "1" || len(md["a"]) != 2 {
		t.Errorf("clone shares values with the original: %v", md)
	}
	if v, ok := c["nil"]; !ok || v != nil {
		t.Errorf("nil value not kept: %v %v", v, ok)
	}
	// Clones may be modified concurrently (run with -race).
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := md.Clone()
			cl.Append("a", fmt.Sprint(i))
			cl.Set("b", "x")
		}()
	}
	wg.Wait()
}

func TestMetadataContext(t *testing.T) {
	if _, ok := GetMetadata(context.Background()); ok {
		t.Error("metadata in an empty context")
	}
	if _, ok := GetMetadataValue(context.Background(), "k"); ok {
		t.Error("value in an empty context")
	}
	ctx := WithMetadata(context.Background(), MD{"k": {"first", "second"}})
	if v, ok := GetMetadataValue(ctx, "K"); !ok || v != "first" {
		t.Errorf("GetMetadataValue: %q %v", v, ok)
	}
	kvs := MD{"a": {"1", "2"}, "b": {"3"}}.toKeyValues()
	if len(kvs) != 3 {
		t.Fatalf("%d entries, want one per value", len(kvs))
	}
}
