package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// requests reads request messages in protobuf JSON: a sequence of JSON
// objects, typically one a line (any white space may separate them).
type requests struct {
	dec   *json.Decoder // nil: no input at all
	close func() error
	desc  protoreflect.MessageDescriptor
	opts  protojson.UnmarshalOptions
	n     int // messages read so far
}

// openRequests opens the -d argument: "" for no input, "@-" for standard
// input, "@FILE" for a file, anything else for the JSON itself.
func openRequests(data string, stdin io.Reader, desc protoreflect.MessageDescriptor, types *anyTypes) (*requests, error) {
	r := &requests{desc: desc, close: func() error { return nil }, opts: protojson.UnmarshalOptions{Resolver: types}}
	switch {
	case data == "":
	case data == "@-":
		r.dec = json.NewDecoder(stdin)
	case strings.HasPrefix(data, "@"):
		f, err := os.Open(data[1:])
		if err != nil {
			return nil, usageErrorf("-d %s: %v", data, err)
		}
		r.dec, r.close = json.NewDecoder(f), f.Close
	default:
		r.dec = json.NewDecoder(strings.NewReader(data))
	}
	return r, nil
}

// next returns the next request, io.EOF after the last, or a usage
// failure for input that is not a JSON object of the request type.
func (r *requests) next() (proto.Message, error) {
	if r.dec == nil {
		return nil, io.EOF
	}
	var raw json.RawMessage
	if err := r.dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, usageErrorf("bad JSON in request %d: %v", r.n+1, err)
	}
	r.n++
	m := dynamicpb.NewMessage(r.desc)
	if err := r.opts.Unmarshal(raw, m); err != nil {
		return nil, usageErrorf("request %d is not a valid %s: %v", r.n, r.desc.FullName(), err)
	}
	return m, nil
}

// one returns the only request of a call whose client side does not
// stream: an empty message when there is no input, a usage failure when
// there is more than one.
func (r *requests) one() (proto.Message, error) {
	m, err := r.next()
	if errors.Is(err, io.EOF) {
		return dynamicpb.NewMessage(r.desc), nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.next(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, usageErrorf("this method takes one request, but -d holds more than one JSON object")
	}
	return m, nil
}

// answers prints response messages as protobuf JSON.
type answers struct {
	w    io.Writer
	opts protojson.MarshalOptions
}

func newAnswers(w io.Writer, types *anyTypes, emitDefaults bool) *answers {
	return &answers{w: w, opts: protojson.MarshalOptions{Resolver: types, EmitUnpopulated: emitDefaults}}
}

// print writes m indented over several lines, or on one line when compact
// (one line per message of a stream). The layout is stable: protojson's
// own spacing is not.
func (a *answers) print(m proto.Message, compact bool) error {
	b, err := a.opts.Marshal(m)
	if err != nil {
		return toolErrorf("cannot print the answer as JSON: %v (a google.protobuf.Any in it may name a type "+
			"the descriptors do not define: add its .proto file with --proto)", err)
	}
	var out bytes.Buffer
	if compact {
		err = json.Compact(&out, b)
	} else {
		err = json.Indent(&out, b, "", "  ")
	}
	if err != nil {
		return toolErrorf("cannot print the answer as JSON: %v", err)
	}
	out.WriteByte('\n')
	if _, err := a.w.Write(out.Bytes()); err != nil {
		return toolErrorf("writing the answer: %v", err)
	}
	return nil
}

// splitMethod splits "pkg.Service/Method" (or "pkg.Service.Method", with
// or without a leading slash or dot) into service and method.
func splitMethod(s string) (service, method string, err error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "/"), ".")
	if i := strings.LastIndexByte(t, '/'); i >= 0 {
		service, method = t[:i], t[i+1:]
	} else if i := strings.LastIndexByte(t, '.'); i >= 0 {
		service, method = t[:i], t[i+1:]
	}
	if service == "" || method == "" || strings.Contains(service, "/") {
		return "", "", usageErrorf("method %q: want SERVICE/METHOD, such as pkg.v1.Service/Method", s)
	}
	return service, method, nil
}
