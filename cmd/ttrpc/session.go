package main

import (
	"context"
	"errors"
	"strings"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/reflection"
)

// session is the command's connection to the server, opened on first use.
type session struct {
	address string
	opts    *options
	c       *ttrpc.Client
}

// commandContext returns ctx bounded by --timeout and carrying the -H
// metadata, which every call of the command (reflection included) sends.
func commandContext(ctx context.Context, o *options) (context.Context, context.CancelFunc) {
	cancel := context.CancelFunc(func() {})
	if o.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	if len(o.headers) > 0 {
		md := ttrpc.MD{}
		for _, h := range o.headers {
			k, v, _ := strings.Cut(h, "=")
			md.Append(k, v)
		}
		ctx = ttrpc.WithMetadata(ctx, md)
	}
	return ctx, cancel
}

// started is what every command works with once its flags are parsed.
type started struct {
	ctx    context.Context // bounded by --timeout, carrying -H metadata
	sess   *session
	src    source // where descriptors come from
	cancel context.CancelFunc
}

// start bounds ctx by the command's flags (commandContext) and opens the
// source of descriptors o names for the server at address. The result's
// done must be called, even when start fails: it closes the connection,
// if one was made, and releases the context.
func start(ctx context.Context, o *options, address string) (*started, error) {
	st := &started{sess: &session{address: address, opts: o}}
	st.ctx, st.cancel = commandContext(ctx, o)
	var err error
	st.src, err = newSource(st.ctx, o, st.sess)
	return st, err
}

func (st *started) done() {
	st.sess.close()
	st.cancel()
}

// client returns the connection's client, dialling the address first when
// needed. A failed dial is a tool failure.
func (s *session) client(ctx context.Context) (*ttrpc.Client, error) {
	if s.c != nil {
		return s.c, nil
	}
	dctx, cancel := context.WithTimeout(ctx, s.opts.connectTimeout)
	defer cancel()
	c, err := ttrpc.Dial(dctx, s.address, ttrpc.WithClientWireMessageLimit(s.opts.maxMessageSize))
	if err != nil {
		if errors.Is(err, ttrpc.ErrMalformedAddress) {
			return nil, usageErrorf("%v (see ttrpc --help for the address forms)", err)
		}
		return nil, toolErrorf("cannot connect to %s: %v", s.address, err)
	}
	s.c = c
	return c, nil
}

// close closes the connection, if one was opened.
func (s *session) close() {
	if s.c != nil {
		s.c.Close()
	}
}

// reflectionError turns an error of the reflection service into the
// command's failure: a server without reflection is a tool failure with
// a hint; any other failed call keeps its status code.
func (s *session) reflectionError(err error) error {
	if errors.Is(err, reflection.ErrNotServed) {
		return toolErrorf("the server at %s does not offer reflection (%s answered Unimplemented): "+
			"give the service's .proto file with --proto FILE (and -I DIR for its imports), "+
			"or a descriptor set with --protoset FILE", s.address, reflection.ServiceName)
	}
	return callError(err)
}
