package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/ttrpc-go/ttrpc"
)

const callUsage = `Usage: ttrpc call [flags] ADDRESS SERVICE/METHOD

Calls METHOD of SERVICE (fully qualified, pkg.v1.Service/Method) with a
request written in protobuf JSON and prints the answer as protobuf JSON on
standard output. The method's shape decides the rest:

  unary             one request, one answer (printed indented)
  server-streaming  one request; every answer on a line of its own
  client-streaming  any number of requests; one answer (printed indented)
  bidi-streaming    any number of requests; every answer on a line of its
                    own, as it arrives

Call flags:
  -d, --data JSON        the request: a JSON object; for client-streaming and
                         bidi methods any number of them, one a line
  -d @FILE               the same, read from FILE
  -d @-                  the same, read from standard input (requests of a
                         stream are sent as each line arrives)
                         Without -d the request is empty ({}) for unary and
                         server-streaming methods, and a stream sends none.
  --emit-defaults        print fields that have their default value too
`

func runCall(ctx context.Context, args []string, std stdio) error {
	var (
		o            options
		data         string
		emitDefaults bool
	)
	fs := newFlagSet("call", &o)
	fs.StringVar(&data, "d", "", "")
	fs.StringVar(&data, "data", "", "")
	fs.BoolVar(&emitDefaults, "emit-defaults", false, "")
	pos, err := parseCommand(fs, &o, args, 2, 2)
	if err != nil {
		return err
	}
	service, method, err := splitMethod(pos[1])
	if err != nil {
		return err
	}
	st, err := start(ctx, &o, pos[0])
	defer st.done()
	if err != nil {
		return err
	}
	ctx, src := st.ctx, st.src
	md, types, err := findMethod(ctx, src, service, method)
	if err != nil {
		return err
	}
	in, err := openRequests(data, std.in, md.Input(), types)
	if err != nil {
		return err
	}
	defer in.close()
	c := &caller{
		service: service, method: method, desc: md,
		in: in, out: newAnswers(std.out, types, emitDefaults),
	}
	if !md.IsStreamingClient() {
		// Read the request before connecting: bad JSON is a usage error
		// even when the server is down.
		if c.first, err = in.one(); err != nil {
			return err
		}
	}
	if c.client, err = st.sess.client(ctx); err != nil {
		return err
	}
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		return c.bidi(ctx)
	case md.IsStreamingClient():
		return c.clientStream(ctx)
	case md.IsStreamingServer():
		return c.serverStream(ctx)
	}
	return c.unary(ctx)
}

// findMethod returns the descriptor of service/method and the message
// types to resolve google.protobuf.Any with. A name the source does not
// define is a usage error saying what it does define.
func findMethod(ctx context.Context, src source, service, method string) (protoreflect.MethodDescriptor, *anyTypes, error) {
	d, files, err := src.find(ctx, service+"."+method)
	if errors.Is(err, errUnknownSymbol) {
		return nil, nil, unknownMethod(ctx, src, service, method)
	}
	if err != nil {
		return nil, nil, err
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, nil, usageErrorf("%s.%s is a %s, not a method", service, method, kindName(d))
	}
	return md, newAnyTypes(ctx, src, files), nil
}

// unknownMethod explains why service/method cannot be called.
func unknownMethod(ctx context.Context, src source, service, method string) error {
	d, _, err := src.find(ctx, service)
	if sd, ok := d.(protoreflect.ServiceDescriptor); err == nil && ok {
		var names []string
		for i := range sd.Methods().Len() {
			names = append(names, string(sd.Methods().Get(i).Name()))
		}
		return usageErrorf("unknown method %s/%s: the service has %s", service, method, strings.Join(names, ", "))
	}
	if e, ok := findEntry(ctx, src, service); ok && !e.described {
		return toolErrorf("the server serves %s but does not describe it: give its .proto file with --proto FILE or a descriptor set with --protoset FILE", service)
	}
	return usageErrorf("unknown service %s: not known to %s (ttrpc list ADDRESS shows the services)", service, src.where())
}

// caller makes one call of any shape.
type caller struct {
	client          *ttrpc.Client
	service, method string
	desc            protoreflect.MethodDescriptor
	first           proto.Message // the request of a non-streaming client side
	in              *requests
	out             *answers
}

func (c *caller) newAnswer() proto.Message { return dynamicpb.NewMessage(c.desc.Output()) }

func (c *caller) unary(ctx context.Context) error {
	resp := c.newAnswer()
	if err := c.client.Call(ctx, c.service, c.method, c.first, resp); err != nil {
		return callError(err)
	}
	return c.out.print(resp, false)
}

func (c *caller) serverStream(ctx context.Context) error {
	stream, err := c.client.NewStream(ctx, &ttrpc.StreamDesc{StreamingServer: true}, c.service, c.method, c.first)
	if err != nil {
		return callError(err)
	}
	return c.receiveAll(stream)
}

// receiveAll prints every answer of stream, one a line, until it ends.
func (c *caller) receiveAll(stream ttrpc.ClientStream) error {
	for {
		resp := c.newAnswer()
		err := stream.RecvMsg(resp)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return callError(err)
		}
		if err := c.out.print(resp, true); err != nil {
			return err
		}
	}
}

func (c *caller) clientStream(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.NewStream(ctx, &ttrpc.StreamDesc{StreamingClient: true}, c.service, c.method, nil)
	if err != nil {
		return callError(err)
	}
	if err := c.sendAll(stream); err != nil {
		return err
	}
	resp := c.newAnswer()
	if err := stream.RecvMsg(resp); err != nil {
		return callError(err)
	}
	return c.out.print(resp, false)
}

// sendAll sends every request, then closes the sending side. It fails for
// bad input and for a request over the size limit. Other send errors mean
// the call has ended: it stops sending and lets RecvMsg report how.
func (c *caller) sendAll(stream ttrpc.ClientStream) error {
	for {
		m, err := c.in.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := stream.SendMsg(m); err != nil {
			var oversized *ttrpc.OversizedMessageErr
			if errors.As(err, &oversized) {
				return callError(err)
			}
			return nil
		}
	}
	stream.CloseSend() // fails only when the call has ended: RecvMsg says how
	return nil
}

func (c *caller) bidi(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.NewStream(ctx, &ttrpc.StreamDesc{StreamingClient: true, StreamingServer: true}, c.service, c.method, nil)
	if err != nil {
		return callError(err)
	}
	var (
		mu      sync.Mutex
		sendErr error
	)
	// Requests go out as they are read, answers are printed as they come:
	// a chat works line by line on a terminal.
	go func() {
		if err := c.sendAll(stream); err != nil {
			mu.Lock()
			sendErr = err
			mu.Unlock()
			cancel() // ends the call; RecvMsg returns
		}
	}()
	recvErr := c.receiveAll(stream)
	mu.Lock()
	defer mu.Unlock()
	if sendErr != nil {
		return sendErr
	}
	return recvErr
}
