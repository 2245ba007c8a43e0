package reflection_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ttrpc-go/ttrpc"
	greeter "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/greeter/v1"
	"github.com/ttrpc-go/ttrpc/reflection"
)

// A server offering reflection, and a client discovering what it serves.
func ExampleRegister() {
	dir, err := os.MkdirTemp("", "reflection-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		panic(err)
	}

	srv, err := ttrpc.NewServer()
	if err != nil {
		panic(err)
	}
	greeter.RegisterGreeterService(srv, greeterServer{})
	reflection.Register(srv) // one call: the server now describes itself
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	c, err := ttrpc.Dial(context.Background(), "unix://"+l.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	rc := reflection.NewClient(c)
	services, err := rc.ListServices(context.Background())
	if err != nil {
		panic(err)
	}
	for _, s := range services {
		fmt.Println(s.GetName(), s.GetMethods())
	}
	files, err := rc.FileContainingSymbol(context.Background(), "demo.greeter.v1.Greeter.SayHello")
	if err != nil {
		panic(err)
	}
	d, err := files.FindDescriptorByName("demo.greeter.v1.Greeter.SayHello")
	if err != nil {
		panic(err)
	}
	m := d.(protoreflect.MethodDescriptor)
	fmt.Println(m.Input().FullName(), "->", m.Output().FullName())
	// Output:
	// demo.greeter.v1.Greeter [Chat Collect ListNotes SayHello lower_case lower_stream]
	// ttrpc.reflection.v1.Reflection [FileByFilename FileContainingSymbol ListServices]
	// demo.greeter.v1.HelloRequest -> demo.greeter.v1.HelloReply
}
