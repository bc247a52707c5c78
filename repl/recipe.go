package repl

import (
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/lang/format"
)

// recipe is the session as a standalone recipe file, formatted: the
// command-line bindings first when no statement binds the model or data,
// then every accepted statement.
func (s *Session) recipe(name string) ([]byte, error) {
	var b strings.Builder
	if s.opts.Model != "" && !s.binds(func(e entry) bool { return e.step.Effects().LoadsModel }) {
		b.WriteString("model " + bindingWord(s.opts.Model) + "\n")
	}
	if s.opts.Data != "" && !s.binds(func(e entry) bool { return e.step.Effects().LoadsData }) {
		b.WriteString("data " + bindingWord(s.opts.Data) + "\n")
	}
	b.WriteString(s.Source())
	out, ds := format.Bytes(name, []byte(b.String()))
	if ds.HasErrors() {
		return nil, ds
	}
	return out, nil
}

// binds reports whether an accepted command step satisfies pred.
func (s *Session) binds(pred func(entry) bool) bool {
	for _, e := range s.entries {
		if e.step.Sig != nil && pred(e) {
			return true
		}
	}
	return false
}

// bindingWord writes a --model/--data value as a name or a quoted path.
func bindingWord(v string) string {
	for _, r := range v {
		if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return strconv.Quote(v)
		}
	}
	return v
}
