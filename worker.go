package ttrpc

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ttrpc-go/ttrpc/codes"
)

// The serving side of a connection: requests the peer opens streams with.
// The reader decodes a request and admits it; its handler runs on a
// goroutine of the side's worker pool, at most maxStreams at once per
// connection, the others waiting in arrival order. A goroutine that
// finished a handler takes the next waiting request of its connection, or
// waits for a new one of any connection until the pool retires it: under
// load this saves starting a goroutine and growing its stack for every
// request.

const (
	// workerIdle is the period of the pool's retiring timer: an idle
	// handler goroutine exits one to two periods after its last use.
	workerIdle = 2 * time.Second
)

// servingConfig holds what handlers are wrapped in.
type servingConfig struct {
	unary  UnaryServerInterceptor
	stream StreamServerInterceptor
}

// serveRequest decodes a Request frame's body (owned and budgeted by now)
// and admits the stream it opens, or answers with the status refusing it.
// The method is looked up before the metadata is copied, so that a
// request for nothing costs no more than its name.
func (c *conn) serveRequest(h frameHeader, body *[]byte) {
	id := h.streamID
	ss := &serverStream{id: id, c: c, body: body}
	refuse := func(code codes.Code, format string, args ...any) {
		ss.releaseBody()
		c.replyStatus(id, statusProtof(code, format, args...))
	}
	raw := bodyBytes(body)
	if err := decodeRequest(raw, &ss.req); err != nil {
		refuse(codes.InvalidArgument, "unmarshal request error: %v", err)
		return
	}
	m, st := c.cfg.services.lookup(ss.req.service, ss.req.method)
	if st != nil {
		ss.releaseBody()
		c.replyStatus(id, st)
		return
	}
	if ss.req.hasMetadata {
		// Copied now, decoded when the handler asks (incomingMD).
		md, err := copyRequestMetadata(raw)
		if err != nil {
			refuse(codes.ResourceExhausted, "ttrpc: %v", err)
			return
		}
		ss.hctx.md.raw = md
	}
	ss.method = m
	if ss.takesData() {
		// Before admit: Data may follow the request at once.
		ss.in.init(c.key(id), streamRecvLimit, &c.budget)
		if h.flags&flagRemoteClosed != 0 {
			// The caller said it sends no data: its handler sees the
			// end of the stream instead of waiting for Data that never
			// comes (containerd/ttrpc waits).
			ss.in.closeWith(c.key(id), io.EOF)
		}
	}
	ss.initContext()
	start, err := c.admit(ss)
	if err != nil {
		ss.releaseBody()
		ss.hctx.cancel(err)
		return // the connection is gone: nobody to answer
	}
	if start {
		c.dispatch(ss)
	}
}

// workerPool lends handler goroutines to every connection of one Server
// (or one Client): a goroutine that finished a handler waits for the next
// request of any connection, and exits once the pool has had no use for it
// for a while, so an idle connection keeps no goroutine of its own.
//
// Idle goroutines are retired by one timer of the pool rather than one of
// each goroutine: a timer in a goroutine's wait would be armed and disarmed
// around every request, which costs more than the rest of the hand-off. At
// every tick of workerIdle, the pool retires as many idle goroutines as
// were never needed since the previous tick (the fewest idle at any
// dispatch), so a goroutine exits between one and two ticks after the
// pool last needed it. Idle goroutines also exit as soon as the side has
// no connection left, so that closing a Server or Client leaves no
// goroutine behind.
type workerPool struct {
	// work hands a stream to an idle goroutine; nil retires it.
	work chan *serverStream
	idle atomic.Int32
	// fewestIdle is the fewest goroutines idle at a dispatch since the
	// last tick: that many were not needed.
	fewestIdle atomic.Int32
	// maxIdle bounds the idle goroutines (maxIdleWorkers, re-read at
	// every tick: reading GOMAXPROCS takes a runtime lock).
	maxIdle atomic.Int32
	// ticking is set while the retiring timer is armed.
	ticking atomic.Bool
	ticker  *time.Timer
	period  time.Duration // workerIdle; shorter in tests

	mu    sync.Mutex
	conns int
	empty chan struct{} // closed when conns drops to zero
}

func newWorkerPool() *workerPool {
	p := &workerPool{work: make(chan *serverStream), empty: make(chan struct{}), period: workerIdle}
	p.maxIdle.Store(maxIdleWorkers())
	p.ticker = time.AfterFunc(time.Hour, p.tick)
	p.ticker.Stop()
	return p
}

// connStarted and connEnded count the connections the pool serves.
func (p *workerPool) connStarted() {
	p.mu.Lock()
	if p.conns == 0 {
		p.empty = make(chan struct{})
	}
	p.conns++
	p.mu.Unlock()
}

func (p *workerPool) connEnded() {
	p.mu.Lock()
	p.conns--
	if p.conns == 0 {
		close(p.empty)
		if p.ticker.Stop() {
			p.ticking.Store(false) // nobody is left to retire
		}
	}
	p.mu.Unlock()
}

func (p *workerPool) emptied() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.empty
}

// maxIdleWorkers bounds the goroutines waiting for work per pool. The
// bound is high because goroutines that are not needed are retired anyway
// (tick): a goroutine that exits for the bound while its load goes on is
// replaced by a new one, whose stack grows again through the handler's
// calls, and under 64 concurrent calls that stack copying took a fifth of
// the CPU with a bound of 4 per core.
func maxIdleWorkers() int32 { return int32(max(4*runtime.GOMAXPROCS(0), 256)) }

// dispatch runs ss's handler on a waiting goroutine, or on a new one.
func (c *conn) dispatch(ss *serverStream) {
	p := c.cfg.workers
	idle := p.idle.Load()
	select {
	case p.work <- ss:
		if idle-1 < p.fewestIdle.Load() {
			p.fewestIdle.Store(idle - 1) // racy, and fine: a heuristic
		}
	default:
		p.fewestIdle.Store(0)
		go p.worker(ss)
	}
}

func (p *workerPool) worker(ss *serverStream) {
	for {
		for ss != nil {
			ss = ss.run() // the next waiting stream of its connection, if any
		}
		if p.idle.Add(1) > p.maxIdle.Load() {
			p.idle.Add(-1)
			return
		}
		p.startTicking()
		select {
		case ss = <-p.work:
			p.idle.Add(-1)
			if ss == nil {
				return // retired
			}
		case <-p.emptied():
			p.idle.Add(-1)
			return
		}
	}
}

// startTicking arms the retiring timer unless it is armed.
func (p *workerPool) startTicking() {
	if !p.ticking.Load() && p.ticking.CompareAndSwap(false, true) {
		p.fewestIdle.Store(p.idle.Load())
		p.ticker.Reset(p.period)
	}
}

// tick retires the goroutines the pool did not need since the last tick,
// and keeps ticking while any are idle.
func (p *workerPool) tick() {
	unneeded := p.fewestIdle.Swap(p.idle.Load())
retire:
	for range unneeded {
		select {
		case p.work <- nil:
		default:
			break retire
		}
	}
	p.maxIdle.Store(maxIdleWorkers())
	p.ticking.Store(false)
	if p.idle.Load() > 0 {
		p.startTicking()
	}
}

// serveCancel ends the handler of a stream whose caller gave up: its
// context is cancelled, it sends nothing more, and a stream still waiting
// for a handler never runs.
func (c *conn) serveCancel(id uint32) {
	ss := c.lookupServed(id)
	if ss == nil {
		return
	}
	ss.cancelByPeer()
	if c.dequeue(ss) {
		ss.discard()
		c.finishServed(ss, false)
	}
}
