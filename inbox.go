package ttrpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// inboundFrame is a frame handed from the reader goroutine to a stream.
type inboundFrame struct {
	header frameHeader
	body   *[]byte // pooled; nil for an empty body
}

// inbox is a stream's receive queue. The connection's reader goroutine
// pushes, the stream's user pops. It is bounded: when the user does not
// keep up, push waits a little and then fails the stream with ErrStreamFull,
// so one slow stream cannot stall the connection for long.
type inbox struct {
	mu sync.Mutex
	// owner is the stream id the queue currently serves; pushes for any
	// other id are dropped, which makes recycling streams safe.
	owner  uint32
	frames []inboundFrame // queued frames are frames[head:]
	head   int
	limit  int
	// err ends the queue once the frames before it are consumed.
	err error
	// notify has room for one wake-up of the popper.
	notify chan struct{}
	// room, when non-nil, is closed by the popper to wake a waiting push.
	room chan struct{}
	// budget, when set, counts the bytes queued in every inbox of the
	// connection (see recvBudget).
	budget *recvBudget
}

// recvBudget bounds the message bytes one connection holds queued for
// consumers that have not read them yet, across all its streams: without
// it, a peer could make a connection hold streams x 64 x message limit.
type recvBudget struct {
	queued atomic.Int64
	limit  int64
}

// errRecvBudget fails a stream whose message would exceed the connection's
// receive budget.
var errRecvBudget = status.Error(codes.ResourceExhausted, "ttrpc: too much unread data queued on this connection")

func bodyLen(f inboundFrame) int64 {
	if f.body == nil {
		return 0
	}
	return int64(len(*f.body))
}

// inboxFullWait is how long the reader waits for a stream's consumer before
// failing that stream.
const inboxFullWait = time.Second

func (q *inbox) init(owner uint32, limit int, budget *recvBudget) {
	q.mu.Lock()
	q.owner, q.limit, q.err, q.room, q.budget = owner, limit, nil, nil, budget
	if q.notify == nil {
		q.notify = make(chan struct{}, 1)
	}
	q.mu.Unlock()
}

// push queues f for the stream with the given id. It reports false, and
// releases f's body, when the stream is gone or had to be failed.
func (q *inbox) push(id uint32, f inboundFrame, done <-chan struct{}) bool {
	q.mu.Lock()
	for q.owner == id && q.err == nil && len(q.frames)-q.head >= q.limit {
		if q.room == nil {
			q.room = make(chan struct{})
		}
		room := q.room
		q.mu.Unlock()
		t := time.NewTimer(inboxFullWait)
		select {
		case <-room:
			t.Stop()
		case <-t.C:
			q.closeWith(id, ErrStreamFull)
		case <-done:
			t.Stop()
		}
		q.mu.Lock()
	}
	if q.owner != id || q.err != nil {
		q.mu.Unlock()
		putBuffer(f.body)
		return false
	}
	if b := q.budget; b != nil {
		n := bodyLen(f)
		if b.queued.Add(n) > b.limit {
			b.queued.Add(-n)
			q.mu.Unlock()
			putBuffer(f.body)
			q.closeWith(id, errRecvBudget)
			return false
		}
	}
	q.frames = append(q.frames, f)
	q.mu.Unlock()
	q.wake()
	return true
}

func (q *inbox) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// closeWith ends the queue for stream id with err; frames already queued
// are still delivered first. The first error wins.
func (q *inbox) closeWith(id uint32, err error) {
	q.mu.Lock()
	if q.owner == id && q.err == nil {
		q.err = err
		if q.room != nil {
			close(q.room)
			q.room = nil
		}
	}
	q.mu.Unlock()
	q.wake()
}

// pop returns the next frame, or the queue's error once it is drained. It
// gives up with ctx's error when ctx ends first.
func (q *inbox) pop(ctx context.Context) (inboundFrame, error) {
	for {
		q.mu.Lock()
		if q.head < len(q.frames) {
			f := q.frames[q.head]
			q.frames[q.head] = inboundFrame{}
			if q.budget != nil {
				q.budget.queued.Add(-bodyLen(f))
			}
			q.head++
			if q.head == len(q.frames) {
				q.frames, q.head = q.frames[:0], 0
			}
			if q.room != nil {
				close(q.room)
				q.room = nil
			}
			q.mu.Unlock()
			return f, nil
		}
		if q.err != nil {
			err := q.err
			q.mu.Unlock()
			return inboundFrame{}, err
		}
		q.mu.Unlock()
		select {
		case <-q.notify:
		case <-ctx.Done():
			return inboundFrame{}, ctx.Err()
		}
	}
}

// reset drops whatever is queued and detaches the queue from its stream.
func (q *inbox) reset() {
	q.mu.Lock()
	for _, f := range q.frames[q.head:] {
		if q.budget != nil {
			q.budget.queued.Add(-bodyLen(f))
		}
		putBuffer(f.body)
	}
	clear(q.frames)
	q.frames, q.head = q.frames[:0], 0
	q.owner, q.err = 0, nil
	if q.room != nil {
		close(q.room)
		q.room = nil
	}
	q.mu.Unlock()
	select {
	case <-q.notify:
	default:
	}
}
