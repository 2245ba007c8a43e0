//go:build race

package main

// Under -race the command is built with the race detector too, so that a
// data race in it fails the test that ran it (a raced binary exits 66).
func init() { buildFlags = append(buildFlags, "-race") }
