//go:build consumers_containerd

package consumers

import "testing"

// containerd v2.4.2 on the compat module: `go build ./...`, `go vet` and
// the unit tests of every package that imports containerd/ttrpc, compared
// test by test with containerd/ttrpc v1.2.10. Slow (a large module): run
// by `make consumers-containerd` (-tags consumers_containerd).
func TestContainerdOwnSuite(t *testing.T) {
	sideBySide(t, consumer{module: "github.com/containerd/containerd/v2", version: "v2.4.2"})
}
