package main

import (
	"sort"
	"strings"

	"github.com/qpipe/qpipe/editors/vocab"
)

// Vocab is the highlighting vocabulary (editors/vocab), shared with
// report.html's recipe highlighting.
type Vocab = vocab.Vocab

// load reads the standard library.
func load() Vocab { return vocab.Load() }

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
