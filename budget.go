package ttrpc

import (
	"sync"
	"sync/atomic"
)

// connBudget bounds the bytes one connection holds on behalf of its peer
// (PROTOCOL.md, "Backpressure"): bodies of requests waiting for a handler
// or being handled, and stream messages not yet taken by their receiver.
// Together with the writer's outgoing bytes they must stay within limit;
// when they do not, the reader stops reading from the connection until
// enough is released. A frame is always let in when nothing is held, so a
// connection holds at most limit plus one message.
type connBudget struct {
	limit int64

	// held is what the connection holds; it changes without the lock, on
	// every frame, and the lock is taken only when the reader waits.
	held atomic.Int64
	// waiting is set while room exists: releases and kicks then take mu to
	// close it. A waiter sets it before checking its condition, and a
	// releaser changes held before loading it, so one of them sees the
	// other (both are sequentially consistent).
	waiting atomic.Bool

	mu sync.Mutex
	// room, when non-nil, is closed when held drops or something else the
	// waiting reader depends on changed (kick).
	room chan struct{}
}

// defaultConnBudget is the budget of a connection whose side configured
// none: four messages of the largest size, 16 MiB with the default limit.
func defaultConnBudget(maxMessageSize int) int64 { return 4 * int64(maxMessageSize) }

// minConnBudget keeps a configured budget large enough for one message of
// the largest size plus the envelope around it.
func minConnBudget(maxMessageSize int) int64 { return int64(maxMessageSize) + 64<<10 }

// fits reports whether n more incoming bytes fit next to out outgoing ones.
func (b *connBudget) fits(n, out int64) bool {
	held := b.held.Load()
	return held+out == 0 || held+out+n <= b.limit
}

// acquire counts n incoming bytes without checking the limit (the caller
// checked with fits, or the bytes are owed anyway).
func (b *connBudget) acquire(n int64) {
	if n != 0 {
		b.held.Add(n)
	}
}

// release gives back n bytes and wakes the reader if it waits.
func (b *connBudget) release(n int64) {
	if n == 0 {
		return
	}
	if b.held.Add(-n) < 0 {
		panic("ttrpc: connection budget released more than it held")
	}
	b.kick()
}

// kick wakes a waiting reader so that it re-checks its conditions.
func (b *connBudget) kick() {
	if !b.waiting.Load() {
		return
	}
	b.mu.Lock()
	if b.room != nil {
		close(b.room)
		b.room = nil
		b.waiting.Store(false)
	}
	b.mu.Unlock()
}

// heldBytes is what the budget holds now.
func (b *connBudget) heldBytes() int64 { return b.held.Load() }

// changed returns a channel closed at the next release or kick. A waiter
// takes it before checking its condition, so that no wake-up is lost.
func (b *connBudget) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.room == nil {
		b.room = make(chan struct{})
		b.waiting.Store(true)
	}
	return b.room
}
