package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestGreeterDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got, want := out.String(), "hello, brpc fan\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
