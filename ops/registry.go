package ops

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Factory makes a backend instance.
type Factory func() (Backend, error)

var registry = struct {
	sync.Mutex
	m map[string]Factory
}{m: map[string]Factory{}}

// buildHints says how to get a backend that this binary was built without.
var buildHints = map[string]string{
	"cuda": "build with -tags cuda",
}

// RegisterBackend makes a backend available by name; backends call it from
// an init function (import _ "github.com/qpipe/qpipe/ops/cpu"). Registering
// a name twice panics: it is a programming error.
func RegisterBackend(name string, f Factory) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic("ops: backend " + name + " registered twice")
	}
	registry.m[name] = f
}

// OrDefault returns b, or a new "cpu" backend when b is nil: the default
// every options struct with an optional Backend falls back to.
func OrDefault(b Backend) (Backend, error) {
	if b != nil {
		return b, nil
	}
	return NewBackend("cpu")
}

// NewBackend returns a new instance of the named backend. An unknown name
// is an error listing the known ones; "cuda" in a binary built without it
// says how to build it in.
func NewBackend(name string) (Backend, error) {
	registry.Lock()
	f, ok := registry.m[name]
	registry.Unlock()
	if ok {
		return f()
	}
	known := strings.Join(Backends(), ", ")
	if hint, ok := buildHints[name]; ok {
		return nil, fmt.Errorf("ops: backend %q is not built into this binary (%s); available: %s", name, hint, known)
	}
	return nil, fmt.Errorf("ops: unknown backend %q (known: %s)", name, known)
}

// Backends lists the registered backend names, sorted.
func Backends() []string {
	registry.Lock()
	defer registry.Unlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
