package reflection

import (
	"context"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	reflectionv1 "github.com/ttrpc-go/ttrpc/reflection/v1"
	"github.com/ttrpc-go/ttrpc/status"
)

// service implements reflectionv1.ReflectionService for one server.
type service struct {
	srv       *ttrpc.Server
	resolvers []protodesc.Resolver
}

func (s *service) ListServices(context.Context, *reflectionv1.ListServicesRequest) (*reflectionv1.ListServicesResponse, error) {
	var resp reflectionv1.ListServicesResponse
	for _, name := range s.srv.ServiceNames() {
		methods, _ := s.srv.ServiceMethods(name)
		resp.Services = append(resp.Services, &reflectionv1.ServiceInfo{
			Name:      name,
			Methods:   methods,
			Described: s.findService(name) != nil,
		})
	}
	return &resp, nil
}

func (s *service) FileContainingSymbol(_ context.Context, req *reflectionv1.FileContainingSymbolRequest) (*reflectionv1.FileDescriptorsResponse, error) {
	symbol := protoreflect.FullName(strings.TrimPrefix(req.GetSymbol(), "."))
	if !symbol.IsValid() {
		return nil, status.Errorf(codes.InvalidArgument, "%q is not a fully-qualified protobuf name", req.GetSymbol())
	}
	served := s.servedFiles()
	for _, r := range s.resolvers {
		d, err := r.FindDescriptorByName(symbol)
		if err != nil {
			continue
		}
		if _, ok := served[d.ParentFile().Path()]; ok {
			return filesResponse(d.ParentFile())
		}
	}
	return nil, status.Errorf(codes.NotFound, "symbol %s is not defined by the files of the services this server serves", symbol)
}

func (s *service) FileByFilename(_ context.Context, req *reflectionv1.FileByFilenameRequest) (*reflectionv1.FileDescriptorsResponse, error) {
	if fd, ok := s.servedFiles()[req.GetFilename()]; ok {
		return filesResponse(fd)
	}
	return nil, status.Errorf(codes.NotFound, "file %q is not among the files of the services this server serves", req.GetFilename())
}

// findService returns the descriptor of the service called name, or nil.
func (s *service) findService(name string) protoreflect.ServiceDescriptor {
	for _, r := range s.resolvers {
		if d, err := r.FindDescriptorByName(protoreflect.FullName(name)); err == nil {
			if sd, ok := d.(protoreflect.ServiceDescriptor); ok {
				return sd
			}
		}
	}
	return nil
}

// servedFiles returns, by path, the files defining the services registered
// now and every file they import: what reflection may disclose. It is
// computed per request, as services can be registered at any time.
func (s *service) servedFiles() map[string]protoreflect.FileDescriptor {
	files := make(map[string]protoreflect.FileDescriptor)
	for _, name := range s.srv.ServiceNames() {
		if sd := s.findService(name); sd != nil {
			addWithImports(files, sd.ParentFile())
		}
	}
	return files
}

func addWithImports(files map[string]protoreflect.FileDescriptor, fd protoreflect.FileDescriptor) {
	if fd == nil || fd.IsPlaceholder() {
		return
	}
	if _, ok := files[fd.Path()]; ok {
		return
	}
	files[fd.Path()] = fd
	imports := fd.Imports()
	for i := 0; i < imports.Len(); i++ {
		addWithImports(files, imports.Get(i).FileDescriptor)
	}
}

// filesResponse encodes fd and its transitive imports, fd first.
func filesResponse(fd protoreflect.FileDescriptor) (*reflectionv1.FileDescriptorsResponse, error) {
	closure := make(map[string]protoreflect.FileDescriptor)
	addWithImports(closure, fd)
	order := []protoreflect.FileDescriptor{fd}
	for path, f := range closure {
		if path != fd.Path() {
			order = append(order, f)
		}
	}
	var resp reflectionv1.FileDescriptorsResponse
	for _, f := range order {
		b, err := proto.Marshal(protodesc.ToFileDescriptorProto(f))
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encoding %s: %v", f.Path(), err)
		}
		resp.FileDescriptorProto = append(resp.FileDescriptorProto, b)
	}
	return &resp, nil
}
