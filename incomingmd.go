package ttrpc

import (
	"strings"
	"sync"
)

// incomingMD is the metadata of a call being served, kept as it arrived
// until a handler asks for it: copying the entries out of the request
// takes one allocation, building the MD several, and most handlers (and
// interceptors) read one key or none. GetMetadata builds the MD once and
// then returns that same map; GetMetadataValue reads one key from the
// copy while no MD exists yet.
type incomingMD struct {
	// raw holds the entries (copyRequestMetadata); nil when the call came
	// without. Never written after the request was admitted, so the
	// strings handed out alias it.
	raw []byte

	mu sync.Mutex
	md MD // built by get; nil until then
}

// get returns the call's MD, building it on first use.
func (m *incomingMD) get() MD {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.md == nil {
		m.md = decodeMetadata(m.raw)
	}
	return m.md
}

// first returns the first value of name (matched as MD.Get matches it)
// from the entries as they arrived, unless the MD was built already:
// decoded then says the MD must be asked instead, as the handler may
// have changed it.
func (m *incomingMD) first(name string) (value string, found, decoded bool) {
	m.mu.Lock()
	decoded = m.md != nil
	m.mu.Unlock()
	if decoded {
		return "", false, true
	}
	name = strings.ToLower(name)
	eachKeyValue(m.raw, func(k, v string) bool {
		if k == name {
			value, found = v, true
		}
		return !found
	})
	return value, found, false
}
