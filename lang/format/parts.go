package format

import "github.com/qpipe/qpipe/lang/syntax"

// The printer keeps words and args in source order, as it keeps every
// token: moving an arg would change which tokens sit side by side, and
// some neighbours join (`a k=1 (x)` reordered to `a (x) k=1` reads back as
// the call a(x); `a k=1 and` to `a and k=1` as the condition a and k).

// parts lists words and args as they appear in the source.
func parts(words []syntax.Expr, args []*syntax.Arg) []syntax.Node {
	out := make([]syntax.Node, 0, len(words)+len(args))
	wi, ai := 0, 0
	for wi < len(words) || ai < len(args) {
		if ai == len(args) || wi < len(words) && words[wi].Span().Start.Offset < args[ai].Sp.Start.Offset {
			out = append(out, words[wi])
			wi++
			continue
		}
		out = append(out, args[ai])
		ai++
	}
	return out
}
