// Package vocab is the highlighting vocabulary of .qpipe recipes: the
// verbs, keywords, argument names and words of the standard library's
// signatures, and the token classes every highlighter uses. The editor
// grammars (editors/gen) and report.html's recipe (Highlight) are both
// made from it, so they never drift from the language or from each other.
package vocab

import (
	"regexp"
	"slices"
	"sort"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/stdlib"
)

// Vocab is what the grammars highlight, each list sorted and unique.
type Vocab struct {
	// Verbs start statements.
	Verbs []string
	// Keywords are the language's own words (let, expect, repeat, for,
	// in, and, or).
	Keywords []string
	// Args are argument names, highlighted before their '='.
	Args []string
	// Words are variant words, fixed words and enum values.
	Words []string
}

// keywords are part of the grammar, not of any signature.
var keywords = []string{"and", "expect", "for", "in", "let", "or", "repeat"}

// ident is what the lexer reads as a name.
var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z][A-Za-z0-9_]*)*$`)

// Of collects the names of every signature.
func Of(sigs []*check.Signature) Vocab {
	verbs, args, words := set{}, set{}, set{}
	for _, sig := range sigs {
		if !slices.Contains(keywords, sig.Verb) {
			verbs.add(sig.Verb)
		}
		addParams(args, words, sig.Slots, false)
		addParams(args, words, sig.Params, true)
		for _, v := range sig.Variants {
			words.add(v.Name)
			addParams(args, words, v.Slots, false)
			addParams(args, words, v.Params, true)
		}
	}
	words.add("true")
	words.add("false")
	return Vocab{Verbs: verbs.sorted(), Keywords: slices.Clone(keywords), Args: args.sorted(), Words: words.sorted()}
}

// Load is the vocabulary of the standard library.
func Load() Vocab { return Of(stdlib.Signatures()) }

func addParams(args, words set, ps []check.Param, named bool) {
	for _, p := range ps {
		if named {
			args.add(p.Name)
		}
		for _, v := range p.Values {
			words.add(v)
		}
		for _, c := range p.Calls {
			words.add(c.Name)
		}
	}
}

type set map[string]bool

func (s set) add(name string) {
	if ident.MatchString(name) {
		s[name] = true
	}
}

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
