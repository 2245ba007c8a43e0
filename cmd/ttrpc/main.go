package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const mainUsage = `ttrpc calls and inspects ttrpc servers (containerd shims, Kata agents, NRI
plugins, any ttrpc-go, containerd/ttrpc or ttrpc-rust server).

Usage:
  ttrpc list ADDRESS [SERVICE]            list the services, or a service's methods
  ttrpc describe ADDRESS SYMBOL           show a service, method, message or enum
  ttrpc call ADDRESS SERVICE/METHOD [-d JSON | -d @FILE | -d @-]
                                          call a method; request and answer in JSON
  ttrpc help [COMMAND]                    show this help, or a command's

The method's types come from the server's reflection service
(ttrpc.reflection.v1.Reflection) or, for servers without it, from --proto
FILE (with -I DIR) or --protoset FILE. "ttrpc COMMAND --help" lists every flag.

Examples:
  ttrpc list unix:///run/example.sock
  ttrpc list unix:///run/example.sock ttrpc.example.v1.Example
  ttrpc call unix:///run/example.sock ttrpc.example.v1.Example/Greet -d '{"name": "world"}'
  ttrpc call --proto api.proto -I protos /run/shim.sock pkg.v1.Service/Method -d @req.json

Exit status:
  0        success
  1        the tool failed: cannot connect, no descriptors (for one, the
           server offers no reflection and no --proto or --protoset was given)
  2        bad usage: unknown flag or command, missing argument, bad JSON,
           a service or method the descriptors do not have
  64+CODE  the call ended with status CODE: 64+4 DeadlineExceeded (also
           when --timeout passes), 64+5 NotFound, 64+12 Unimplemented,
           64+14 Unavailable (also when the connection closes mid-call), …
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stdio is where a command reads its input and writes its output.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	std := stdio{in: in, out: out, err: errOut}
	if len(args) == 0 {
		fmt.Fprint(errOut, mainUsage)
		return exitUsage
	}
	command, rest := args[0], args[1:]
	var err error
	switch command {
	case "-h", "-help", "--help", "help":
		if command == "help" && len(rest) > 0 {
			if usageText(rest[0]) == mainUsage && rest[0] != "help" {
				return report(errOut, usageErrorf("help: unknown command %q", rest[0]))
			}
			fmt.Fprint(out, usageText(rest[0]))
			return exitOK
		}
		fmt.Fprint(out, mainUsage)
		return exitOK
	case "call":
		err = runCall(ctx, rest, std)
	case "list":
		err = runList(ctx, rest, std)
	case "describe":
		err = runDescribe(ctx, rest, std)
	default:
		return report(errOut, usageErrorf("unknown command %q (want call, list, describe or help; see ttrpc --help)", command))
	}
	if err == errHelp {
		fmt.Fprint(out, usageText(command))
		return exitOK
	}
	return report(errOut, err)
}
