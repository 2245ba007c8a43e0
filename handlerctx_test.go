package ttrpc

import (
	"context"
	"errors"
	"testing"
	"time"
)

// handlerCtx must behave like context.WithDeadline/WithCancel on its parent,
// whether or not Done was asked for before the end.
func TestHandlerContext(t *testing.T) {
	type key struct{}
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		hasTime  bool
		end      func(h *handlerCtx, cancelParent context.CancelFunc)
		wantErr  error
		askFirst bool
	}{
		{"cancel", 0, false, func(h *handlerCtx, _ context.CancelFunc) { h.cancel(context.Canceled) }, context.Canceled, false},
		{"cancel after Done", 0, false, func(h *handlerCtx, _ context.CancelFunc) { h.cancel(context.Canceled) }, context.Canceled, true},
		{"parent cancelled", 0, false, func(_ *handlerCtx, p context.CancelFunc) { p() }, context.Canceled, false},
		{"parent cancelled after Done", 0, false, func(_ *handlerCtx, p context.CancelFunc) { p() }, context.Canceled, true},
		{"deadline", 10 * time.Millisecond, true, func(*handlerCtx, context.CancelFunc) {}, context.DeadlineExceeded, false},
		{"deadline after Done", 10 * time.Millisecond, true, func(*handlerCtx, context.CancelFunc) {}, context.DeadlineExceeded, true},
		{"negative timeout", -time.Second, true, func(*handlerCtx, context.CancelFunc) {}, context.DeadlineExceeded, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
			defer cancelParent()
			var h handlerCtx
			h.init(parent, tc.timeout, tc.hasTime)
			if h.Value(key{}) != "v" {
				t.Error("parent value lost")
			}
			if _, ok := h.Deadline(); ok != tc.hasTime {
				t.Errorf("Deadline reported %v", ok)
			}
			var done <-chan struct{}
			if tc.askFirst {
				done = h.Done()
				select {
				case <-done:
					if tc.timeout >= 0 {
						t.Fatal("done before the end")
					}
				default:
				}
			}
			tc.end(&h, cancelParent)
			select {
			case <-h.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("Done never closed")
			}
			if err := h.Err(); !errors.Is(err, tc.wantErr) {
				t.Errorf("Err = %v, want %v", err, tc.wantErr)
			}
			h.cancel(errors.New("later")) // the first end wins
			if err := h.Err(); !errors.Is(err, tc.wantErr) {
				t.Errorf("Err after a second cancel = %v", err)
			}
		})
	}
}

func TestHandlerContextTakesEarlierParentDeadline(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var h handlerCtx
	h.init(parent, time.Hour, true)
	pd, _ := parent.Deadline()
	if d, _ := h.Deadline(); !d.Equal(pd) {
		t.Errorf("deadline %v, want the parent's %v", d, pd)
	}
}
