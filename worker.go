package ttrpc

import "time"

// Handlers run in goroutines of their own, one per stream at a time. A
// goroutine that finished a handler waits a moment for the next request on
// its connection before exiting: under load this saves starting a goroutine
// and growing its stack for every request, and an idle connection keeps no
// goroutine beyond workerIdle.

const (
	// workerIdle is how long a handler goroutine waits for more work.
	workerIdle = 2 * time.Second
	// maxIdleWorkers bounds the goroutines waiting per connection.
	maxIdleWorkers = 4
)

// dispatch runs ss's handler on a waiting goroutine of the connection, or on
// a new one.
func (c *conn) dispatch(ss *serverStream) {
	select {
	case c.work <- ss:
	default:
		go c.worker(ss)
	}
}

func (c *conn) worker(ss *serverStream) {
	var idle *time.Timer
	for {
		ss.run()
		if c.idleWorkers.Add(1) > maxIdleWorkers {
			c.idleWorkers.Add(-1)
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case ss = <-c.work:
			c.idleWorkers.Add(-1)
		case <-idle.C:
			c.idleWorkers.Add(-1)
			return
		case <-c.done:
			c.idleWorkers.Add(-1)
			idle.Stop()
			return
		}
	}
}
