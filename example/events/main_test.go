package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestEventsDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"shim-a acknowledged \"task exited\"", "shim-c got task exited",
		"client: call cancelled", "server: LongJob stopped: context canceled", "done",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
