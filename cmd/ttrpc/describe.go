package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

const describeUsage = `Usage: ttrpc describe [flags] ADDRESS SYMBOL

Prints the definition of SYMBOL, a fully-qualified name: a service
(pkg.v1.Service), a method (pkg.v1.Service/Method or pkg.v1.Service.Method),
a message, an enum, a field or an enum value, as .proto source.

The server's reflection service answers; with --proto or --protoset the
files answer instead and the server is not contacted.
`

func runDescribe(ctx context.Context, args []string, std stdio) error {
	var o options
	pos, err := parseCommand(newFlagSet("describe", &o), &o, args, 2, 2)
	if err != nil {
		return err
	}
	st, err := start(ctx, &o, pos[0])
	defer st.done()
	if err != nil {
		return err
	}
	ctx, src := st.ctx, st.src
	symbol := strings.Replace(trimDot(pos[1]), "/", ".", 1)
	d, _, err := src.find(ctx, symbol)
	if errors.Is(err, errUnknownSymbol) {
		return usageErrorf("unknown symbol %s: not known to %s", pos[1], src.where())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "%s is a %s in %s:\n", d.FullName(), kindName(d), d.ParentFile().Path())
	std.out.Write([]byte(describeText(d)))
	return nil
}

// describeText returns d as .proto source.
func describeText(d protoreflect.Descriptor) string {
	p := newProtoText(d)
	switch d := d.(type) {
	case protoreflect.ServiceDescriptor:
		p.service(d)
	case protoreflect.MethodDescriptor:
		p.method(d)
	case protoreflect.MessageDescriptor:
		p.message(d)
	case protoreflect.EnumDescriptor:
		p.enum(d)
	case protoreflect.EnumValueDescriptor:
		p.enumValue(d)
	case protoreflect.FieldDescriptor:
		p.field(d)
	case protoreflect.OneofDescriptor:
		p.oneof(d)
	default:
		p.line("// %s", d.FullName())
	}
	return p.String()
}

// kindName says what kind of definition d is.
func kindName(d protoreflect.Descriptor) string {
	switch d := d.(type) {
	case protoreflect.ServiceDescriptor:
		return "service"
	case protoreflect.MethodDescriptor:
		return shape(d) + " method"
	case protoreflect.MessageDescriptor:
		return "message"
	case protoreflect.EnumDescriptor:
		return "enum"
	case protoreflect.EnumValueDescriptor:
		return "enum value"
	case protoreflect.FieldDescriptor:
		if d.IsExtension() {
			return "extension"
		}
		return "field"
	case protoreflect.OneofDescriptor:
		return "oneof"
	}
	return "definition"
}

// trimDot drops the leading dot of a fully-qualified name written as in
// .proto source.
func trimDot(name string) string { return strings.TrimPrefix(name, ".") }
