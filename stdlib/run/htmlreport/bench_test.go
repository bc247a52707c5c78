package htmlreport

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/qpipe/qpipe/stdlib/run"
)

// fiftySteps is a 50-step run: data and a 5-epoch training, then a sweep
// of 8 branches (QAT with 20 epochs of curves and 3 layers, evaluate,
// two expects, robustness) and a 2-step tail.
func fiftySteps() *run.Report {
	base := fullReport()
	r := &run.Report{Recipe: base.Recipe, Device: "cpu", Seed: 1, Final: base.Final, Steps: base.Steps[:4:4]}
	qat, ev, gate := base.Steps[7], base.Steps[8], base.Steps[9]
	for b := 0; b < 8; b++ {
		branch := fmt.Sprintf("bits=%d", b+1)
		for _, s := range []run.StepReport{qat, ev, gate, gate, base.Steps[5]} {
			s.Index, s.Branch = len(r.Steps), branch
			r.Steps = append(r.Steps, s)
		}
	}
	for len(r.Steps) < 50 {
		s := base.Steps[3]
		s.Index = len(r.Steps)
		r.Steps = append(r.Steps, s)
	}
	return r
}

// BenchmarkRender50Steps renders report.html of a 50-step run and
// reports the page's size.
func BenchmarkRender50Steps(b *testing.B) {
	r := fiftySteps()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Render(&buf, Page{Report: r, Source: []byte("model mlp\n")}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1024, "KiB/page")
}
