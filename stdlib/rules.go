package stdlib

import (
	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
	"github.com/qpipe/qpipe/lang/source"
)

func errs(ds ...*diag.Diagnostic) diag.Diagnostics { return ds }

func warning(sp source.Span, summary, detail string) *diag.Diagnostic {
	return &diag.Diagnostic{Severity: diag.Warning, Span: sp, Summary: summary, Detail: detail}
}

func note(sp source.Span, summary string) *diag.Diagnostic {
	return &diag.Diagnostic{Severity: diag.Note, Span: sp, Summary: summary}
}

// ident returns an argument or word that is an identifier, or "".
func ident(v check.Value) string {
	if v.Kind == check.VIdent {
		return v.Str
	}
	return ""
}

// argSpan is where an argument was written, or the statement when it was
// filled in by default.
func argSpan(step *check.Step, name string) source.Span {
	if v, ok := step.Args[name]; ok && step.Explicit[name] {
		return v.Span
	}
	return step.Span
}
