package main

import (
	"regexp"
	"slices"
	"sort"
	"strings"

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

// vocabulary collects the names of every signature.
func vocabulary(sigs []*check.Signature) Vocab {
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
	return Vocab{Verbs: verbs.sorted(), Keywords: keywords, Args: args.sorted(), Words: words.sorted()}
}

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

// load reads the standard library.
func load() Vocab { return vocabulary(stdlib.Signatures()) }

// alternation joins names longest first, for regular expressions that
// must prefer `per_channel` over `per`.
func alternation(names []string, quote func(string) string, sep string) string {
	sorted := append([]string(nil), names...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	parts := make([]string, len(sorted))
	for i, n := range sorted {
		parts[i] = quote(n)
	}
	return strings.Join(parts, sep)
}
