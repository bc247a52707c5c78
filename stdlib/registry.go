// Package stdlib owns qpipe's vocabulary: every verb's signature (its
// words, arguments, types, ranges, units, defaults, documentation and the
// order rules it enforces through its Rules hook) and, in other files and
// subpackages, what the verbs do.
//
// The checker reaches the vocabulary only through Env, so lang/check never
// imports this package:
//
//	f, _ := syntax.Parse(name, text)
//	rec, ds := check.Check(f, stdlib.Env(), check.Options{})
//
// Signatures live in sig_*.go, one file per family of verbs; the rules
// they share live in rules.go.
package stdlib

import (
	"slices"

	"github.com/qpipe/qpipe/lang/check"
)

// registry is the immutable table of signatures built once at start.
type registry struct {
	sigs  map[string]*check.Signature
	verbs []string
}

// std is built once and never modified.
var std = newRegistry(
	modelSig(), dataSig(), trainSig(), finetuneSig(), snapshotSig(),
	replaceSig(), distillSig(), quantizeSig(), pruneSig(),
	adcordaSig(), correctSig(), adaptSig(), evaluateSig(), exportSig(),
	letSig(), expectSig(), repeatSig(), forSig(),
)

func newRegistry(sigs ...*check.Signature) *registry {
	r := &registry{sigs: map[string]*check.Signature{}}
	for _, s := range sigs {
		r.sigs[s.Verb] = s
		r.verbs = append(r.verbs, s.Verb)
	}
	slices.Sort(r.verbs)
	return r
}

// Lookup returns the signature of a verb.
func (r *registry) Lookup(verb string) (*check.Signature, bool) {
	s, ok := r.sigs[verb]
	return s, ok
}

// Verbs lists the verbs in alphabetical order.
func (r *registry) Verbs() []string { return r.verbs }

// Env returns the vocabulary as the checker's Env.
func Env() check.Env { return std }

// Lookup returns the signature of a verb (statements the checker handles
// itself, let/expect/repeat/for, have entries for their docs).
func Lookup(verb string) (*check.Signature, bool) { return std.Lookup(verb) }

// Signatures returns every signature sorted by verb.
func Signatures() []*check.Signature {
	out := make([]*check.Signature, len(std.verbs))
	for i, v := range std.verbs {
		out[i] = std.sigs[v]
	}
	return out
}
