package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
)

// A work node's chained key names its result. It is the SHA-256 of:
//
//   - the key format version and KeyOptions.Salt (what the caller mixes
//     into every key: the backend, say);
//   - the verb, its variant and the version of the code that implements
//     it (KeyOptions.Version);
//   - its canonical arguments: every word and argument after defaults and
//     --set, loop variables resolved, numbers in full precision (how the
//     recipe spelled them, its line and column do not matter);
//   - the keys of its inputs, so a node's key changes when anything
//     before it on its branch changes;
//   - the run seed and the node's Index, which together seed its random
//     stream;
//   - the content fingerprint of what it reads from outside the plan
//     (KeyOptions.Inputs: a model file, a dataset folder, --model).
//
// Equal keys therefore mean the node, run again, would start from the
// same state, do the same thing with the same randomness, and end in the
// same state: a step store may hand back that state instead.

// KeyOptions are what the chained keys mix in besides the plan itself.
type KeyOptions struct {
	// Seed is the run seed.
	Seed uint64
	// Salt is mixed into every key (backend, store format).
	Salt string
	// Version returns the version of the code that implements a verb;
	// nil means "".
	Version func(verb string) string
	// Inputs fingerprints what n reads from outside the plan (files,
	// command-line bindings); nil or "" when nothing.
	Inputs func(p *Plan, n *Node) string
}

// keyFormat changes whenever the key's recipe changes.
const keyFormat = "qpipe-node-key/1"

// setKeys fills Key on every work node, in order (inputs come first).
func setKeys(p *Plan, src *source.File, o KeyOptions) {
	for _, n := range p.Nodes {
		if !n.Works() {
			continue
		}
		h := sha256.New()
		field(h, keyFormat, o.Salt, n.Verb, n.Variant)
		if o.Version != nil {
			field(h, o.Version(n.Verb))
		}
		field(h, canonical(n, src)...)
		for _, in := range n.Inputs {
			field(h, p.Nodes[in].Key)
		}
		field(h, fmt.Sprint(o.Seed), fmt.Sprint(n.Index))
		if o.Inputs != nil {
			field(h, o.Inputs(p, n))
		}
		n.Key = hex.EncodeToString(h.Sum(nil))[:32]
	}
}

// field writes each string length-prefixed, so no two lists collide.
func field(h hash.Hash, parts ...string) {
	for _, s := range parts {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
}

// canonical is what a node does, independent of spelling and position.
func canonical(n *Node, src *source.File) []string {
	s := n.Step
	if s == nil {
		return []string{n.Text}
	}
	sc := scope(n.Scope)
	out := []string{string(rune('0' + s.Kind))}
	out = append(out, canonicalMap("word", s.Words, sc)...)
	out = append(out, canonicalMap("arg", s.Args, sc)...)
	switch s.Kind {
	case check.KLet:
		out = append(out, "let "+s.Name+"="+n.Scope[s.Name].String())
	case check.KExpect:
		if s.Expr != nil && src != nil {
			out = append(out, "expect "+spanText(src, s.Expr.Span()))
		}
		out = append(out, scopeText(n.Scope)...)
	}
	return out
}

func canonicalMap(what string, m map[string]check.Value, sc scope) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, k := range names {
		out[i] = what + " " + k + "=" + canonicalValue(sc.resolve(m[k]), sc)
	}
	return out
}

// canonicalValue prints a value with loop variables and lets inside lists
// resolved.
func canonicalValue(v check.Value, sc scope) string {
	if v.Kind == check.VList || v.Kind == check.VCall {
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = canonicalValue(sc.resolve(e), sc)
		}
		return fmt.Sprintf("%d(%s|%s)", v.Kind, v.Str, strings.Join(parts, ","))
	}
	return fmt.Sprintf("%d:%s", v.Kind, v.String())
}

// scopeText lists the bound names: an expect's condition may read any.
func scopeText(sc map[string]check.Value) []string {
	var out []string
	for k, v := range sc {
		out = append(out, k+"="+v.String())
	}
	sort.Strings(out)
	return out
}
