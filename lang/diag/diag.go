// Package diag owns diagnostics: problems found in a recipe (or a project
// file, or a run) as values with a severity, a one-line summary, a detail
// sentence saying how to fix it, the exact span, and suggestions.
//
// A list of diagnostics is an error, so partial results can come back with
// them. One renderer (render.go) prints them for people, with the source line
// and carets under the span; JSON is the machine form.
package diag

import (
	"sort"
	"strings"

	"github.com/qpipe/qpipe/lang/source"
)

// Severity says how bad a diagnostic is.
type Severity int

const (
	// Error stops the recipe from running.
	Error Severity = iota
	// Warning is shown but does not stop anything.
	Warning
	// Note adds information.
	Note
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Note:
		return "note"
	}
	return "error"
}

// MarshalText writes the severity as its word.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity word.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "warning":
		*s = Warning
	case "note":
		*s = Note
	default:
		*s = Error
	}
	return nil
}

// Diagnostic is one problem at one place.
type Diagnostic struct {
	Severity    Severity    `json:"severity"`
	Summary     string      `json:"summary"`
	Detail      string      `json:"detail,omitempty"`
	Span        source.Span `json:"span"`
	Suggestions []string    `json:"suggestions,omitempty"`
}

// Error renders the diagnostic on one line, "file:line:col: error: summary".
func (d *Diagnostic) Error() string {
	var b strings.Builder
	if d.Span.IsValid() {
		b.WriteString(d.Span.String())
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	b.WriteString(d.Summary)
	return b.String()
}

// Errorf builds an error diagnostic at span.
func Errorf(span source.Span, summary string) *Diagnostic {
	return &Diagnostic{Severity: Error, Summary: summary, Span: span}
}

// WithDetail sets the detail sentence and returns d.
func (d *Diagnostic) WithDetail(detail string) *Diagnostic {
	d.Detail = detail
	return d
}

// Suggest adds suggestion lines and returns d.
func (d *Diagnostic) Suggest(s ...string) *Diagnostic {
	d.Suggestions = append(d.Suggestions, s...)
	return d
}

// Diagnostics is a list of problems; it implements error.
type Diagnostics []*Diagnostic

// Error joins the one-line forms.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns how many diagnostics have severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Err returns ds as an error when it holds an error, else nil.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

// Sort orders diagnostics by file, then position, keeping equal ones stable.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Span, ds[j].Span
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Start.Offset < b.Start.Offset
	})
}
