package plugintest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	gogreeter "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/greeter/v1"
	gogogreeter "github.com/ttrpc-go/ttrpc/internal/plugintest/gengogo/greeter/v1"
)

// TestGeneratedOnClient registers the generated Greeter of each plugin on a
// *ttrpc.Client, with the same RegisterGreeterService a server uses, and has
// the server run every method of it, in all four call shapes, through the
// generated client of each plugin on PeerClient(ctx). The server runs its
// driver inside a handler of a call the client makes after registering, so
// the client is known to serve by then.
func TestGeneratedOnClient(t *testing.T) {
	registers := map[string]func(*ttrpc.Client){
		"go service":   func(c *ttrpc.Client) { gogreeter.RegisterGreeterService(c, goServer{}) },
		"gogo service": func(c *ttrpc.Client) { gogogreeter.RegisterGreeterService(c, gogoServer{}) },
	}
	drivers := map[string]func(context.Context, *ttrpc.Client) ([]string, error){
		"go client": func(ctx context.Context, c *ttrpc.Client) ([]string, error) {
			return goClient(ctx, gogreeter.NewGreeterClient(c))
		},
		"gogo client": func(ctx context.Context, c *ttrpc.Client) ([]string, error) {
			return gogoClient(ctx, gogogreeter.NewGreeterClient(c))
		},
	}
	for dname, drive := range drivers {
		for rname, register := range registers {
			t.Run(dname+" to "+rname, func(t *testing.T) {
				ctx := testContext(t)
				client := serve(t, func(s *ttrpc.Server) {
					s.RegisterService("test.Reverse", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{
						"Run": func(ctx context.Context, unmarshal func(any) error) (any, error) {
							var req wrapperspb.StringValue
							if err := unmarshal(&req); err != nil {
								return nil, err
							}
							peer, ok := ttrpc.PeerClient(ctx)
							if !ok {
								return nil, errors.New("no peer client")
							}
							got, err := drive(ctx, peer)
							if err != nil {
								return nil, err
							}
							return wrapperspb.String(strings.Join(got, "\n")), nil
						},
					}})
				})
				register(client)
				var got wrapperspb.StringValue
				if err := client.Call(ctx, "test.Reverse", "Run", wrapperspb.String(""), &got); err != nil {
					t.Fatal(err)
				}
				if want := strings.Join(wantResults, "\n"); got.Value != want {
					t.Errorf("results:\n%s\nwant:\n%s", got.Value, want)
				}
			})
		}
	}
}
