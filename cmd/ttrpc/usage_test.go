package main

import "testing"

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		want(t, cli(t, nil, args...), exitOK, "Usage:", "ttrpc call ADDRESS SERVICE/METHOD", "Exit status:", "64+CODE")
	}
	for _, command := range []string{"call", "list", "describe"} {
		want(t, cli(t, nil, command, "--help"), exitOK, "Usage: ttrpc "+command, "--proto FILE", "--timeout", "unix:///path")
		want(t, cli(t, nil, "help", command), exitOK, "Usage: ttrpc "+command)
	}
	want(t, cli(t, nil, "call", "--help"), exitOK, "-d @-", "--max-message-size", "-H, --header")
}

func TestBadUsage(t *testing.T) {
	srv := startServer(t, true)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no arguments", nil, "Usage:"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"help for an unknown command", []string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"call", "--bogus", srv.addr, "ttrpc.example.v1.Example/Greet"}, "-bogus"},
		{"missing arguments of call", []string{"call", srv.addr}, "missing arguments"},
		{"missing arguments of list", []string{"list"}, "missing arguments"},
		{"missing arguments of describe", []string{"describe", srv.addr}, "missing arguments"},
		{"extra argument", []string{"list", srv.addr, "a", "b"}, `unexpected argument "b"`},
		{"method without service", []string{"call", srv.addr, "Greet"}, "want SERVICE/METHOD"},
		{"header without value", []string{"call", "-H", "novalue", srv.addr, "ttrpc.example.v1.Example/Greet"}, "want key=value"},
		{"bad timeout", []string{"call", "--timeout", "soon", srv.addr, "ttrpc.example.v1.Example/Greet"}, "timeout"},
		{"proto and protoset", []string{"list", "--proto", "a.proto", "--protoset", "b.pb", srv.addr}, "not both"},
		{"malformed address", []string{"list", "vsock://nocid"}, "malformed address"},
		{"missing data file", []string{"call", "-d", "@/nonexistent/req.json", srv.addr, "ttrpc.example.v1.Example/Greet"}, "/nonexistent/req.json"},
		{"missing proto file", []string{"list", "--proto", "/nonexistent/x.proto", srv.addr}, "x.proto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want(t, cli(t, nil, tc.args...), exitUsage, "stderr:", tc.msg)
		})
	}
}

// Flags may come before, between and after the arguments, and "--" ends
// them.
func TestFlagsAnywhere(t *testing.T) {
	srv := startServer(t, true)
	const greeting = `"greeting": "Hi, there!"`
	want(t, cli(t, nil, "call", "-H", "greeting=Hi", srv.addr, "ttrpc.example.v1.Example/Greet", "-d", `{"name":"there"}`), exitOK, greeting)
	want(t, cli(t, nil, "call", srv.addr, "-H=greeting=Hi", "ttrpc.example.v1.Example/Greet", "--data", `{"name":"there"}`), exitOK, greeting)
	want(t, cli(t, nil, "call", "--header", "greeting=Hi", "-d", `{"name":"there"}`, "--", srv.addr, "ttrpc.example.v1.Example/Greet"), exitOK, greeting)
}
