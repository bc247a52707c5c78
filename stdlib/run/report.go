package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Step statuses in report.json.
const (
	StatusDone     = "done"
	StatusRestored = "restored"
	StatusFailed   = "failed"
	StatusSkipped  = "skipped"
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
	// Hash identifies the step's text and resolved arguments (--resume).
	Hash string `json:"hash"`
	// Checkpoint is the state file written after the step, relative to
	// the output directory.
	Checkpoint string `json:"checkpoint,omitempty"`
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
// directory, synced and renamed over path.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
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
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
