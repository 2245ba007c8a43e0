package ttrpc

import "io"

// connReader buffers what the frame reader reads from a connection. Every
// read from the transport asks for at least readBufferSize bytes (some
// transports fail shorter reads than their next packet). On a socket the
// buffer is only borrowed from the pool while bytes wait in it: the reader
// parks on an idle connection without one (see rawReader), which saves
// readBufferSize per idle connection.
type connReader struct {
	r io.Reader
	// raw, when set, fills a pooled buffer straight from the socket and
	// waits for readability without holding one.
	raw func(into []byte) (*[]byte, int, error)

	buf        *[]byte
	start, end int   // buffered bytes are (*buf)[start:end]
	err        error // returned once the buffered bytes are consumed
}

func newConnReader(r io.Reader) *connReader {
	return &connReader{r: r, raw: rawReader(r)}
}

// Read implements io.Reader.
func (b *connReader) Read(p []byte) (int, error) {
	if b.start == b.end {
		if b.err != nil {
			err := b.err
			b.err = nil
			return 0, err
		}
		if len(p) >= readBufferSize {
			// Large reads go straight into the caller's buffer.
			if b.raw != nil {
				_, n, err := b.raw(p)
				return n, err
			}
			return b.r.Read(p)
		}
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*b.buf)[b.start:b.end])
	b.start += n
	b.releaseIfEmpty()
	return n, nil
}

// discard skips n bytes.
func (b *connReader) discard(n int) error {
	for n > 0 {
		if b.start == b.end {
			if b.err != nil {
				err := b.err
				b.err = nil
				return err
			}
			if err := b.fill(); err != nil {
				return err
			}
		}
		k := min(n, b.end-b.start)
		b.start += k
		n -= k
		b.releaseIfEmpty()
	}
	return nil
}

func (b *connReader) fill() error {
	var n int
	var err error
	if b.raw != nil {
		b.buf, n, err = b.raw(nil)
	} else {
		if b.buf == nil {
			b.buf = getBuffer(readBufferSize)
		}
		n, err = b.r.Read(*b.buf)
	}
	b.start, b.end = 0, n
	if n == 0 {
		b.releaseIfEmpty()
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	b.err = err
	return nil
}

// releaseIfEmpty gives the buffer back once it is drained, where the
// transport can wait without one.
func (b *connReader) releaseIfEmpty() {
	if b.start == b.end && b.raw != nil && b.buf != nil {
		putBuffer(b.buf)
		b.buf, b.start, b.end = nil, 0, 0
	}
}
