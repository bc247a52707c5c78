package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/qpipe/qpipe/internal/outfile"
	"github.com/qpipe/qpipe/planner"
)

// Step statuses in report.json. "restored", the status --resume gave
// before the step store, is what "cached" was called.
const (
	StatusDone     = "done"
	StatusCached   = "cached"
	StatusRestored = "restored"
	StatusFailed   = "failed"
	// StatusInterrupted is a step stopped by a signal (the run's context
	// was cancelled) before it finished.
	StatusInterrupted = "interrupted"
	StatusSkipped     = "skipped"
)

// Report is report.json (docs/contracts.md): the recipe, the device, the seed,
// one entry per executed step and the final model's headline figures.
type Report struct {
	Recipe string       `json:"recipe"`
	Device string       `json:"device"`
	Seed   uint64       `json:"seed"`
	Steps  []StepReport `json:"steps"`
	Final  Final        `json:"final"`
}

// StepReport is one executed step. Metric names are lower_snake_case and
// accuracies fractions in [0,1].
type StepReport struct {
	Index   int                `json:"index"`
	Verb    string             `json:"verb"`
	Line    int                `json:"line"`
	Column  int                `json:"column"`
	Status  string             `json:"status"`
	Seconds float64            `json:"seconds"`
	Metrics map[string]float64 `json:"metrics"`
	Error   string             `json:"error,omitempty"`
	// Branch is the for-loop binding ("bits=2") of a step in a sweep.
	Branch string `json:"branch,omitempty"`
	// Round is the 1-based round of a step inside repeat.
	Round   int    `json:"round,omitempty"`
	Summary string `json:"summary,omitempty"`
	// Node is the plan node's id as `qpipe plan` prints it ("6.1.2").
	Node string `json:"node"`
	// Key is the node's chained key: its entry in the step store.
	Key string `json:"key"`
	// Model is the model after the node as the plan estimates it
	// (params, FLOPs per image, weight bits and bytes), when known.
	Model *planner.ModelState `json:"model,omitempty"`
	// Checkpoint is the step store's entry holding the state after the
	// step.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Series are the step's curves and tables for report.html.
	Series *Series `json:"series,omitempty"`

	// final is the headline of the state after a top-level step.
	final *Final
}

// Final holds the final model's accuracy, exported size and latency, when
// the recipe measured them.
type Final struct {
	Accuracy  *float64           `json:"accuracy,omitempty"`
	SizeBytes *int64             `json:"size_bytes,omitempty"`
	LatencyMS map[string]float64 `json:"latency_ms,omitempty"`
}

// ReportFile is the report's name inside the output directory.
const ReportFile = "report.json"

// finalOf picks the headline figures from report-named metrics.
func finalOf(m map[string]float64) Final {
	var f Final
	if v, ok := m["accuracy"]; ok {
		f.Accuracy = &v
	}
	if v, ok := m["size_bytes"]; ok {
		n := int64(v)
		f.SizeBytes = &n
	}
	for _, b := range []string{"b1", "b64"} {
		if v, ok := m["latency_ms_"+b]; ok {
			if f.LatencyMS == nil {
				f.LatencyMS = map[string]float64{}
			}
			f.LatencyMS[b] = v
		}
	}
	return f
}

// WriteReport writes r to dir/report.json atomically.
func WriteReport(dir string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, ReportFile), append(b, '\n'))
}

// ReadReport reads dir/report.json.
func ReadReport(dir string) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, ReportFile), err)
	}
	return &r, nil
}

// writeAtomic writes b to path through a temporary file in the same
// directory, synced and renamed over path (package outfile).
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return outfile.Write(path, b)
}

// ReportWriter is the Observer that keeps report.json: it records every
// finished node in index order and rewrites the file atomically after
// each, so a crashed run still reports what it finished.
type ReportWriter struct {
	Dir    string
	Report *Report
	// Render, when set, is called after every rewrite of report.json
	// (Options.Render: report.html).
	Render func(dir string, r *Report)
	// Err is the first write error.
	Err error
}

// Started does nothing: report.json lists finished nodes.
func (w *ReportWriter) Started(StepReport) {}

// Progress does nothing.
func (w *ReportWriter) Progress(StepReport, Tick) {}

// Finished records s in index order and rewrites report.json.
func (w *ReportWriter) Finished(s StepReport) {
	steps := w.Report.Steps
	i := sort.Search(len(steps), func(i int) bool { return steps[i].Index >= s.Index })
	if i < len(steps) && steps[i].Index == s.Index {
		steps[i] = s
	} else {
		steps = append(steps, StepReport{})
		copy(steps[i+1:], steps[i:])
		steps[i] = s
	}
	w.Report.Steps = steps
	if s.final != nil {
		w.Report.Final = *s.final
	}
	if err := WriteReport(w.Dir, w.Report); err != nil {
		if w.Err == nil {
			w.Err = err
		}
		return
	}
	if w.Render != nil {
		w.Render(w.Dir, w.Report)
	}
}

// Observers tells each of its members, in order.
type Observers []Observer

// Started tells every member.
func (os Observers) Started(s StepReport) {
	for _, o := range os {
		o.Started(s)
	}
}

// Progress tells every member.
func (os Observers) Progress(s StepReport, t Tick) {
	for _, o := range os {
		o.Progress(s, t)
	}
}

// Finished tells every member.
func (os Observers) Finished(s StepReport) {
	for _, o := range os {
		o.Finished(s)
	}
}
