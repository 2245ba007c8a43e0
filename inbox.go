package ttrpc

import (
	"context"
	"sync"
	"time"
)

// streamKey names one stream of one connection. Streams are recycled
// between connections, and their ids repeat on every connection, so an id
// alone cannot tell a late frame or end of an earlier use of a stream from
// one of its current use; a connection's serial number can.
type streamKey struct {
	conn uint64 // the connection's serial number (conn.serial)
	id   uint32
}

// inboundFrame is a frame handed from the reader goroutine to a stream.
type inboundFrame struct {
	header frameHeader
	body   *[]byte // pooled; nil for an empty body
}

// size is what f holds of the connection's budget: its buffer's capacity.
func (f inboundFrame) size() int64 { return heldSize(f.body) }

// inbox is a stream's receive queue: the connection's reader goroutine
// pushes, the stream's user pops. push never blocks the reader. A stream
// whose user leaves limit messages unread for inboxFullWait is failed with
// ErrStreamFull (as containerd/ttrpc v1.2.9+ does, but without stalling the
// other streams of the connection meanwhile); the bytes it holds count
// against the connection's budget, which bounds what all inboxes hold
// together.
type inbox struct {
	mu sync.Mutex
	// owner is the stream the queue currently serves; pushes and ends for
	// any other stream are dropped, which makes recycling streams safe.
	owner  streamKey
	frames []inboundFrame // queued frames are frames[head:]
	head   int
	bytes  int64 // body bytes queued, all counted in budget
	limit  int
	// err ends the queue once the frames before it are consumed.
	err error
	// notify has room for one wake-up of the popper.
	notify chan struct{}
	// fullTimer fails the stream if it stays full; nil while not full.
	fullTimer *time.Timer
	budget    *connBudget
}

// inboxFullWait is how long a stream may stay full before it is failed.
const inboxFullWait = time.Second

// streamRecvLimit is how many messages a stream may leave unread before it
// counts as full.
const streamRecvLimit = 64

func (q *inbox) init(owner streamKey, limit int, budget *connBudget) {
	q.mu.Lock()
	q.owner, q.limit, q.err, q.budget = owner, limit, nil, budget
	if q.notify == nil {
		q.notify = make(chan struct{}, 1)
	}
	q.mu.Unlock()
}

// push queues f for the stream owner; f's body bytes were
// counted in the budget by the reader, and the inbox takes them over. It
// reports false, and releases f, when the stream is gone or ended, or when
// a single-message queue (a unary call) already has its message.
func (q *inbox) push(owner streamKey, f inboundFrame) bool {
	q.mu.Lock()
	if q.owner != owner || q.err != nil || (q.limit == 1 && len(q.frames)-q.head >= 1) {
		q.mu.Unlock()
		q.drop(f)
		return false
	}
	q.frames = append(q.frames, f)
	q.bytes += f.size()
	if q.limit > 1 && len(q.frames)-q.head >= q.limit && q.fullTimer == nil {
		q.fullTimer = time.AfterFunc(inboxFullWait, func() { q.failIfFull(owner) })
	}
	q.mu.Unlock()
	q.wake()
	return true
}

func (q *inbox) drop(f inboundFrame) {
	if q.budget != nil {
		q.budget.release(f.size())
	}
	putBuffer(f.body)
}

func (q *inbox) failIfFull(owner streamKey) {
	q.mu.Lock()
	full := q.owner == owner && q.err == nil && len(q.frames)-q.head >= q.limit
	q.mu.Unlock()
	if full {
		q.fail(owner, ErrStreamFull)
	}
}

func (q *inbox) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// closeWith ends the queue for stream owner with err; frames already queued
// are still delivered first. The first error wins.
func (q *inbox) closeWith(owner streamKey, err error) {
	q.mu.Lock()
	if q.owner == owner && q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	q.wake()
}

// fail ends the queue for stream owner with err at once: what is queued is
// dropped, so its bytes go back to the budget. The first error wins.
func (q *inbox) fail(owner streamKey, err error) {
	q.mu.Lock()
	if q.owner != owner || q.err != nil {
		q.mu.Unlock()
		return
	}
	q.err = err
	dropped := q.takeAllLocked()
	q.mu.Unlock()
	for _, f := range dropped {
		q.drop(f)
	}
	q.wake()
}

// unread is how many body bytes wait in the queue.
func (q *inbox) unread() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// pop returns the next frame, or the queue's error once it is drained. It
// gives up with ctx's error when ctx ends first.
func (q *inbox) pop(ctx context.Context) (inboundFrame, error) {
	for {
		q.mu.Lock()
		if q.head < len(q.frames) {
			f := q.frames[q.head]
			q.frames[q.head] = inboundFrame{}
			q.head++
			q.bytes -= f.size()
			if q.head == len(q.frames) {
				q.frames, q.head = q.frames[:0], 0
			}
			if q.fullTimer != nil && len(q.frames)-q.head < q.limit {
				q.fullTimer.Stop()
				q.fullTimer = nil
			}
			budget := q.budget
			q.mu.Unlock()
			if budget != nil {
				budget.release(f.size())
			}
			return f, nil
		}
		if q.err != nil {
			err := q.err
			q.mu.Unlock()
			return inboundFrame{}, err
		}
		q.mu.Unlock()
		done := ctx.Done()
		if done == nil { // a context that never ends: a plain receive is cheaper
			<-q.notify
			continue
		}
		select {
		case <-q.notify:
		case <-done:
			return inboundFrame{}, ctx.Err()
		}
	}
}

// takeAllLocked detaches every queued frame and stops the full timer.
func (q *inbox) takeAllLocked() []inboundFrame {
	var out []inboundFrame
	if q.head < len(q.frames) {
		out = append(out, q.frames[q.head:]...)
	}
	clear(q.frames)
	q.frames, q.head, q.bytes = q.frames[:0], 0, 0
	if q.fullTimer != nil {
		q.fullTimer.Stop()
		q.fullTimer = nil
	}
	return out
}

// reset drops whatever is queued and detaches the queue from its stream.
func (q *inbox) reset() {
	q.mu.Lock()
	dropped := q.takeAllLocked()
	q.owner, q.err = streamKey{}, nil
	q.mu.Unlock()
	for _, f := range dropped {
		q.drop(f)
	}
	select {
	case <-q.notify:
	default:
	}
}
