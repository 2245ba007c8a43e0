// Package plugin is the ttrpc plugin for the gogo protobuf generator
// (github.com/gogo/protobuf/protoc-gen-gogo/generator).
//
// Importing the package registers the plugin under the name "ttrpc"; a gogo
// generator binary then writes ttrpc stubs into the same .pb.go as the
// messages when it is run with the "plugins=ttrpc" parameter.
// cmd/protoc-gen-gogottrpc is such a binary.
//
// For a service Greeter in proto package demo.v1 the plugin writes:
//
//   - GreeterService, the interface a server implements;
//   - RegisterGreeterService(srv, svc GreeterService), which registers it
//     under the name "demo.v1.Greeter" on srv, a *ttrpc.Server or a
//     *ttrpc.Client (anything with RegisterService(string,
//     *ttrpc.ServiceDesc)): on a client, the server it is connected to can
//     call the service back over the same connection;
//   - NewGreeterClient(client *ttrpc.Client), returning a GreeterService
//     when the service is unary only and a GreeterClient otherwise;
//   - for every streaming method M, the stream types Greeter_MServer and
//     Greeter_MClient, shaped like protoc-gen-go-ttrpc's.
//
// Go method names are the CamelCase form of the proto names; the name on the
// wire is always the proto method name, on both sides.
//
// Compared with the gogo plugin of containerd/ttrpc v1.1, which registered
// unary methods only, through srv.Register on a *ttrpc.Server: every
// service now registers through RegisterService with a ServiceDesc, and the
// srv parameter is the interface above, so existing callers passing a
// *ttrpc.Server still compile and the code still builds against
// github.com/containerd/ttrpc once the import path is changed.
package plugin

import (
	"strings"

	"github.com/gogo/protobuf/protoc-gen-gogo/descriptor"
	"github.com/gogo/protobuf/protoc-gen-gogo/generator"
)

// TTRPCImportPath is the Go import path generated code uses for the runtime.
const TTRPCImportPath = "github.com/ttrpc-go/ttrpc"

// Name is the name the plugin is registered under, to be listed in the
// generator's "plugins=" parameter.
const Name = "ttrpc"

func init() {
	generator.RegisterPlugin(New())
}

// New returns a new instance of the ttrpc plugin, for generator binaries
// that register plugins themselves. It cannot fail.
func New() generator.Plugin {
	return &ttrpcPlugin{}
}

type ttrpcPlugin struct {
	*generator.Generator
	generator.PluginImports

	ctxPkg   generator.Single
	ttrpcPkg generator.Single
}

// Name returns the name of the plugin, "ttrpc".
func (p *ttrpcPlugin) Name() string { return Name }

// Init keeps the generator the plugin writes through.
func (p *ttrpcPlugin) Init(g *generator.Generator) { p.Generator = g }

// Generate writes the stubs of every service declared in file.
func (p *ttrpcPlugin) Generate(file *generator.FileDescriptor) {
	p.PluginImports = generator.NewPluginImports(p.Generator)
	p.ctxPkg = p.NewImport("context")
	p.ttrpcPkg = p.NewImport(TTRPCImportPath)
	for _, svc := range file.GetService() {
		fullName := svc.GetName()
		if pkg := file.GetPackage(); pkg != "" {
			fullName = pkg + "." + fullName
		}
		p.service(newService(fullName, svc))
	}
}

// method is one rpc with the names the generated code uses for it.
type method struct {
	desc     *descriptor.MethodDescriptorProto
	goName   string
	wire     string
	cStream  bool
	sStream  bool
	svcIface string // <Service>_<Method>Server
	cliIface string // <Service>_<Method>Client
	svcImpl  string
	cliImpl  string
}

func (m *method) streaming() bool { return m.cStream || m.sStream }

type service struct {
	fullName string
	name     string
	methods  []*method
	streams  bool
}

func newService(fullName string, desc *descriptor.ServiceDescriptorProto) *service {
	s := &service{fullName: fullName, name: generator.CamelCase(desc.GetName())}
	lower := lowerFirst(s.name)
	for _, md := range desc.GetMethod() {
		m := &method{
			desc:    md,
			goName:  generator.CamelCase(md.GetName()),
			wire:    md.GetName(),
			cStream: md.GetClientStreaming(),
			sStream: md.GetServerStreaming(),
		}
		m.svcIface = s.name + "_" + m.goName + "Server"
		m.cliIface = s.name + "_" + m.goName + "Client"
		m.svcImpl = lower + m.goName + "Server"
		m.cliImpl = lower + m.goName + "Client"
		s.streams = s.streams || m.streaming()
		s.methods = append(s.methods, m)
	}
	return s
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// typeName returns the Go type for a fully-qualified proto message name and
// makes sure its package is imported.
func (p *ttrpcPlugin) typeName(protoName string) string {
	p.RecordTypeUse(protoName)
	return p.TypeName(p.ObjectNamed(protoName))
}

func (p *ttrpcPlugin) in(m *method) string  { return p.typeName(m.desc.GetInputType()) }
func (p *ttrpcPlugin) out(m *method) string { return p.typeName(m.desc.GetOutputType()) }

func (p *ttrpcPlugin) ctx() string { return p.ctxPkg.Use() + ".Context" }

func (p *ttrpcPlugin) rt(name string) string { return p.ttrpcPkg.Use() + "." + name }

// block writes head, the body indented, then tail.
func (p *ttrpcPlugin) block(head string, body func(), tail string) {
	p.P(head)
	p.In()
	body()
	p.Out()
	p.P(tail)
}

func (p *ttrpcPlugin) service(s *service) {
	iface := s.name + "Service"
	p.P()
	p.block("type "+iface+" interface {", func() {
		for _, m := range s.methods {
			switch {
			case !m.streaming():
				p.P(m.goName, "(ctx ", p.ctx(), ", req *", p.in(m), ") (*", p.out(m), ", error)")
			case m.cStream && m.sStream:
				p.P(m.goName, "(ctx ", p.ctx(), ", stream ", m.svcIface, ") error")
			case m.cStream:
				p.P(m.goName, "(ctx ", p.ctx(), ", stream ", m.svcIface, ") (*", p.out(m), ", error)")
			default:
				p.P(m.goName, "(ctx ", p.ctx(), ", req *", p.in(m), ", stream ", m.svcIface, ") error")
			}
		}
	}, "}")
	for _, m := range s.methods {
		if m.streaming() {
			p.serverStream(m)
		}
	}
	p.register(s, iface)

	clientIface := iface
	if s.streams {
		clientIface = s.name + "Client"
		p.P()
		p.block("type "+clientIface+" interface {", func() {
			for _, m := range s.methods {
				switch {
				case !m.streaming():
					p.P(m.goName, "(ctx ", p.ctx(), ", req *", p.in(m), ") (*", p.out(m), ", error)")
				case m.cStream:
					p.P(m.goName, "(ctx ", p.ctx(), ") (", m.cliIface, ", error)")
				default:
					p.P(m.goName, "(ctx ", p.ctx(), ", req *", p.in(m), ") (", m.cliIface, ", error)")
				}
			}
		}, "}")
	}

	impl := lowerFirst(s.name) + "Client"
	p.P()
	p.block("type "+impl+" struct {", func() {
		p.P("client *", p.rt("Client"))
	}, "}")
	p.P()
	p.block("func New"+s.name+"Client(client *"+p.rt("Client")+") "+clientIface+" {", func() {
		p.block("return &"+impl+"{", func() { p.P("client: client,") }, "}")
	}, "}")
	for _, m := range s.methods {
		if m.streaming() {
			p.clientStream(s, impl, m)
		} else {
			p.clientUnary(s, impl, m)
		}
	}
}

// serverStream writes the typed stream a streaming handler receives.
func (p *ttrpcPlugin) serverStream(m *method) {
	p.P()
	p.block("type "+m.svcIface+" interface {", func() {
		if m.sStream {
			p.P("Send(*", p.out(m), ") error")
		}
		if m.cStream {
			p.P("Recv() (*", p.in(m), ", error)")
		}
		p.P(p.rt("StreamServer"))
	}, "}")
	p.P()
	p.block("type "+m.svcImpl+" struct {", func() { p.P(p.rt("StreamServer")) }, "}")
	if m.sStream {
		p.P()
		p.block("func (x *"+m.svcImpl+") Send(m *"+p.out(m)+") error {", func() {
			p.P("return x.StreamServer.SendMsg(m)")
		}, "}")
	}
	if m.cStream {
		p.P()
		p.block("func (x *"+m.svcImpl+") Recv() (*"+p.in(m)+", error) {", func() {
			p.recvInto(p.in(m), "x.StreamServer")
		}, "}")
	}
}

// recvInto writes the body of a typed receive: a new message of type typ
// filled by stream.RecvMsg.
func (p *ttrpcPlugin) recvInto(typ, stream string) {
	p.P("m := new(", typ, ")")
	p.block("if err := "+stream+".RecvMsg(m); err != nil {", func() { p.P("return nil, err") }, "}")
	p.P("return m, nil")
}

func (p *ttrpcPlugin) unaryHandler(m *method) {
	p.block(`"`+m.wire+`": func(ctx `+p.ctx()+`, unmarshal func(interface{}) error) (interface{}, error) {`, func() {
		p.P("var req ", p.in(m))
		p.block("if err := unmarshal(&req); err != nil {", func() { p.P("return nil, err") }, "}")
		p.P("return svc.", m.goName, "(ctx, &req)")
	}, "},")
}

func (p *ttrpcPlugin) register(s *service, iface string) {
	p.P()
	// Anything that registers a service descriptor: *ttrpc.Server, and
	// *ttrpc.Client, which serves its peer on its own connection.
	p.P("func Register", iface, "(srv interface {")
	p.In()
	p.P("RegisterService(string, *", p.rt("ServiceDesc"), ")")
	p.Out()
	p.P("}, svc ", iface, ") {")
	p.In()
	p.block(`srv.RegisterService("`+s.fullName+`", &`+p.rt("ServiceDesc")+"{", func() {
		var unary, streams []*method
		for _, m := range s.methods {
			if m.streaming() {
				streams = append(streams, m)
			} else {
				unary = append(unary, m)
			}
		}
		if len(unary) > 0 {
			p.block("Methods: map[string]"+p.rt("Method")+"{", func() {
				for _, m := range unary {
					p.unaryHandler(m)
				}
			}, "},")
		}
		if len(streams) > 0 {
			p.block("Streams: map[string]"+p.rt("Stream")+"{", func() {
				for _, m := range streams {
					p.streamHandler(m)
				}
			}, "},")
		}
	}, "})")
	p.Out()
	p.P("}")
}

func (p *ttrpcPlugin) streamHandler(m *method) {
	p.block(`"`+m.wire+`": {`, func() {
		p.block("Handler: func(ctx "+p.ctx()+", stream "+p.rt("StreamServer")+") (interface{}, error) {", func() {
			args := "ctx, "
			if !m.cStream {
				// The single request is the first message of the stream.
				p.P("m := new(", p.in(m), ")")
				p.block("if err := stream.RecvMsg(m); err != nil {", func() { p.P("return nil, err") }, "}")
				args += "m, "
			}
			call := "svc." + m.goName + "(" + args + "&" + m.svcImpl + "{stream})"
			if m.sStream {
				p.P("return nil, ", call)
			} else {
				p.P("return ", call)
			}
		}, "},")
		p.P("StreamingClient: ", m.cStream, ",")
		p.P("StreamingServer: ", m.sStream, ",")
	}, "},")
}

func (p *ttrpcPlugin) clientUnary(s *service, impl string, m *method) {
	p.P()
	p.block("func (c *"+impl+") "+m.goName+"(ctx "+p.ctx()+", req *"+p.in(m)+") (*"+p.out(m)+", error) {", func() {
		p.P("var resp ", p.out(m))
		p.block(`if err := c.client.Call(ctx, "`+s.fullName+`", "`+m.wire+`", req, &resp); err != nil {`, func() {
			p.P("return nil, err")
		}, "}")
		p.P("return &resp, nil")
	}, "}")
}

func (p *ttrpcPlugin) clientStream(s *service, impl string, m *method) {
	params, req := "", "nil"
	if !m.cStream {
		params, req = ", req *"+p.in(m), "req"
	}
	p.P()
	p.block("func (c *"+impl+") "+m.goName+"(ctx "+p.ctx()+params+") ("+m.cliIface+", error) {", func() {
		p.block("stream, err := c.client.NewStream(ctx, &"+p.rt("StreamDesc")+"{", func() {
			p.P("StreamingClient: ", m.cStream, ",")
			p.P("StreamingServer: ", m.sStream, ",")
		}, `}, "`+s.fullName+`", "`+m.wire+`", `+req+")")
		p.block("if err != nil {", func() { p.P("return nil, err") }, "}")
		p.P("return &", m.cliImpl, "{stream}, nil")
	}, "}")

	p.P()
	p.block("type "+m.cliIface+" interface {", func() {
		if m.cStream {
			p.P("Send(*", p.in(m), ") error")
		}
		if m.sStream {
			p.P("Recv() (*", p.out(m), ", error)")
		} else {
			p.P("CloseAndRecv() (*", p.out(m), ", error)")
		}
		p.P(p.rt("ClientStream"))
	}, "}")
	p.P()
	p.block("type "+m.cliImpl+" struct {", func() { p.P(p.rt("ClientStream")) }, "}")
	if m.cStream {
		p.P()
		p.block("func (x *"+m.cliImpl+") Send(m *"+p.in(m)+") error {", func() {
			p.P("return x.ClientStream.SendMsg(m)")
		}, "}")
	}
	p.P()
	if m.sStream {
		p.block("func (x *"+m.cliImpl+") Recv() (*"+p.out(m)+", error) {", func() {
			p.recvInto(p.out(m), "x.ClientStream")
		}, "}")
		return
	}
	p.block("func (x *"+m.cliImpl+") CloseAndRecv() (*"+p.out(m)+", error) {", func() {
		// The server answers a client stream once its input has ended.
		p.block("if err := x.ClientStream.CloseSend(); err != nil {", func() { p.P("return nil, err") }, "}")
		p.recvInto(p.out(m), "x.ClientStream")
	}, "}")
}
