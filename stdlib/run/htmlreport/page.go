package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/planner"
	"github.com/qpipe/qpipe/stdlib/run"
)

// File is the page's name inside a run's output directory.
const File = "report.html"

// Page is what report.html is made from.
type Page struct {
	Report *run.Report
	// Source is the recipe text, highlighted in the header; nil when the
	// recipe could not be read.
	Source []byte
	// Plan, when known, draws the plan graph with the steps not yet run;
	// without it the graph shows the report's steps.
	Plan *planner.Plan
	// Generated is when the page was rendered (the zero time leaves the
	// time out, for reproducible pages).
	Generated time.Time
}

// Section ids, in page order.
var sections = []string{"header", "plan", "training", "tradeoff", "layers", "robustness", "steps"}

//go:embed page.html.tmpl
var pageTemplate string

//go:embed style.css
var style string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(style) },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).Parse(pageTemplate))

// view is the template's data.
type view struct {
	Title, Status, Generated string
	Recipe                   template.HTML
	Meta, Final              []kv
	Graph                    template.HTML
	Figures                  map[string][]figure
	Notes                    map[string]string
	Steps                    []stepRow
	Compare                  *comparison
}

type kv struct{ Key, Value string }

// Render writes the page to w.
func Render(w io.Writer, p Page) error {
	v, err := build(p)
	if err != nil {
		return err
	}
	return tmpl.Execute(w, v)
}

// Write renders the page to dir/report.html atomically (a temporary file
// renamed over it), so a reader never sees half a page.
func Write(dir string, p Page) error {
	var b bytes.Buffer
	if err := Render(&b, p); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, File), b.Bytes())
}

func build(p Page) (*view, error) {
	r := p.Report
	v := &view{Title: filepath.Base(r.Recipe), Status: status(r, p.Plan), Figures: map[string][]figure{}, Notes: map[string]string{}}
	if !p.Generated.IsZero() {
		v.Generated = p.Generated.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	v.Recipe = highlight(p.Source)
	v.Meta = []kv{{"recipe", r.Recipe}, {"device", r.Device}, {"seed", fmt.Sprint(r.Seed)},
		{"wall time", seconds(wall(r))}, {"status", v.Status}, {"steps", stepCount(r, p.Plan)}}
	v.Final = finalMetrics(r)
	g, err := planGraph(r, p.Plan)
	if err != nil {
		return nil, err
	}
	v.Graph = g
	for _, s := range []struct {
		id   string
		make func(*run.Report) ([]figure, string, error)
	}{{"training", trainingFigures}, {"tradeoff", tradeoffFigures}, {"layers", layerFigures}, {"robustness", robustFigures}} {
		figs, note, err := s.make(r)
		if err != nil {
			return nil, fmt.Errorf("%s plots: %w", s.id, err)
		}
		v.Figures[s.id], v.Notes[s.id] = figs, note
	}
	v.Steps = stepRows(r, drawnPlan(r, p.Plan))
	return v, nil
}

// status is the run's state: failed or interrupted at a step, running
// while planned steps are missing, else done.
func status(r *run.Report, p *planner.Plan) string {
	for _, s := range r.Steps {
		if s.Status == run.StatusFailed {
			if s.Error == "interrupted" {
				return "interrupted"
			}
			return "failed"
		}
	}
	if p != nil && len(r.Steps) < len(leaves(p)) {
		return "running"
	}
	return "done"
}

func stepCount(r *run.Report, p *planner.Plan) string {
	done := 0
	for _, s := range r.Steps {
		if s.Status == run.StatusDone || s.Status == run.StatusRestored || s.Status == "cached" {
			done++
		}
	}
	total := len(r.Steps)
	if p != nil {
		total = max(total, len(leaves(p)))
	}
	return fmt.Sprintf("%d of %d finished", done, total)
}

// wall is the time the steps took.
func wall(r *run.Report) float64 {
	var t float64
	for _, s := range r.Steps {
		t += s.Seconds
	}
	return t
}

func seconds(s float64) string {
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh %02dm", int(s)/3600, int(s)%3600/60)
	case s >= 60:
		return fmt.Sprintf("%dm %02ds", int(s)/60, int(s)%60)
	}
	return fmt.Sprintf("%.1f s", s)
}

// finalMetrics are the headline figures of report.json's final.
func finalMetrics(r *run.Report) []kv {
	var out []kv
	if a := r.Final.Accuracy; a != nil {
		out = append(out, kv{"accuracy", check.FormatMetric("accuracy", *a)})
	}
	if s := r.Final.SizeBytes; s != nil {
		out = append(out, kv{"size", bytesText(float64(*s))})
	}
	keys := make([]string, 0, len(r.Final.LatencyMS))
	for k := range r.Final.LatencyMS {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, kv{"latency " + k, fmt.Sprintf("%.3g ms", r.Final.LatencyMS[k])})
	}
	return out
}

func bytesText(b float64) string {
	s, u := unitScale(b)
	if u == "B" {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.3g %s", b/s, u)
}

// stepRow is one line of the steps table.
type stepRow struct {
	Index                    int
	Node, Verb, Branch       string
	Line, Round              int
	Status, Seconds, Summary string
	Metrics                  []kv
	Error                    string
}

// stepRows are the table's rows, each with the label of its plan node.
func stepRows(r *run.Report, p *planner.Plan) []stepRow {
	rows := make([]stepRow, len(r.Steps))
	nodes := leaves(p)
	for i, s := range r.Steps {
		row := stepRow{Index: s.Index, Node: nodes[i].Label, Verb: s.Verb, Branch: s.Branch, Line: s.Line, Round: s.Round, Status: s.Status,
			Seconds: fmt.Sprintf("%.1f", s.Seconds), Summary: s.Summary, Error: s.Error}
		for _, k := range run.SortedKeys(s.Metrics) {
			row.Metrics = append(row.Metrics, kv{k, check.FormatMetric(k, s.Metrics[k])})
		}
		rows[i] = row
	}
	return rows
}

// label names a step for people: "train (line 4, bits=2, round 1)".
func label(s run.StepReport) string {
	parts := []string{fmt.Sprintf("line %d", s.Line)}
	if s.Branch != "" {
		parts = append(parts, s.Branch)
	}
	if s.Round > 0 {
		parts = append(parts, fmt.Sprintf("round %d", s.Round))
	}
	return fmt.Sprintf("%s (%s)", s.Verb, strings.Join(parts, ", "))
}

// writeAtomic writes b to path through a synced temporary file renamed
// over it.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
