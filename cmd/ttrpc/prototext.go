package main

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// protoText writes descriptors as .proto source (without options): what
// describe prints. Type names in the descriptor's own package are written
// relative to it, others fully qualified with a leading dot.
type protoText struct {
	b      strings.Builder
	pkg    protoreflect.FullName
	indent int
}

func newProtoText(d protoreflect.Descriptor) *protoText {
	return &protoText{pkg: d.ParentFile().Package()}
}

func (p *protoText) String() string { return p.b.String() }

func (p *protoText) line(format string, args ...any) {
	p.b.WriteString(strings.Repeat("  ", p.indent))
	fmt.Fprintf(&p.b, format, args...)
	p.b.WriteByte('\n')
}

// comments writes d's leading comments from the source, if the descriptor
// kept them (--proto files do; reflection and protosets may not).
func (p *protoText) comments(d protoreflect.Descriptor) {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	text := strings.TrimRight(loc.LeadingComments, "\n")
	if text == "" {
		return
	}
	for _, l := range strings.Split(text, "\n") {
		p.line("//%s", l)
	}
}

func (p *protoText) typeName(d protoreflect.Descriptor) string {
	name := d.FullName()
	if pkg := string(p.pkg); pkg != "" && d.ParentFile().Package() == p.pkg {
		return strings.TrimPrefix(string(name), pkg+".")
	}
	return "." + string(name)
}

func (p *protoText) service(sd protoreflect.ServiceDescriptor) {
	p.comments(sd)
	p.line("service %s {", sd.Name())
	p.indent++
	for i := range sd.Methods().Len() {
		p.method(sd.Methods().Get(i))
	}
	p.indent--
	p.line("}")
}

func (p *protoText) method(md protoreflect.MethodDescriptor) {
	p.comments(md)
	in, out := p.typeName(md.Input()), p.typeName(md.Output())
	if md.IsStreamingClient() {
		in = "stream " + in
	}
	if md.IsStreamingServer() {
		out = "stream " + out
	}
	p.line("rpc %s(%s) returns (%s);", md.Name(), in, out)
}

func (p *protoText) message(m protoreflect.MessageDescriptor) {
	p.comments(m)
	p.line("message %s {", m.Name())
	p.indent++
	printed := map[protoreflect.FullName]bool{}
	for i := range m.Fields().Len() {
		f := m.Fields().Get(i)
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
			if !printed[o.FullName()] {
				printed[o.FullName()] = true
				p.oneof(o)
			}
			continue
		}
		p.field(f)
	}
	for i := range m.Messages().Len() {
		if nested := m.Messages().Get(i); !nested.IsMapEntry() {
			p.message(nested)
		}
	}
	for i := range m.Enums().Len() {
		p.enum(m.Enums().Get(i))
	}
	p.indent--
	p.line("}")
}

func (p *protoText) oneof(o protoreflect.OneofDescriptor) {
	p.comments(o)
	p.line("oneof %s {", o.Name())
	p.indent++
	for i := range o.Fields().Len() {
		p.field(o.Fields().Get(i))
	}
	p.indent--
	p.line("}")
}

func (p *protoText) field(f protoreflect.FieldDescriptor) {
	p.comments(f)
	p.line("%s%s %s = %d;", p.label(f), p.fieldType(f), f.Name(), f.Number())
}

func (p *protoText) label(f protoreflect.FieldDescriptor) string {
	switch {
	case f.IsMap():
		return ""
	case f.Cardinality() == protoreflect.Repeated:
		return "repeated "
	case f.Cardinality() == protoreflect.Required:
		return "required "
	case f.ParentFile().Syntax() == protoreflect.Proto2 && f.ContainingOneof() == nil:
		return "optional "
	case f.HasOptionalKeyword():
		return "optional "
	}
	return ""
}

func (p *protoText) fieldType(f protoreflect.FieldDescriptor) string {
	if f.IsMap() {
		return fmt.Sprintf("map<%s, %s>", p.fieldType(f.MapKey()), p.fieldType(f.MapValue()))
	}
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return p.typeName(f.Message())
	case protoreflect.EnumKind:
		return p.typeName(f.Enum())
	}
	return f.Kind().String()
}

func (p *protoText) enum(e protoreflect.EnumDescriptor) {
	p.comments(e)
	p.line("enum %s {", e.Name())
	p.indent++
	for i := range e.Values().Len() {
		p.enumValue(e.Values().Get(i))
	}
	p.indent--
	p.line("}")
}

func (p *protoText) enumValue(v protoreflect.EnumValueDescriptor) {
	p.comments(v)
	p.line("%s = %d;", v.Name(), v.Number())
}
