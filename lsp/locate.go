package lsp

import (
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/lang/syntax"
	"github.com/qpipe/qpipe/repl/assist"
)

// pathAt lists the nodes whose span holds offset, outermost first. An
// offset just past a name (the cursor at its end) still counts as on it.
func pathAt(f *syntax.File, offset int) []syntax.Node {
	var path []syntax.Node
	syntax.Walk(f, func(n syntax.Node) bool {
		if _, ok := n.(*syntax.File); ok {
			return true
		}
		sp := n.Span()
		if offset < sp.Start.Offset || offset > sp.End.Offset {
			return false
		}
		path = append(path, n)
		return true
	})
	return path
}

// identAt is the innermost name under offset and the command and argument
// around it (either may be nil).
type identAt struct {
	ident *syntax.Ident
	cmd   *syntax.Command
	arg   *syntax.Arg
}

func findIdent(f *syntax.File, offset int) identAt {
	var out identAt
	for _, n := range pathAt(f, offset) {
		switch n := n.(type) {
		case *syntax.Command:
			out = identAt{cmd: n}
		case *syntax.Arg:
			out.arg = n
		case *syntax.Ident:
			out.ident = n
		}
	}
	return out
}

// definition is where a name is defined: a snapshot or a `let` parameter.
type definition struct {
	kind string // "snapshot" or "parameter"
	span source.Span
}

// definitions maps every snapshot and parameter name of a checked recipe
// to the name where it is defined (the statement when no name is written,
// as for `original`, defined by loading the model).
func definitions(rec *check.Recipe) map[string]definition {
	out := map[string]definition{}
	if rec == nil {
		return out
	}
	var walk func(steps []*check.Step)
	walk = func(steps []*check.Step) {
		for _, st := range steps {
			addDefinition(out, st)
			walk(st.Body)
		}
	}
	walk(rec.Steps)
	return out
}

func addDefinition(out map[string]definition, st *check.Step) {
	switch {
	case st.Kind == check.KLet:
		if l, ok := st.Node.(*syntax.Let); ok {
			out[st.Name] = definition{"parameter", l.Name.Sp}
		}
	case st.Kind == check.KFor:
		if f, ok := st.Node.(*syntax.For); ok {
			out[f.Var.Name] = definition{"parameter", f.Var.Sp}
		}
	case st.Sig != nil && st.Effects().LoadsModel:
		if _, seen := out["original"]; !seen {
			out["original"] = definition{"snapshot", st.Span}
		}
	default:
		for _, v := range newNames(st) {
			out[v.Str] = definition{"snapshot", v.Span}
		}
	}
}

// newNames are the values of the step's new-name slots (snapshot NAME).
func newNames(st *check.Step) []check.Value {
	if st.Sig == nil {
		return nil
	}
	var out []check.Value
	for _, p := range assist.Slots(st.Sig, st.Sig.Variant(st.Variant)) {
		if v, ok := st.Words[p.Name]; ok && p.Type == check.TName && v.Str != "" {
			out = append(out, v)
		}
	}
	return out
}
