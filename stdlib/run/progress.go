package run

import (
	"fmt"
	"github.com/qpipe/qpipe/lang/check"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress is an Observer for people: one line per step start and end,
// and, inside long steps, a progress bar with rate and ETA on a terminal
// (github.com/schollz/progressbar/v3) or a plain line every few seconds
// otherwise.
type Progress struct {
	w        io.Writer
	terminal bool
	total    int
	// Every is how often plain progress lines are printed.
	Every time.Duration

	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	barKey   string
	lastLine time.Time
	// phase is the epoch (or verb) being counted, with the time and the
	// count of its first tick, so rates cover that phase only.
	phase      string
	phaseStart time.Time
	phaseDone  int
}

// NewProgress draws progress for a run of total steps on w.
func NewProgress(w io.Writer, terminal bool, total int) *Progress {
	return &Progress{w: w, terminal: terminal, total: total, Every: 10 * time.Second}
}

func (p *Progress) label(s StepReport) string {
	l := fmt.Sprintf("[%d/%d] %s line %d %s", s.Index+1, p.total, s.Node, s.Line, s.Verb)
	if s.Branch != "" {
		l += " (" + s.Branch + ")"
	}
	if s.Round > 0 {
		l += fmt.Sprintf(" (round %d)", s.Round)
	}
	return l
}

// Started prints the step's label.
func (p *Progress) Started(s StepReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastLine, p.phase = time.Now(), ""
	fmt.Fprintf(p.w, "%s\n", p.label(s))
}

// Progress advances the bar, or prints a plain line now and then.
func (p *Progress) Progress(s StepReport, t Tick) {
	p.mu.Lock()
	defer p.mu.Unlock()
	what := tickLabel(s, t)
	if p.terminal {
		p.drawBar(s, t, what)
		return
	}
	if what != p.phase {
		p.phase, p.phaseStart, p.phaseDone = what, time.Now(), t.Done
	}
	if time.Since(p.lastLine) < p.Every && t.Done != t.Total {
		return
	}
	p.lastLine = time.Now()
	fmt.Fprintf(p.w, "  %s %d/%d %s%s%s\n", what, t.Done, t.Total, t.Unit, lossText(t), p.rateText(t))
}

// rateText is the phase's rate since its first tick, or "" before a
// second tick has come.
func (p *Progress) rateText(t Tick) string {
	secs := time.Since(p.phaseStart).Seconds()
	if t.Done <= p.phaseDone || secs <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%.1f %s/s)", float64(t.Done-p.phaseDone)/secs, t.Unit)
}

func tickLabel(s StepReport, t Tick) string {
	if t.Epochs > 0 {
		return fmt.Sprintf("epoch %d/%d", t.Epoch, t.Epochs)
	}
	return s.Verb
}

func lossText(t Tick) string {
	if t.Epochs == 0 {
		return ""
	}
	return fmt.Sprintf(" loss %.4f", t.Loss)
}

func (p *Progress) drawBar(s StepReport, t Tick, what string) {
	key := fmt.Sprintf("%d/%s/%d", s.Index, what, t.Total)
	if p.bar == nil || p.barKey != key {
		p.finishBar()
		p.barKey = key
		p.bar = progressbar.NewOptions(t.Total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("  "+what),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(t.Unit),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30), progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
	}
	if t.Epochs > 0 {
		p.bar.Describe(fmt.Sprintf("  %s%s", what, lossText(t)))
	}
	p.bar.Set(t.Done)
}

func (p *Progress) finishBar() {
	if p.bar != nil && !p.bar.IsFinished() {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
	p.bar = nil
}

// Finished prints the step's status, time and summary.
func (p *Progress) Finished(s StepReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishBar()
	switch s.Status {
	case StatusFailed, StatusInterrupted:
		fmt.Fprintf(p.w, "%s %s after %.1fs\n", p.label(s), s.Status, s.Seconds)
	case StatusCached, StatusRestored:
		fmt.Fprintf(p.w, "%s cached: %s\n", p.label(s), s.Summary)
	case StatusSkipped:
		fmt.Fprintf(p.w, "%s skipped\n", p.label(s))
	default:
		fmt.Fprintf(p.w, "  done in %.1fs: %s\n", s.Seconds, s.Summary)
	}
}

// Close ends a bar left open.
func (p *Progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finishBar()
}

// keyMetrics are shown in the summary table, in this order: evaluate's,
// then evaluate robustness's headline (robustnessMetrics; the per-
// corruption and per-eps figures stay in report.json), then training's
// and export's.
var keyMetrics = append(append([]string{"accuracy", "loss"}, robustnessMetrics...),
	"train_loss", "train_accuracy", "size_bytes", "latency_ms_b1", "latency_ms_b64", "file_bytes")

// WriteSummary prints the report as a table: step, verb, line, status,
// seconds and the key metrics.
func WriteSummary(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tVERB\tLINE\tSTATUS\tSECONDS\tMETRICS")
	for _, s := range r.Steps {
		verb := s.Verb
		if s.Branch != "" {
			verb += " [" + s.Branch + "]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%.1f\t%s\n", s.Index, verb, s.Line, s.Status, s.Seconds, keyText(s.Metrics))
	}
	return tw.Flush()
}

func keyText(m map[string]float64) string {
	var parts []string
	for _, k := range keyMetrics {
		if v, ok := m[k]; ok {
			parts = append(parts, k+"="+check.FormatMetric(k, v))
		}
	}
	return strings.Join(parts, " ")
}
