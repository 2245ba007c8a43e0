package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"google.golang.org/protobuf/reflect/protoreflect"
)

const listUsage = `Usage: ttrpc list [flags] ADDRESS [SERVICE]

Without SERVICE, prints the name of every service, one a line. With
SERVICE, prints each of its methods as SERVICE/METHOD, ready for ttrpc call,
with its shape (unary, server-streaming, client-streaming, bidi-streaming)
and its request and response types.

The server's reflection service answers; with --proto or --protoset the
files answer instead and the server is not contacted.
`

func runList(ctx context.Context, args []string, std stdio) error {
	var o options
	pos, err := parseCommand(newFlagSet("list", &o), &o, args, 1, 2)
	if err != nil {
		return err
	}
	st, err := start(ctx, &o, pos[0])
	defer st.done()
	if err != nil {
		return err
	}
	ctx, src := st.ctx, st.src
	if len(pos) == 1 {
		return listServices(ctx, src, std)
	}
	return listMethods(ctx, src, pos[1], std)
}

func listServices(ctx context.Context, src source, std stdio) error {
	entries, err := src.services(ctx)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return toolErrorf("no service is known to %s", src.where())
	}
	for _, e := range entries {
		if e.described {
			fmt.Fprintln(std.out, e.name)
		} else {
			fmt.Fprintf(std.out, "%s (served but not described: calling it needs --proto or --protoset)\n", e.name)
		}
	}
	return nil
}

func listMethods(ctx context.Context, src source, service string, std stdio) error {
	d, _, err := src.find(ctx, trimDot(service))
	if errors.Is(err, errUnknownSymbol) {
		// A service served without descriptors still has method names.
		if e, ok := findEntry(ctx, src, trimDot(service)); ok {
			for _, m := range e.methods {
				fmt.Fprintf(std.out, "%s/%s\t(shape and types unknown)\n", e.name, m)
			}
			return nil
		}
		return usageErrorf("unknown service %s: not known to %s (ttrpc list ADDRESS shows the services)", service, src.where())
	}
	if err != nil {
		return err
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return usageErrorf("%s is a %s, not a service (try ttrpc describe)", service, kindName(d))
	}
	tw := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	for i := range sd.Methods().Len() {
		md := sd.Methods().Get(i)
		fmt.Fprintf(tw, "%s/%s\t%s\t%s -> %s\n", sd.FullName(), md.Name(), shape(md), md.Input().FullName(), md.Output().FullName())
	}
	return tw.Flush()
}

// findEntry looks service up in the source's list of services.
func findEntry(ctx context.Context, src source, service string) (serviceEntry, bool) {
	entries, err := src.services(ctx)
	if err != nil {
		return serviceEntry{}, false
	}
	for _, e := range entries {
		if e.name == service {
			return e, true
		}
	}
	return serviceEntry{}, false
}

// shape names a method's call shape.
func shape(md protoreflect.MethodDescriptor) string {
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		return "bidi-streaming"
	case md.IsStreamingClient():
		return "client-streaming"
	case md.IsStreamingServer():
		return "server-streaming"
	}
	return "unary"
}
