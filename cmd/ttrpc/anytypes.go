package main

import (
	"context"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// anyTypes resolves the message types named by google.protobuf.Any values
// in requests and answers: first among the files the method was found in,
// then by asking the source (the server's reflection service finds types
// of its other files). It is a protojson resolver.
type anyTypes struct {
	ctx   context.Context
	src   source
	types *dynamicpb.Types
}

func newAnyTypes(ctx context.Context, src source, files *protoregistry.Files) *anyTypes {
	return &anyTypes{ctx: ctx, src: src, types: dynamicpb.NewTypes(files)}
}

// FindMessageByName returns the type of the message called name, or
// protoregistry.NotFound.
func (a *anyTypes) FindMessageByName(name protoreflect.FullName) (protoreflect.MessageType, error) {
	if mt, err := a.types.FindMessageByName(name); err == nil {
		return mt, nil
	}
	d, _, err := a.src.find(a.ctx, string(name))
	if err != nil {
		return nil, protoregistry.NotFound
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, protoregistry.NotFound
	}
	return dynamicpb.NewMessageType(md), nil
}

// FindMessageByURL returns the type a type URL such as
// "type.googleapis.com/pkg.Message" names, or protoregistry.NotFound.
func (a *anyTypes) FindMessageByURL(url string) (protoreflect.MessageType, error) {
	name := url
	if i := strings.LastIndexByte(url, '/'); i >= 0 {
		name = url[i+1:]
	}
	return a.FindMessageByName(protoreflect.FullName(name))
}

// FindExtensionByName returns the extension called field, or
// protoregistry.NotFound.
func (a *anyTypes) FindExtensionByName(field protoreflect.FullName) (protoreflect.ExtensionType, error) {
	return a.types.FindExtensionByName(field)
}

// FindExtensionByNumber returns the extension number field of message, or
// protoregistry.NotFound.
func (a *anyTypes) FindExtensionByNumber(message protoreflect.FullName, field protoreflect.FieldNumber) (protoreflect.ExtensionType, error) {
	return a.types.FindExtensionByNumber(message, field)
}
