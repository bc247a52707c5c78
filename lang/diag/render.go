package diag

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"

	"github.com/qpipe/qpipe/lang/source"
)

// Sources finds the text of a file named in a span, for printing its line.
type Sources interface {
	File(name string) *source.File
}

// FileMap is a Sources over files already read.
type FileMap map[string]*source.File

// File returns the named file or nil.
func (m FileMap) File(name string) *source.File { return m[name] }

// Printer renders diagnostics for people: the one-line header, the source
// line, carets under the span, then detail and suggestions.
type Printer struct {
	Sources Sources
	Color   bool
}

// NewPrinter returns a printer that colors only when w is a terminal and
// NO_COLOR is unset.
func NewPrinter(w io.Writer, src Sources) *Printer {
	return &Printer{Sources: src, Color: UseColor(w)}
}

// UseColor reports whether output to w should be colored.
func UseColor(w io.Writer) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Fprint writes every diagnostic in ds to w.
func (p *Printer) Fprint(w io.Writer, ds Diagnostics) error {
	for _, d := range ds {
		if _, err := io.WriteString(w, p.Render(d)); err != nil {
			return err
		}
	}
	return nil
}

// Render returns the text of one diagnostic, ending in a newline.
func (p *Printer) Render(d *Diagnostic) string {
	var b strings.Builder
	p.header(&b, d)
	p.excerpt(&b, d)
	if d.Detail != "" {
		fmt.Fprintf(&b, "  %s\n", visible(d.Detail))
	}
	for _, s := range d.Suggestions {
		fmt.Fprintf(&b, "  %s\n", p.paint(color.FgCyan, visible(s)))
	}
	return b.String()
}

func (p *Printer) header(b *strings.Builder, d *Diagnostic) {
	if d.Span.IsValid() {
		b.WriteString(p.paint(color.Bold, d.Span.String()+":") + " ")
	}
	sev := d.Severity.String() + ":"
	b.WriteString(p.paint(severityColor(d.Severity), sev))
	b.WriteString(" " + p.paint(color.Bold, visible(d.Summary)) + "\n")
}

func severityColor(s Severity) color.Attribute {
	switch s {
	case Warning:
		return color.FgYellow
	case Note:
		return color.FgBlue
	}
	return color.FgRed
}

// excerpt prints the span's first line and carets under the spanned bytes.
func (p *Printer) excerpt(b *strings.Builder, d *Diagnostic) {
	if p.Sources == nil || !d.Span.IsValid() {
		return
	}
	f := p.Sources.File(d.Span.File)
	if f == nil {
		return
	}
	line := f.Line(d.Span.Start.Line)
	start := d.Span.Start.Column - 1
	end := start + 1
	if d.Span.End.Line == d.Span.Start.Line {
		end = d.Span.End.Column - 1
	} else {
		end = len(line)
	}
	shown, carets := excerptLine(line, start, end)
	fmt.Fprintf(b, "  %s\n", shown)
	pad := strings.TrimRight(carets, "^")
	fmt.Fprintf(b, "  %s%s\n", pad, p.paint(severityColor(d.Severity), carets[len(pad):]))
}

func (p *Printer) paint(a color.Attribute, s string) string {
	if !p.Color {
		return s
	}
	c := color.New(a)
	c.EnableColor()
	return c.Sprint(s)
}

// WriteJSON writes ds as a JSON array (an empty array when there are none).
func WriteJSON(w io.Writer, ds Diagnostics) error {
	out := make([]jsonDiagnostic, len(ds))
	for i, d := range ds {
		out[i] = jsonDiagnostic{Diagnostic: d, Suggestions: d.Suggestions}
		if out[i].Suggestions == nil {
			out[i].Suggestions = []string{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// jsonDiagnostic always carries "suggestions" (an empty array when there
// are none), as tools reading the JSON expect every documented field.
type jsonDiagnostic struct {
	*Diagnostic
	Suggestions []string `json:"suggestions"`
}
