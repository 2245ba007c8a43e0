// Package consumers holds tests only: they build published releases of
// programs that import github.com/containerd/ttrpc (NRI, otelttrpc,
// containerd) against this repository's compat module and run their own
// test suites side by side with containerd/ttrpc v1.2.10, and they drive
// those programs' ttrpc code paths directly.
package consumers
