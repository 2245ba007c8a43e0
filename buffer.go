package ttrpc

import (
	"math/bits"
	"sync"
)

// Frame buffers are pooled in size classes of powers of two, so that a
// pooled buffer is never much larger than the frame it carries.
//
// Ownership rule: a *[]byte from getBuffer has exactly one owner at a time.
// The owner either passes it on (to an inbox, a stream, a handler) or
// returns it with putBuffer; whoever receives it takes over that duty. A
// buffer is never used after putBuffer, and never put twice.

const (
	minBufferClass = 6  // 64 B
	maxBufferClass = 24 // 16 MiB
)

var bufferPools [maxBufferClass + 1]sync.Pool

func bufferClass(n int) int {
	c := minBufferClass
	for 1<<c < n {
		c++
	}
	return c
}

// getBuffer returns a pooled buffer of length n.
func getBuffer(n int) *[]byte {
	c := bufferClass(n)
	if c > maxBufferClass {
		b := make([]byte, n)
		return &b
	}
	if v := bufferPools[c].Get(); v != nil {
		b := v.(*[]byte)
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<c)
	return &b
}

// putBuffer returns a buffer to the pool of the largest class its capacity
// covers, so that buffers grown by append are reused too. nil is allowed.
func putBuffer(b *[]byte) {
	if b == nil {
		return
	}
	c := cap(*b)
	if c < 1<<minBufferClass || c > 1<<maxBufferClass {
		return
	}
	class := bits.Len(uint(c)) - 1 // floor(log2(c)): every buffer there holds 1<<class
	*b = (*b)[:0]
	bufferPools[class].Put(b)
}

// bodyBytes returns the bytes of a pooled body, nil for none.
func bodyBytes(b *[]byte) []byte {
	if b == nil {
		return nil
	}
	return *b
}

// heldSize is the memory a pooled body holds, which is what budgets count.
func heldSize(b *[]byte) int64 {
	if b == nil {
		return 0
	}
	return int64(cap(*b))
}
