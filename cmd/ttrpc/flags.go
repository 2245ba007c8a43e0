package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// options are the flags every command takes.
type options struct {
	protos         stringList // --proto FILE
	importPaths    stringList // -I DIR
	protosets      stringList // --protoset FILE
	headers        stringList // -H key=value
	timeout        time.Duration
	connectTimeout time.Duration
	maxMessageSize int
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// defaultMaxMessageSize is the largest message sent or received unless
// --max-message-size says otherwise; it is the library's default.
const defaultMaxMessageSize = 4 << 20

// newFlagSet returns a flag set for command name with the common flags
// bound to o. It prints nothing: errors are reported by parse.
func newFlagSet(name string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&o.protos, "proto", "")
	fs.Var(&o.importPaths, "I", "")
	fs.Var(&o.importPaths, "import-path", "")
	fs.Var(&o.protosets, "protoset", "")
	fs.Var(&o.headers, "H", "")
	fs.Var(&o.headers, "header", "")
	fs.DurationVar(&o.timeout, "timeout", 0, "")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", 10*time.Second, "")
	fs.IntVar(&o.maxMessageSize, "max-message-size", defaultMaxMessageSize, "")
	return fs
}

// errHelp is returned by parse for -h, -help or --help.
var errHelp = errors.New("help requested")

// parse parses args with fs, accepting flags before, between and after the
// positional arguments (which it returns); everything after "--" is
// positional. It returns errHelp for -h/--help and a usage failure for
// anything flag rejects.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageErrorf("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// check validates the common flags.
func (o *options) check() error {
	if o.timeout < 0 {
		return usageErrorf("--timeout must not be negative")
	}
	if o.connectTimeout <= 0 {
		return usageErrorf("--connect-timeout must be positive")
	}
	if o.maxMessageSize <= 0 {
		return usageErrorf("--max-message-size must be positive")
	}
	if len(o.protos) > 0 && len(o.protosets) > 0 {
		return usageErrorf("give --proto or --protoset, not both")
	}
	if len(o.importPaths) > 0 && len(o.protos) == 0 {
		return usageErrorf("-I only applies to --proto files")
	}
	for _, h := range o.headers {
		if k, _, ok := strings.Cut(h, "="); !ok || k == "" {
			return usageErrorf("-H %q: want key=value", h)
		}
	}
	return nil
}

// parseCommand parses a command's args with fs (parse) and checks that
// between min and max positional arguments remain and that the common
// flags in o agree; every failure is a usage error (or errHelp).
func parseCommand(fs *flag.FlagSet, o *options, args []string, min, max int) ([]string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(fs.Name(), pos, min, max); err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return pos, nil
}

// wantArgs fails with a usage error unless min <= len(args) <= max.
func wantArgs(command string, args []string, min, max int) error {
	switch {
	case len(args) < min:
		return usageErrorf("%s: missing arguments (see ttrpc %s --help)", command, command)
	case len(args) > max:
		return usageErrorf("%s: unexpected argument %q (see ttrpc %s --help)", command, args[max], command)
	}
	return nil
}

// commonUsage describes the flags every command takes.
const commonUsage = `Where the descriptors come from (default: the server's reflection service,
ttrpc.reflection.v1.Reflection):
  --proto FILE           a .proto file defining the service; repeatable. Parsed
                         at run time; imports are looked up in the -I
                         directories (default: the file's own directory), and
                         google/protobuf/*.proto are built in.
  -I, --import-path DIR  a directory of .proto files for --proto; repeatable
  --protoset FILE        a serialised google.protobuf.FileDescriptorSet
                         (protoc --include_imports -o FILE); repeatable

Connection and call:
  -H, --header KEY=VALUE metadata sent with the call; repeatable
  --timeout DURATION     deadline of the whole command, sent to the server
                         with the call (for example 500ms, 5s; default none)
  --connect-timeout D    how long connecting may take (default 10s)
  --max-message-size N   largest message sent or received, in bytes
                         (default 4194304; at most 16777215)
`

// addressUsage describes the ADDRESS argument.
const addressUsage = `ADDRESS is one of
  unix:///path/to.sock  or a plain path     a unix socket
  unix://@name                              an abstract unix socket
  vsock://CID:PORT                          AF_VSOCK (a VM's agent)
  hvsock:///path/to/vmm.sock:PORT           hybrid vsock (Firecracker, Cloud Hypervisor)
  tcp://host:port                           TCP
`

// usageText returns the help of one command.
func usageText(command string) string {
	var b strings.Builder
	switch command {
	case "call":
		b.WriteString(callUsage)
	case "list":
		b.WriteString(listUsage)
	case "describe":
		b.WriteString(describeUsage)
	default:
		return mainUsage
	}
	fmt.Fprintf(&b, "\n%s\n%s\nExit status: see ttrpc --help.\n", addressUsage, commonUsage)
	return b.String()
}
