package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/reflection"
	"github.com/ttrpc-go/ttrpc/status"
)

// A source tells which services exist and what their descriptors are: the
// server's reflection service, or files given on the command line.
type source interface {
	// services lists the services, sorted by name.
	services(ctx context.Context) ([]serviceEntry, error)
	// find returns the descriptor of the fully-qualified name and the
	// files it was found in (for resolving google.protobuf.Any). It fails
	// wrapping errUnknownSymbol when the source has no such name.
	find(ctx context.Context, name string) (protoreflect.Descriptor, *protoregistry.Files, error)
	// where names the source in messages: "the server's reflection",
	// "the --proto files".
	where() string
}

// serviceEntry is one service a source knows.
type serviceEntry struct {
	name    string
	methods []string
	// described is false for a service the server serves but has no
	// descriptor for: its methods' types are unknown.
	described bool
}

// errUnknownSymbol is wrapped by source.find for a name the source does
// not define.
var errUnknownSymbol = errors.New("unknown symbol")

// newSource returns the source the flags ask for: --proto files,
// --protoset files, or else the reflection service of the server that s
// connects to.
func newSource(ctx context.Context, o *options, s *session) (source, error) {
	switch {
	case len(o.protos) > 0:
		return loadProtos(ctx, o.protos, o.importPaths)
	case len(o.protosets) > 0:
		return loadProtosets(o.protosets)
	}
	return &reflectionSource{session: s}, nil
}

// reflectionSource asks the server's reflection service.
type reflectionSource struct {
	session *session
}

func (r *reflectionSource) where() string { return "the server's reflection service" }

func (r *reflectionSource) client(ctx context.Context) (*reflection.Client, error) {
	c, err := r.session.client(ctx)
	if err != nil {
		return nil, err
	}
	return reflection.NewClient(c), nil
}

func (r *reflectionSource) services(ctx context.Context) ([]serviceEntry, error) {
	rc, err := r.client(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := rc.ListServices(ctx)
	if err != nil {
		return nil, r.session.reflectionError(err)
	}
	entries := make([]serviceEntry, 0, len(infos))
	for _, info := range infos {
		entries = append(entries, serviceEntry{name: info.GetName(), methods: info.GetMethods(), described: info.GetDescribed()})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, nil
}

func (r *reflectionSource) find(ctx context.Context, name string) (protoreflect.Descriptor, *protoregistry.Files, error) {
	rc, err := r.client(ctx)
	if err != nil {
		return nil, nil, err
	}
	files, err := rc.FileContainingSymbol(ctx, name)
	if status.Code(err) == codes.NotFound && !errors.Is(err, reflection.ErrNotServed) {
		return nil, nil, fmt.Errorf("%w %s: the server does not describe it", errUnknownSymbol, name)
	}
	if err != nil {
		return nil, nil, r.session.reflectionError(err)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: the server's answer does not define it", errUnknownSymbol, name)
	}
	return d, files, nil
}

// fileSource holds descriptors parsed from --proto or read from
// --protoset files.
type fileSource struct {
	flag  string                        // "--proto" or "--protoset"
	files *protoregistry.Files          // every file, imports included
	roots []protoreflect.FileDescriptor // the files named on the command line
}

func (f *fileSource) where() string { return "the " + f.flag + " files" }

func (f *fileSource) services(context.Context) ([]serviceEntry, error) {
	seen := map[protoreflect.FullName]bool{}
	var entries []serviceEntry
	for _, fd := range f.roots {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			if seen[sd.FullName()] {
				continue
			}
			seen[sd.FullName()] = true
			e := serviceEntry{name: string(sd.FullName()), described: true}
			for j := range sd.Methods().Len() {
				e.methods = append(e.methods, string(sd.Methods().Get(j).Name()))
			}
			sort.Strings(e.methods)
			entries = append(entries, e)
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, nil
}

func (f *fileSource) find(_ context.Context, name string) (protoreflect.Descriptor, *protoregistry.Files, error) {
	d, err := f.files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		return nil, nil, fmt.Errorf("%w %s: not defined in %s", errUnknownSymbol, name, f.where())
	}
	return d, f.files, nil
}

// loadProtos parses the .proto files at paths with their imports, looked
// up in importPaths (the files' own directories when there are none) and
// among the well-known google/protobuf files. A file may be named by its
// path on disk or relative to an import path.
func loadProtos(ctx context.Context, paths, importPaths []string) (*fileSource, error) {
	dirs := append([]string(nil), importPaths...)
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		name, dir := protoName(p, importPaths)
		if dir != "" && !contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
		names = append(names, name)
	}
	compiler := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: dirs}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := compiler.Compile(ctx, names...)
	if err != nil {
		return nil, usageErrorf("--proto: %v", err)
	}
	src := &fileSource{flag: "--proto", files: new(protoregistry.Files)}
	for _, fd := range compiled {
		if err := register(src.files, fd); err != nil {
			return nil, usageErrorf("--proto: %v", err)
		}
		src.roots = append(src.roots, fd)
	}
	return src, nil
}

// protoName returns the name under which the compiler looks p up, and a
// directory to add to the import paths for it (or ""). A p that exists on
// disk inside one of importPaths is named relative to it, one outside them
// all by its base name in its own directory (searched after them); any
// other p is taken as a name relative to the import paths.
func protoName(p string, importPaths []string) (name, dir string) {
	if _, err := os.Stat(p); err != nil {
		return filepath.ToSlash(p), ""
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.ToSlash(p), ""
	}
	for _, ip := range importPaths {
		ipAbs, err := filepath.Abs(ip)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(ipAbs, abs); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel), ""
		}
	}
	return filepath.Base(abs), filepath.Dir(abs)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// register adds fd and, before it, every file it imports to files,
// skipping files already there.
func register(files *protoregistry.Files, fd protoreflect.FileDescriptor) error {
	if _, err := files.FindFileByPath(fd.Path()); err == nil {
		return nil
	}
	for i := range fd.Imports().Len() {
		if err := register(files, fd.Imports().Get(i).FileDescriptor); err != nil {
			return err
		}
	}
	return files.RegisterFile(fd)
}

// loadProtosets reads serialised FileDescriptorSets. Imports missing from
// the sets are taken from the well-known files linked into the command.
func loadProtosets(paths []string) (*fileSource, error) {
	set := &descriptorpb.FileDescriptorSet{}
	var rootNames []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageErrorf("--protoset: %v", err)
		}
		var one descriptorpb.FileDescriptorSet
		if err := proto.Unmarshal(b, &one); err != nil {
			return nil, usageErrorf("--protoset %s: not a FileDescriptorSet: %v", p, err)
		}
		for _, fdp := range one.GetFile() {
			rootNames = append(rootNames, fdp.GetName())
		}
		set.File = append(set.File, one.GetFile()...)
	}
	set.File = dedupFiles(set.File)
	addWellKnown(set)
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, usageErrorf("--protoset: %v", err)
	}
	src := &fileSource{flag: "--protoset", files: files}
	for _, name := range rootNames {
		fd, err := files.FindFileByPath(name)
		if err == nil && !containsFile(src.roots, fd) {
			src.roots = append(src.roots, fd)
		}
	}
	return src, nil
}

func containsFile(list []protoreflect.FileDescriptor, fd protoreflect.FileDescriptor) bool {
	for _, v := range list {
		if v.Path() == fd.Path() {
			return true
		}
	}
	return false
}

// dedupFiles drops later copies of a file that several sets carry.
func dedupFiles(in []*descriptorpb.FileDescriptorProto) []*descriptorpb.FileDescriptorProto {
	seen := map[string]bool{}
	out := in[:0]
	for _, f := range in {
		if !seen[f.GetName()] {
			seen[f.GetName()] = true
			out = append(out, f)
		}
	}
	return out
}

// addWellKnown appends to set the linked-in files (google/protobuf/…) that
// its files import but it does not carry.
func addWellKnown(set *descriptorpb.FileDescriptorSet) {
	have := map[string]bool{}
	for _, f := range set.GetFile() {
		have[f.GetName()] = true
	}
	for i := 0; i < len(set.File); i++ { // set.File grows as imports are added
		for _, dep := range set.File[i].GetDependency() {
			if have[dep] {
				continue
			}
			fd, err := protoregistry.GlobalFiles.FindFileByPath(dep)
			if err != nil {
				continue // protodesc.NewFiles reports it
			}
			have[dep] = true
			set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
		}
	}
}
